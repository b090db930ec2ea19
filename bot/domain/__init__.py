"""Domain model: plain data, no I/O."""
