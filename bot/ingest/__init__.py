"""Reading articles from folders, files and feeds, and cleaning scraping noise."""
