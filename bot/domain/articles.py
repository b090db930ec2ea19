"""Articles: the unit of input.

An article is identified by where it came from, not by what it says, so that a
later edit of the same report is recognised as a *revision* rather than as news:
the feed's guid when there is one, else the canonical URL, else the file name.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_TRACKING_PARAMS = re.compile(r"^(utm_[a-z]+|fbclid|gclid|mc_cid|mc_eid|ref|cmpid|ocid)$", re.I)


def canonical_url(url: str) -> str:
    """Normalise a URL so that the same page seen via different links has one identity.

    Lower-cases scheme and host, drops fragments, default ports, tracking parameters
    and a trailing slash, and sorts the remaining query parameters.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:  # "https://[oops/", "http://host:99999/": no canonical form, keep it
        return url.strip()
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    query = sorted(
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not _TRACKING_PARAMS.match(k)
    )
    path = parts.path or "/"
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/")
    return urlunsplit((scheme, host, path, urlencode(query), ""))


def article_identity(
    *, guid: str | None = None, url: str | None = None, filename: str | None = None
) -> str:
    """The stable identity of an article: guid, else canonical URL, else file name."""
    if guid and guid.strip():
        return f"guid:{guid.strip()}"
    if url and url.strip():
        return f"url:{canonical_url(url)}"
    if filename and filename.strip():
        return f"file:{filename.strip()}"
    raise ValueError("an article needs a guid, a URL or a file name to be identified")


def content_hash(title: str, text: str) -> str:
    """Hash of what the article says, insensitive to whitespace and Unicode form.

    Two fetches of an unchanged page hash alike even if the markup re-flowed, so a
    re-fetch is a no-op; any change of words gives a new hash (a candidate revision).
    """
    norm = unicodedata.normalize("NFKC", f"{title}\n{text}")
    norm = re.sub(r"\s+", " ", norm).strip()
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Article:
    """One report, cleaned of scraping noise, ready for extraction."""

    id: str
    outlet: str
    url: str | None
    title: str
    text: str
    published: datetime | None
    content_hash: str
    source: str = ""
    """Where it was read from (``folder:/path``, ``feed:<url>``, ``file:/path``): for provenance."""

    @classmethod
    def create(
        cls,
        *,
        title: str,
        text: str,
        outlet: str = "unknown",
        url: str | None = None,
        guid: str | None = None,
        filename: str | None = None,
        published: datetime | None = None,
        source: str = "",
    ) -> Article:
        return cls(
            id=article_identity(guid=guid, url=url, filename=filename),
            outlet=outlet or "unknown",
            url=url,
            title=title,
            text=text,
            published=published,
            content_hash=content_hash(title, text),
            source=source,
        )
