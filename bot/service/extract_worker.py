"""``python -m bot.service.extract_worker``: one extraction worker of ``ProcessAnalyser``.

Its stdin and stdout carry the bot's messages, so anything printed goes to stderr.
"""

from __future__ import annotations

import sys

from bot.service.analysis import serve


def main() -> None:
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must not corrupt the answers
    serve(stdin, stdout)


if __name__ == "__main__":
    main()
