"""Requests and replies of the command layer: plain data, no platform markup.

Reply text is *plain text*; the adapter escapes it for its platform and disables
mentions. Titles, quotes and outlet names in a reply come from articles, which are
untrusted, so no command ever builds markup out of them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CommandRequest:
    """One command as a user typed it, with who asked and where."""

    command: str
    args: tuple[str, ...] = ()
    user: str = ""
    channel: str = ""
    is_admin: bool = False
    platform: str = "console"


@dataclass(frozen=True, slots=True)
class ReplyField:
    name: str
    value: str
    inline: bool = False


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    fields: tuple[ReplyField, ...] = ()
    image: bytes | None = None
    """A PNG (timeline charts)."""
    image_name: str | None = None
    ephemeral: bool = False
    """Shown only to the person who asked (errors, help, admin results)."""
    error: bool = False

    @classmethod
    def fail(cls, text: str) -> Reply:
        return cls(text=text, ephemeral=True, error=True)

    def render_text(self) -> str:
        """Everything as plain text (console, and a fallback for any platform)."""
        parts = [self.text]
        for f in self.fields:
            parts.append(f"{f.name}:\n{f.value}" if "\n" in f.value else f"{f.name}: {f.value}")
        return "\n".join(parts)
