"""Turning the bytes of a dropped file into text, or saying clearly why not.

Files arrive from people and scrapers, so their encoding is a guess. The rule,
in order, is deliberately narrow so that a wrong guess is rare and visible:

1. Known binary signatures (PNG, JPEG, GIF, PDF, ZIP/Office, gzip) are rejected by name.
2. A byte-order mark decides: UTF-8 (BOM dropped), UTF-16 or UTF-32 (LE/BE).
3. Without a BOM, NUL bytes mean binary (or BOM-less UTF-16, which we do not guess).
4. Strict UTF-8.
5. Windows-1252 only if the result looks like prose: no control characters and at
   most 15 % non-ASCII characters. Latin-1 is a subset of what this accepts in
   practice; random bytes fail it. Anything else is reported as undecodable
   rather than decoded into mojibake.
6. Whatever the encoding, decoded text with more than 1 % control characters is
   treated as binary.
"""

from __future__ import annotations

import codecs
import re

__all__ = ["DecodeProblem", "decode_text", "html_declared_charset"]

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (or a .docx/.xlsx/.odt document)"),
    (b"\x1f\x8b", "gzip-compressed data"),
)
_BOMS: tuple[tuple[bytes, str, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)
_MAX_CONTROL_RATIO = 0.01
_MAX_NON_ASCII_RATIO_CP1252 = 0.15


class DecodeProblem(ValueError):
    """The bytes are not text we can read; the message says why (without the path)."""


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")  # category Cc except \t \n \f \r


def _control_chars(text: str) -> int:
    return len(_CONTROL.findall(text))


def _check_not_binary(text: str) -> None:
    if text and _control_chars(text) / len(text) > _MAX_CONTROL_RATIO:
        raise DecodeProblem("binary content (too many control characters for text)")


def decode_text(data: bytes, *, declared: str | None = None) -> tuple[str, str]:
    """Decode ``data`` following the module's rule; return ``(text, encoding)``.

    ``declared`` is an encoding the content itself declares (an HTML ``<meta charset>``),
    tried after UTF-8 and before the Windows-1252 guess. Raises ``DecodeProblem``.
    """
    for signature, what in _SIGNATURES:
        if data.startswith(signature):
            raise DecodeProblem(f"binary content: this is {what}, not text")
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError as exc:
                raise DecodeProblem(
                    f"starts with a {name} byte-order mark but is not valid {name} "
                    f"(bad bytes at offset {exc.start})"
                ) from exc
            _check_not_binary(text)
            return text, name
    if b"\x00" in data:
        raise DecodeProblem(
            "binary content (contains NUL bytes); if it is UTF-16 text, save it with a "
            "byte-order mark or as UTF-8"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as utf8_error:
        text = _decode_fallback(data, declared, utf8_error)
        _check_not_binary(text)
        return text, _fallback_name(declared)
    _check_not_binary(text)
    return text, "UTF-8"


def _fallback_name(declared: str | None) -> str:
    return declared or "windows-1252"


def _decode_fallback(data: bytes, declared: str | None, utf8_error: UnicodeDecodeError) -> str:
    if declared:
        try:
            return data.decode(declared)
        except (LookupError, UnicodeDecodeError):
            pass
    bad = data[utf8_error.start : utf8_error.start + 1].hex()
    problem = (
        f"not valid UTF-8 (byte 0x{bad} at offset {utf8_error.start}) and does not look like "
        "Windows-1252 text either; save the file as UTF-8"
    )
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise DecodeProblem(problem) from exc
    non_ascii = len(text) - len(text.encode("ascii", errors="ignore"))
    if _control_chars(text) or non_ascii / max(len(text), 1) > _MAX_NON_ASCII_RATIO_CP1252:
        raise DecodeProblem(problem)
    return text


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_:.-]+)""", re.I)


def html_declared_charset(data: bytes) -> str | None:
    """The encoding an HTML page declares in a ``<meta charset>`` near its top, if any."""
    match = _META_CHARSET.search(data[:4096])
    return match.group(1).decode("ascii", "replace") if match else None
