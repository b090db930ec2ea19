"""Light Markdown stripping for articles saved as ``.md``.

We only need the words, not a renderer: markup characters would otherwise end up
in the text the claim extractor reads and in the content hash. The first heading
becomes the title (people save a report as ``# Headline`` then the body). A
leading front-matter block (``---`` … ``---``, as written by static-site tools)
is read for ``title``, ``date``/``published``, ``url``/``link`` and
``outlet``/``source`` as plain ``key: value`` lines, not as full YAML.

Block structure follows Markdown: consecutive lines form one paragraph (they are
hard-wrapped), while headings, list items and quotes stay paragraphs of their own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["MarkdownDoc", "strip_markdown"]

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_FRONT_KEY = re.compile(r"^([A-Za-z_][\w-]*)\s*:\s*(.*?)\s*$")
_ATX = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)\s*$")
_RULE = re.compile(r"^ {0,3}([-*_])(?:\s*\1){2,}\s*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,9}[.)])\s+")
_QUOTE = re.compile(r"^\s*>\s?")
_REF_DEF = re.compile(r"^ {0,3}\[[^\]]+\]:\s*\S+")
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)|!\[([^\]]*)\]\[[^\]]*\]")
_LINK = re.compile(r"\[([^\]]+)\]\((?:[^()]|\([^)]*\))*\)|\[([^\]]+)\]\[[^\]]*\]")
_AUTOLINK = re.compile(r"<((?:https?|mailto):[^>\s]+)>")
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_EM_STAR = re.compile(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])")
_EM_UNDER = re.compile(r"(?<![\w_])_(?=\S)(.+?)(?<=\S)_(?![\w_])")
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
_CODE = re.compile(r"`+([^`]+)`+")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!>~|])")
_FRONT_KEYS = {
    "title": "title",
    "headline": "title",
    "date": "published",
    "published": "published",
    "url": "url",
    "link": "url",
    "outlet": "outlet",
    "source": "outlet",
}


@dataclass(frozen=True, slots=True)
class MarkdownDoc:
    """Plain text of a Markdown document, its title and front-matter values."""

    text: str
    title: str | None = None
    meta: dict[str, str] = field(default_factory=dict)


def strip_markdown(source: str) -> MarkdownDoc:
    """Plain text of ``source``: the first heading as title, inline markup removed."""
    source = source.replace("\r\n", "\n").replace("\r", "\n")
    meta: dict[str, str] = {}
    front = _FRONT_MATTER.match(source)
    if front:
        meta = _front_matter(front.group(1))
        source = source[front.end() :]
    title: str | None = meta.get("title")
    paragraphs: list[str] = []
    current: list[str] = []
    in_fence = False

    def flush() -> None:
        if current:
            paragraphs.append(_inline(" ".join(current)))
            current.clear()

    lines = source.split("\n")
    for index, line in enumerate(lines):
        if _FENCE.match(line):
            flush()
            in_fence = not in_fence
            continue
        if in_fence:
            if line.strip():
                paragraphs.append(line.strip())
            continue
        following = lines[index + 1] if index + 1 < len(lines) else ""
        heading = _ATX.match(line)
        if heading is None and current == [] and line.strip() and _SETEXT.match(following):
            heading_text = line.strip()
            lines[index + 1] = ""  # consume the underline
        elif heading is not None:
            heading_text = heading.group(2)
        else:
            heading_text = None
        if heading_text is not None:
            flush()
            text = _inline(heading_text)
            if title is None and text:
                title = text
            elif text:
                paragraphs.append(text)
            continue
        if not line.strip() or _RULE.match(line) or _REF_DEF.match(line):
            flush()
            continue
        if _LIST_ITEM.match(line) or _QUOTE.match(line):
            flush()
            line = _LIST_ITEM.sub("", _QUOTE.sub("", line), count=1)
            current.append(line.strip())
            flush()
            continue
        current.append(line.strip())
    flush()
    return MarkdownDoc(text="\n\n".join(p for p in paragraphs if p), title=title, meta=meta)


def _front_matter(block: str) -> dict[str, str]:
    meta: dict[str, str] = {}
    for line in block.split("\n"):
        match = _FRONT_KEY.match(line)
        if not match:
            continue
        key = _FRONT_KEYS.get(match.group(1).lower())
        value = match.group(2).strip().strip("\"'")
        if key and value and key not in meta:
            meta[key] = value
    return meta


def _inline(text: str) -> str:
    text = _IMAGE.sub("", text)
    text = _LINK.sub(lambda m: m.group(1) or m.group(2) or "", text)
    text = _AUTOLINK.sub(r"\1", text)
    text = _CODE.sub(r"\1", text)
    for pattern in (_STRONG, _STRIKE):
        text = pattern.sub(lambda m: m.group(m.lastindex or 0), text)
    text = _EM_STAR.sub(r"\1", text)
    text = _EM_UNDER.sub(r"\1", text)
    text = _ESCAPE.sub(r"\1", text)
    return " ".join(text.split())
