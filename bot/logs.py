"""Log lines in one format for every process of the bot (the bot, its extraction workers)."""

from __future__ import annotations

import logging
import sys

from bot.config import Settings


def configure_logging(settings: Settings) -> None:
    """Plain lines for people, or one JSON object per line for a log pipeline, on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    if settings.log_format == "json":
        from pythonjsonlogger.json import JsonFormatter

        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
                timestamp=False,
            )
        )
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    level = getattr(logging, str(settings.log_level).upper(), logging.WARNING)
    logging.basicConfig(level=level, handlers=[handler])
