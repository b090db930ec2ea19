"""``feeds add`` reads a host as the resolver will, and refuses this machine however spelled.

The C resolver (and every browser) reads ``0x7f000001``, ``2130706433``, ``127.1``,
``0177.0.0.1`` and ``0`` as IPv4 addresses and ``localhost.`` as ``localhost``; IDNA
turns fullwidth digits into ASCII. A check of the spelling as typed lets all of them
through, to be stopped only at connect time. Both ways in are tested: the CLI and the
chat command, on a real database; the pure function underneath on many spellings.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.commands import CommandRequest, parse_command
from bot.commands.handlers import Commands
from bot.fetching import canonical_host, loose_ipv4
from bot.service.catalog import CatalogConfig, FeedCatalog, FeedCommandError, normalise_feed_url
from storage.uow import SqlUnitOfWork

UowFactory = Callable[[], SqlUnitOfWork]

LOOPBACK_SPELLINGS = [
    "http://0x7f000001/rss",
    "http://2130706433/rss",
    "http://127.1/rss",
    "http://0177.0.0.1/rss",
    "http://0x7f.0.0.1/rss",
    "http://127.0.0.1./rss",
    "http://0/rss",
    "http://localhost./rss",
    "http://LOCALHOST/rss",
    "http://api.localhost./rss",
    "http://１２７．０．０．１/rss",  # fullwidth digits and dots
    "http://127。0。0。1/rss",  # ideographic full stops
    "http://ｌｏｃａｌｈｏｓｔ/rss",
    "http://[::1]/rss",
    "http://[0:0:0:0:0:0:0:1]/rss",
    "http://[::ffff:7f00:1]/rss",
    "http://[::ffff:127.0.0.1]/rss",
    "http://[::]/rss",
    "http://[fe80::1%25eth0]/rss",
    "http://0xa9fea9fe/latest/meta-data/",  # 169.254.169.254
    "http://012.0.0.1/rss",  # 10.0.0.1 in octal
    "http://3232235521/rss",  # 192.168.0.1
]


@pytest.mark.parametrize("url", LOOPBACK_SPELLINGS)
def test_this_machine_spelled_any_way_is_refused(url: str) -> None:
    with pytest.raises(FeedCommandError, match="may not point at"):
        normalise_feed_url(url)


@pytest.mark.parametrize(
    ("url", "stored"),
    [
        ("http://0x7f000001:8080/rss", "http://127.0.0.1:8080/rss"),
        ("http://127.1/rss", "http://127.0.0.1/rss"),
        ("http://１２７．０．０．１/rss", "http://127.0.0.1/rss"),
        ("http://localhost./rss", "http://localhost/rss"),
        ("http://[0:0:0:0:0:0:0:1]:81/rss", "http://[::1]:81/rss"),
    ],
)
def test_allowed_private_hosts_are_stored_in_canonical_form(url: str, stored: str) -> None:
    assert normalise_feed_url(url, allow_private=True) == stored


@pytest.mark.parametrize(
    ("url", "stored"),
    [
        ("https://Wire.Example./rss", "https://wire.example/rss"),
        ("https://0x08080808/rss", "https://8.8.8.8/rss"),
        ("https://münchen.example/rss", "https://xn--mnchen-3ya.example/rss"),
        ("https://news.example:443/rss?key=1", "https://news.example:443/rss?key=1"),
        ("https://a.123/rss", "https://a.123/rss"),  # a name that ends in digits is a name
    ],
)
def test_public_hosts_are_kept_in_canonical_form(url: str, stored: str) -> None:
    assert normalise_feed_url(url) == stored


@pytest.mark.parametrize(
    "url", ["http://256.0.0.1/rss", "http://1.2.3.4.5/rss", "http://0x1ffffffff/rss"]
)
def test_numeric_hosts_out_of_range_are_refused(url: str) -> None:
    with pytest.raises(FeedCommandError, match="not an IPv4 address"):
        normalise_feed_url(url)


def test_the_loose_ipv4_reader_matches_inet_aton() -> None:
    import ipaddress
    import socket

    for host in ("0x7f000001", "2130706433", "127.1", "0177.0.0.1", "0", "10.1", "1.2.3"):
        expected = ipaddress.IPv4Address(socket.inet_aton(host))
        assert loose_ipv4(host) == expected, host
    assert loose_ipv4("example.com") is None and loose_ipv4("09") is None
    assert canonical_host("ExAmple.COM.") == "example.com"


def test_the_cli_refuses_loopback_spelled_otherwise(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    for url in ("http://0x7f000001/rss", "http://localhost./rss", "http://１２７．０．０．１/"):
        assert main(["feeds", "--db", db, "add", url]) != 0
        assert "may not point at" in capsys.readouterr().err
    assert main(["feeds", "--db", db, "list"]) == 0
    assert "no feeds" in capsys.readouterr().out


async def test_the_chat_command_refuses_loopback_spelled_otherwise(
    uow_factory: UowFactory,
) -> None:
    catalog = FeedCatalog(uow_factory, CatalogConfig(min_interval=timedelta(seconds=60)))
    commands = Commands(uow_factory, catalog)
    for url in ("http://2130706433/rss", "http://127.1/rss", "http://[::ffff:7f00:1]/rss"):
        name, args = parse_command(f"feeds add {url}")
        reply = await commands.handle(CommandRequest(name, args, user="u1", is_admin=True))
        assert reply.error and "may not point at" in reply.render_text()
    assert await catalog.all() == []
