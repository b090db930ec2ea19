"""claimwatch's platform-free core: article → claims → story → changes → alerts."""
