"""Change detection: what a new article changes in what a story knew."""
