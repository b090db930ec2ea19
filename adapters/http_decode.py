"""Undoing a response's Content-Encoding ourselves, never past the body cap.

httpx decodes a compressed body whole: each chunk that arrives is inflated with no
bound on the output, and ``gzip, gzip`` is inflated twice, so 1,827 bytes on the wire
became 1 GiB in memory (and seconds of the event loop) before the size cap saw a
single byte. Here the raw bytes are inflated with ``max_length``: never more than
the bytes still allowed, plus one to notice the overflow, in pieces of
``PIECE_BYTES`` so that no single call holds the loop for long.

Only what a news site legitimately sends is accepted: no encoding (``identity``),
``gzip`` (also ``x-gzip``, and several gzip members in a row) or ``deflate`` (zlib
wrapped or raw, as servers disagree). A stacked encoding (``gzip, gzip``) is
refused: no server compresses twice by accident, and every extra layer multiplies
what a few bytes can expand to. So is any other coding (``br``, ``zstd``…), which we
never ask for.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Sequence

PIECE_BYTES = 64 * 1024
"""Largest output of one decompress call: a bounded slice of work between awaits."""

_GZIP = frozenset({"gzip", "x-gzip"})
_DEFLATE = frozenset({"deflate"})
_GZIP_MAGIC = b"\x1f\x8b"


class EncodingRefused(ValueError):
    """The response's Content-Encoding is one we do not decode."""


class CorruptBody(ValueError):
    """The compressed body is not valid for its declared encoding."""


def content_coding(values: Sequence[str]) -> str | None:
    """The one coding to undo (``"gzip"``/``"deflate"``), None for none; else refuse.

    ``values`` are the Content-Encoding header values, each possibly a comma list.
    """
    codings = [
        token.strip().lower()
        for value in values
        for token in value.split(",")
        if token.strip() and token.strip().lower() != "identity"
    ]
    if not codings:
        return None
    if len(codings) > 1:
        raise EncodingRefused(
            f"stacked Content-Encoding {', '.join(codings)!r} refused (one layer at most)"
        )
    coding = codings[0]
    if coding in _GZIP:
        return "gzip"
    if coding in _DEFLATE:
        return "deflate"
    raise EncodingRefused(f"Content-Encoding {coding[:40]!r} is not supported (gzip, deflate)")


def _zlib_wrapped(head: bytes) -> bool:
    """Whether a deflate body starts with a zlib header (RFC 1950) rather than raw data."""
    cmf, flg = head[0], head[1]
    return cmf & 0x0F == 8 and (cmf << 8 | flg) % 31 == 0


class BoundedDecoder:
    """Inflates a body chunk by chunk, refusing to produce more than ``limit`` + 1 bytes.

    ``feed`` yields decoded pieces of at most ``PIECE_BYTES``; once ``produced`` passes
    ``limit`` (``over_limit``) it produces nothing more, and the caller aborts the fetch.
    """

    def __init__(self, coding: str | None, limit: int) -> None:
        self._coding = coding
        self.limit = limit
        self.produced = 0
        self._head = b""  # deflate: the first bytes, until zlib-wrapped or raw is known
        self._inflater: zlib._Decompress | None = (
            zlib.decompressobj(16 + zlib.MAX_WBITS) if coding == "gzip" else None
        )

    @property
    def over_limit(self) -> bool:
        return self.produced > self.limit

    def feed(self, data: bytes) -> Iterator[bytes]:
        """The decoded pieces of ``data`` (raw bytes as they came off the wire)."""
        if self._coding is None:
            self.produced += len(data)
            if data:
                yield data
            return
        if self._inflater is None:  # deflate, not started: sniff its first two bytes
            self._head += data
            if len(self._head) < 2:
                return
            wbits = zlib.MAX_WBITS if _zlib_wrapped(self._head) else -zlib.MAX_WBITS
            self._inflater = zlib.decompressobj(wbits)
            data, self._head = self._head, b""
        yield from self._inflate(data)

    def flush(self) -> Iterator[bytes]:
        """What the inflater still holds once the body has ended."""
        if self._coding is None or self.over_limit:
            return
        if self._inflater is None:  # a deflate body of under two bytes
            if self._head:
                raise CorruptBody(f"truncated {self._coding} body")
            return
        yield from self._inflate(b"")

    def _inflate(self, data: bytes) -> Iterator[bytes]:
        inflater = self._inflater
        assert inflater is not None
        while not self.over_limit:
            budget = min(PIECE_BYTES, self.limit + 1 - self.produced)
            try:
                piece = inflater.decompress(data, budget)
            except zlib.error as exc:
                raise CorruptBody(f"corrupt {self._coding} body: {exc}") from None
            self.produced += len(piece)
            if piece:
                yield piece
            data = inflater.unconsumed_tail
            if inflater.eof and self._coding == "gzip" and inflater.unused_data:
                rest = inflater.unused_data
                if not rest.startswith(_GZIP_MAGIC[: len(rest)]):
                    return  # bytes after the last member are ignored, as browsers do
                # Several gzip members in a row are one valid gzip body.
                self._inflater = inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
                data = rest + data
                continue
            if not data and len(piece) < budget:
                return
