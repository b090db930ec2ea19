"""Fetching policy: what a fetch may do, what it returns, and how it fails.

The core never imports an HTTP client; ``adapters/http_fetch.py`` implements the
:class:`Fetcher` port with httpx. What lives here is pure and testable without a
network: the limits, the result and error types, and the two guards every fetch
applies before it touches the network — :func:`check_url` (is this URL something we
are willing to fetch at all?) and :func:`address_allowed` (may we connect to the
address a host name resolved to?).

The bot fetches URLs that come from feeds and from redirects chosen by strangers, so
without the address guard anyone who can publish a link could make it fetch from the
machine's own services or the cloud metadata endpoint (server-side request forgery).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# An address policy answers "may we connect to this address?". The default is
# ``address_allowed`` with the limits' ``allow_private``; tests inject narrower ones.
AddressPolicy = Callable[[IPAddress], bool]

MAX_URL_LENGTH = 2048

_CGNAT = ipaddress.IPv4Network("100.64.0.0/10")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


@dataclass(frozen=True, slots=True)
class FetchLimits:
    """Bounds on one fetch, so that no single server can stall or flood the bot."""

    timeout_s: float = 15.0
    """Deadline for the whole fetch (resolution, connect, redirects, body)."""
    max_bytes: int = 5 * 1024 * 1024
    """Largest decoded body accepted; larger bodies abort the fetch as they arrive."""
    max_redirects: int = 5
    user_agent: str = "claimwatch/0.1 (+news monitoring bot)"
    allow_private: bool = False
    """Allow loopback/private/link-local targets (tests and intranet deployments only)."""

    def __post_init__(self) -> None:
        if self.timeout_s <= 0:
            raise ValueError("timeout_s must be positive")
        if self.max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        if self.max_redirects < 0:
            raise ValueError("max_redirects must not be negative")


@dataclass(frozen=True, slots=True)
class Validators:
    """HTTP cache validators of a previous response, for a conditional GET.

    Sending them back lets an unchanged feed answer ``304 Not Modified`` with no body,
    which is most polls of most feeds.
    """

    etag: str | None = None
    last_modified: str | None = None

    @property
    def empty(self) -> bool:
        return self.etag is None and self.last_modified is None

    def request_headers(self) -> dict[str, str]:
        """The conditional request headers these validators call for."""
        headers: dict[str, str] = {}
        if self.etag is not None:
            headers["If-None-Match"] = self.etag
        if self.last_modified is not None:
            headers["If-Modified-Since"] = self.last_modified
        return headers


@dataclass(frozen=True, slots=True)
class FetchResult:
    """A successful fetch: a 2xx body, or a 304 meaning "unchanged since validators"."""

    url: str
    """The final URL, after redirects."""
    status: int
    body: bytes
    """The decoded body (one gzip/deflate layer undone); empty for 304."""
    validators: Validators
    """ETag/Last-Modified of this response, to send on the next fetch."""
    not_modified: bool
    content_hash: str
    """sha256 hex digest of ``body``; '' for 304."""
    elapsed_s: float
    redirects: tuple[str, ...] = ()
    """Each URL redirected to, in order (the last one is ``url``)."""


class FetchErrorKind(StrEnum):
    TIMEOUT = "timeout"
    TOO_LARGE = "too_large"
    TOO_MANY_REDIRECTS = "too_many_redirects"
    BLOCKED_ADDRESS = "blocked_address"
    HTTP_STATUS = "http_status"
    NETWORK = "network"
    BAD_URL = "bad_url"
    BAD_ENCODING = "bad_encoding"
    """A Content-Encoding we refuse (stacked, unknown) or a body corrupt for its own."""


# Statuses that say the resource is gone for good; others may recover on a retry.
PERMANENT_STATUSES = frozenset({410})


class FetchError(Exception):
    """A fetch that produced no usable result.

    ``kind`` says what went wrong, ``permanent`` whether retrying the same URL later
    is pointless. The message shows the URL without its query string (which may carry
    tokens); the full URL is in ``url``.
    """

    def __init__(
        self, kind: FetchErrorKind, message: str, *, url: str, status: int | None = None
    ) -> None:
        super().__init__(f"{kind}: {message} ({redact_url(url)})")
        self.kind = kind
        self.reason = message
        self.url = url
        self.status = status

    @property
    def permanent(self) -> bool:
        if self.kind is FetchErrorKind.BAD_URL:
            return True
        return self.kind is FetchErrorKind.HTTP_STATUS and self.status in PERMANENT_STATUSES


class Fetcher(Protocol):
    """Fetches one URL under the policy in this module (see ``adapters/http_fetch``)."""

    async def fetch(self, url: str, *, validators: Validators | None = None) -> FetchResult:
        """GET ``url`` (conditionally when validators are given).

        Raises FetchError for anything but a 2xx or 304 final response.
        """

    async def aclose(self) -> None:
        """Release connections; the fetcher is unusable afterwards."""


def redact_url(url: str) -> str:
    """scheme://host[:port]/path — without userinfo, query or fragment, for logs."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<unparseable url>"
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port is not None else host
    return f"{parts.scheme}://{netloc}{parts.path}"


_URL_IN_TEXT = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s<>\"'`]+")


def redact_urls_in(text: str) -> str:
    """``text`` with every URL in it shown as :func:`redact_url` shows it.

    Error messages come from libraries and servers and may quote a URL whole, with
    the API key in its query string; before such a message is logged, stored or
    sent to admins, its URLs lose query, fragment and user info.
    """
    return _URL_IN_TEXT.sub(_redact_match, text)


def _redact_match(match: re.Match[str]) -> str:
    url = match.group(0)
    # Punctuation after a URL in prose, and the ")" closing a parenthesis around it,
    # belong to the sentence.
    trail = len(url) - len(url.rstrip(".,;:!?"))
    if url[: len(url) - trail].endswith(")") and "(" not in url:
        trail += 1
        trail += len(url[: len(url) - trail]) - len(url[: len(url) - trail].rstrip(".,;:!?"))
    if trail:
        return redact_url(url[:-trail]) + url[-trail:]
    return redact_url(url)


def check_url(url: str) -> None:
    """Refuse URLs we never fetch, before any resolution or connection.

    Only http(s) with a host; no userinfo (credentials in a link are either a leak or
    a trick like ``http://trusted.example@evil.example/``); no control characters or
    spaces; at most MAX_URL_LENGTH characters.
    """

    def bad(reason: str) -> FetchError:
        return FetchError(FetchErrorKind.BAD_URL, reason, url=url)

    if len(url) > MAX_URL_LENGTH:
        raise bad(f"URL longer than {MAX_URL_LENGTH} characters")
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        raise bad("URL contains whitespace or control characters")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError as exc:
        raise bad(f"malformed URL: {exc}") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise bad(f"scheme {parts.scheme!r} is not http or https")
    if "@" in parts.netloc:
        raise bad("URL contains userinfo (user:password@)")
    if not host:
        raise bad("URL has no host")


def canonical_host(host: str) -> str:
    """``host`` as a resolver reads it: ASCII, lower case, no trailing dot, IPs canonical.

    The same machine has many spellings. The C resolver (and every browser) reads
    ``0x7f000001``, ``2130706433``, ``127.1`` and ``0177.0.0.1`` as 127.0.0.1, and
    ``localhost.`` as ``localhost``; fullwidth digits and ideographic dots become ASCII
    under IDNA. A check on the spelling as typed is fooled by all of them, so checks
    look at this form. Raises ValueError for a host no resolver would take.
    """
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")  # NFKC, fullwidth and 。 included
        except UnicodeError:
            raise ValueError("host name is not a valid international name") from None
    host = host.lower().rstrip(".")
    if not host:
        raise ValueError("URL has no host")
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host.split("%", 1)[0]).compressed
        except ValueError:
            raise ValueError("host is not a valid IPv6 address") from None
    ipv4 = loose_ipv4(host)
    return str(ipv4) if ipv4 is not None else host


def loose_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """The IPv4 address a numeric host stands for, read as ``inet_aton`` reads it.

    One to four dot-separated numbers, each decimal, ``0x`` hex or ``0``-led octal; the
    last fills the remaining bytes (``127.1`` is 127.0.0.1, ``2130706433`` is one
    number). None if ``host`` is a name (any part not a number); ValueError if it is
    numeric but out of range.
    """
    parts = host.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()
    numbers = [_ipv4_number(part) for part in parts]
    if not numbers or any(n is None for n in numbers):
        return None
    values = [n for n in numbers if n is not None]
    if (
        len(values) > 4
        or any(n > 255 for n in values[:-1])
        or values[-1] >= 256 ** (5 - len(values))
    ):
        raise ValueError(f"host {host[:60]!r} is numeric but not an IPv4 address")
    address = values[-1]
    for index, n in enumerate(values[:-1]):
        address += n << (8 * (3 - index))
    return ipaddress.IPv4Address(address)


def _ipv4_number(part: str) -> int | None:
    if part[:2] in ("0x", "0X"):
        digits, base = part[2:], 16
        if not digits:
            return 0
    elif len(part) > 1 and part.startswith("0"):
        digits, base = part[1:], 8
    else:
        digits, base = part, 10
    try:
        return int(digits, base) if digits and digits.isalnum() else None
    except ValueError:
        return None


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be fetched or posted to (one line, no part of the URL), or None.

    For URLs from the configuration (webhooks), checked at start-up so that a typo
    is one clear error then, not a traceback on every delivery after.
    """
    try:
        check_url(url)
        port = urlsplit(url).port
    except FetchError as exc:
        return exc.reason
    if port == 0:
        return "port 0 is not a port to connect to"
    return None


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, 6to4, NAT64), if any.

    Connecting to such an address reaches the IPv4 one, so it must pass the same check.
    """
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_class(ip: IPAddress) -> str:
    """A short name for the kind of address, for error messages ("loopback", "global")."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = embedded_ipv4(ip)
        if inner is not None:
            return f"{address_class(inner)} (embedded in IPv6)"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_multicast:
        return "multicast"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local (includes cloud metadata 169.254.169.254)"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return "carrier-grade NAT (100.64.0.0/10)"
    if isinstance(ip, ipaddress.IPv6Address) and ip in ipaddress.IPv6Network("fc00::/7"):
        return "unique local (fc00::/7, includes fd00:ec2::254 metadata)"
    if ip.is_private:
        return "private"
    if ip.is_reserved:
        return "reserved"
    if not ip.is_global:
        return "non-global"
    return "global"


def address_allowed(ip: IPAddress, *, allow_private: bool) -> bool:
    """May the bot connect to ``ip``?

    By default only globally routable unicast addresses: loopback, private (RFC 1918,
    ULA), link-local (the 169.254.169.254 / fd00:ec2::254 metadata services),
    CGNAT, reserved, documentation, unspecified and multicast are refused, and so are
    IPv6 addresses that embed such an IPv4 address. With ``allow_private`` everything
    but unspecified and multicast is allowed.
    """
    if isinstance(ip, ipaddress.IPv6Address):
        inner = embedded_ipv4(ip)
        if inner is not None and not address_allowed(inner, allow_private=allow_private):
            return False
    if ip.is_unspecified or ip.is_multicast:
        return False
    if allow_private:
        return True
    if ip.is_loopback or ip.is_link_local or ip.is_private or ip.is_reserved:
        return False
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return False
    return ip.is_global
