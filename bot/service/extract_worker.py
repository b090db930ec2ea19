"""``python -m bot.service.extract_worker``: one extraction worker of ``ProcessAnalyser``.

Its stdin and stdout carry the bot's messages, so anything printed goes to stderr, which
it shares with the bot; its log lines (the extractor's own, which should never come) take
the bot's format and level from the same environment.
"""

from __future__ import annotations

import sys

from pydantic import ValidationError

from bot.config import Settings
from bot.logs import configure_logging
from bot.service.analysis import serve


def main() -> None:
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must not corrupt the answers
    _log_like_the_bot()
    serve(stdin, stdout)


def _log_like_the_bot() -> None:
    try:
        settings = Settings()
    except ValidationError:
        settings = Settings.model_construct()  # the bot has already said what is wrong
    configure_logging(settings)


if __name__ == "__main__":
    main()
