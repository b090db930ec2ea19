"""Reading articles from folders, files and feeds, and cleaning scraping noise.

Platform-free: no HTTP here. Fetching pages and feeds is a separate stage that
hands bytes to ``read_feed`` / ``html_to_text``.
"""

from bot.ingest.cleaning import CleanedText, clean_text
from bot.ingest.errors import ArticleReadError, FeedReadError, IngestError
from bot.ingest.feeds import FeedItem, FeedRead, read_feed
from bot.ingest.files import ArticleHints, read_article_file, read_json_articles
from bot.ingest.html import HtmlArticle, html_to_text
from bot.ingest.readers import ReadResult, read_folder, read_folder_with_errors, read_path

__all__ = [
    "ArticleHints",
    "ArticleReadError",
    "CleanedText",
    "FeedItem",
    "FeedRead",
    "FeedReadError",
    "HtmlArticle",
    "IngestError",
    "ReadResult",
    "clean_text",
    "html_to_text",
    "read_article_file",
    "read_feed",
    "read_folder",
    "read_folder_with_errors",
    "read_json_articles",
    "read_path",
]
