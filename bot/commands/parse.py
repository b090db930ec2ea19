"""Parsing command text (``story abc123``, ``feeds add "https://…" --interval 300``).

Chat platforms hand us one string after the command name; users type quotes,
smart quotes, stray backslashes and nonsense. Parsing never raises anything but
:class:`CommandError`, whose message is meant for the user.
"""

from __future__ import annotations

import re
import shlex

MAX_COMMAND_LENGTH = 2000

_SMART_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'"})
# An apostrophe inside a word ("Turkey's", or "Turkey’s" as phones type it) is text, not
# the start of a quoted argument: it is set aside for the split and put back after.
_APOSTROPHE = re.compile(r"(?<=\w)['’](?=\w)")
_KEPT = "\ue000"


class CommandError(ValueError):
    """A command that cannot be understood; the message says how to fix it."""


def parse_command(text: str) -> tuple[str, tuple[str, ...]]:
    """``(command, args)`` from a line such as ``/claimwatch story abc123``.

    A leading ``/claimwatch`` or ``claimwatch`` is dropped; the command is lower-cased.
    """
    if len(text) > MAX_COMMAND_LENGTH:
        raise CommandError(f"that command is too long (over {MAX_COMMAND_LENGTH} characters)")
    cleaned = "".join(ch if ch.isprintable() or ch in " \t" else " " for ch in text)
    cleaned = cleaned.replace(_KEPT, " ")
    cleaned = _APOSTROPHE.sub(_KEPT, cleaned).translate(_SMART_QUOTES).strip()
    try:
        words = [w.replace(_KEPT, "'") for w in shlex.split(cleaned, posix=True)]
    except ValueError as exc:
        raise CommandError(f"cannot read that command: {exc} (check the quotes)") from None
    if words and words[0].lower().lstrip("/") == "claimwatch":
        words = words[1:]
    if not words:
        raise CommandError("no command given; try `help`")
    return words[0].lower().lstrip("/"), tuple(words[1:])


def take_option(args: list[str], name: str) -> str | None:
    """Remove ``--name VALUE`` (or ``--name=VALUE``) from ``args`` and return VALUE."""
    for i, arg in enumerate(args):
        if arg == f"--{name}":
            if i + 1 >= len(args):
                raise CommandError(f"--{name} needs a value")
            value = args[i + 1]
            del args[i : i + 2]
            return value
        if arg.startswith(f"--{name}="):
            del args[i]
            return arg.split("=", 1)[1]
    return None
