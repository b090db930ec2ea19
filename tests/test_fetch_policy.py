"""The pure fetch policy: which addresses and URLs the bot refuses, and error semantics."""

from __future__ import annotations

import ipaddress

import pytest

from bot.fetching import (
    FetchError,
    FetchErrorKind,
    FetchLimits,
    Validators,
    address_allowed,
    address_class,
    check_url,
    redact_url,
    redact_urls_in,
    url_problem,
)

PRIVATE = [
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "127.0.0.1",
    "169.254.169.254",
    "::1",
    "fe80::1",
    "fc00::1",
    "fd00:ec2::254",
    "::ffff:127.0.0.1",
    "::ffff:169.254.169.254",
    "::ffff:10.0.0.1",
    "100.64.0.1",
    "198.18.0.1",  # benchmarking, not global
    "192.0.2.1",  # documentation
    "240.0.0.1",  # reserved
    "2002:7f00:1::",  # 6to4 of 127.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
]
NEVER = ["0.0.0.0", "::", "224.0.0.1", "ff02::1", "::ffff:0.0.0.0"]
PUBLIC = ["93.184.216.34", "2606:4700::1111", "8.8.8.8", "2a00:1450:4001:80b::200e"]


@pytest.mark.parametrize("address", PRIVATE + NEVER)
def test_non_public_addresses_refused_by_default(address: str) -> None:
    assert not address_allowed(ipaddress.ip_address(address), allow_private=False)


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_allowed(address: str) -> None:
    ip = ipaddress.ip_address(address)
    assert address_allowed(ip, allow_private=False)
    assert address_allowed(ip, allow_private=True)


@pytest.mark.parametrize("address", PRIVATE)
def test_allow_private_opens_private_ranges(address: str) -> None:
    assert address_allowed(ipaddress.ip_address(address), allow_private=True)


@pytest.mark.parametrize("address", NEVER)
def test_unspecified_and_multicast_refused_even_with_allow_private(address: str) -> None:
    assert not address_allowed(ipaddress.ip_address(address), allow_private=True)


@pytest.mark.parametrize(
    ("address", "words"),
    [
        ("127.0.0.1", "loopback"),
        ("169.254.169.254", "metadata"),
        ("10.0.0.1", "private"),
        ("100.64.0.1", "carrier-grade"),
        ("fd00:ec2::254", "unique local"),
        ("::ffff:127.0.0.1", "loopback (embedded"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("93.184.216.34", "global"),
    ],
)
def test_address_class_names_the_range(address: str, words: str) -> None:
    assert words in address_class(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/",
        "https://example.com/feed.xml?x=1#top",
        "HTTPS://Example.COM:8443/a/b",
        "http://[2606:4700::1111]/",
        "http://127.0.0.1:8080/",  # the URL check does not judge addresses
    ],
)
def test_check_url_accepts(url: str) -> None:
    check_url(url)


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("ftp://example.com/file", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("gopher://example.com/", "scheme"),
        ("javascript:alert(1)", "scheme"),
        ("example.com/feed", "scheme"),
        ("http:///path-only", "no host"),
        ("http://", "no host"),
        ("http://user:pass@example.com/", "userinfo"),
        ("http://trusted.example@evil.example/", "userinfo"),
        ("http://example.com/" + "a" * 2048, "longer"),
        ("http://example.com:99999/", "malformed"),
        ("http://exa mple.com/", "whitespace"),
        ("http://example.com/\r\nX-Injected: 1", "control"),
    ],
)
def test_check_url_refuses(url: str, words: str) -> None:
    with pytest.raises(FetchError) as info:
        check_url(url)
    assert info.value.kind is FetchErrorKind.BAD_URL
    assert info.value.permanent
    assert words in str(info.value)


@pytest.mark.parametrize(
    ("kind", "status", "permanent"),
    [
        (FetchErrorKind.HTTP_STATUS, 410, True),
        (FetchErrorKind.HTTP_STATUS, 404, False),
        (FetchErrorKind.HTTP_STATUS, 500, False),
        (FetchErrorKind.HTTP_STATUS, 429, False),
        (FetchErrorKind.BAD_URL, None, True),
        (FetchErrorKind.TIMEOUT, None, False),
        (FetchErrorKind.TOO_LARGE, None, False),
        (FetchErrorKind.BLOCKED_ADDRESS, None, False),
        (FetchErrorKind.NETWORK, None, False),
        (FetchErrorKind.TOO_MANY_REDIRECTS, None, False),
    ],
)
def test_permanent(kind: FetchErrorKind, status: int | None, permanent: bool) -> None:
    assert FetchError(kind, "x", url="http://h/", status=status).permanent is permanent


def test_error_message_hides_query_and_credentials() -> None:
    error = FetchError(
        FetchErrorKind.HTTP_STATUS,
        "HTTP 500",
        url="https://u:secret@news.example:8443/feed?token=abc#frag",
        status=500,
    )
    assert "secret" not in str(error) and "token" not in str(error)
    assert "https://news.example:8443/feed" in str(error)
    assert error.url.endswith("token=abc#frag")
    assert redact_url("http://[::1]:81/p?q") == "http://[::1]:81/p"


def test_validators_request_headers() -> None:
    assert Validators().request_headers() == {}
    assert Validators().empty
    assert Validators(
        etag='"v1"', last_modified="Wed, 21 Oct 2015 07:28:00 GMT"
    ).request_headers() == {
        "If-None-Match": '"v1"',
        "If-Modified-Since": "Wed, 21 Oct 2015 07:28:00 GMT",
    }


def test_limits_defaults_and_validation() -> None:
    limits = FetchLimits()
    assert (limits.timeout_s, limits.max_bytes, limits.max_redirects) == (15.0, 5 * 2**20, 5)
    assert limits.user_agent == "claimwatch/0.1 (+news monitoring bot)"
    assert not limits.allow_private
    with pytest.raises(ValueError):
        FetchLimits(timeout_s=0)
    with pytest.raises(ValueError):
        FetchLimits(max_bytes=0)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (
            "timeout (https://u:pw@feeds.example/rss?key=SECRET#x).",
            "timeout (https://feeds.example/rss).",
        ),
        ("see http://a.example/p?k=SECRET, then retry", "see http://a.example/p, then retry"),
        ("two: http://a.example/?k=SECRET http://b.example:8080/q?t=SECRET", None),
        ("no url here at all", "no url here at all"),
        ("wiki http://w.example/Foo_(bar)?k=SECRET", "wiki http://w.example/Foo_(bar)"),
    ],
)
def test_urls_in_error_text_lose_query_and_credentials(text: str, shown: str | None) -> None:
    redacted = redact_urls_in(text)
    assert "SECRET" not in redacted and "pw@" not in redacted
    if shown is not None:
        assert redacted == shown


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://hooks.example/services/T/B/x", None),
        ("http://127.0.0.1:8080/hook", None),
        ("https://hooks.example:99999/x", "Port out of range"),
        ("https://hooks.example:0/x", "port 0"),
        ("https:///x", "no host"),
        ("mailto:desk@example.org", "not http or https"),
    ],
)
def test_url_problem_says_why_in_one_line(url: str, problem: str | None) -> None:
    found = url_problem(url)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found and "\n" not in found
