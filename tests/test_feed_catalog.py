"""Managing feeds (catalog, TOML file, CLI) and sharing them out by lease, on real databases."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.domain.feeds import Feed, FeedState
from bot.service.catalog import (
    CatalogConfig,
    FeedCatalog,
    FeedCommandError,
    health_line,
    normalise_feed_url,
)
from storage.uow import SqlUnitOfWork

T0 = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
UowFactory = Callable[[], SqlUnitOfWork]


def catalog(uow_factory: UowFactory, **config: Any) -> FeedCatalog:
    """A catalog whose clock ticks a second per call, ending well before T0."""
    ticks = itertools.count()
    return FeedCatalog(
        uow_factory, CatalogConfig(**config), lambda: T0 - timedelta(hours=1, seconds=-next(ticks))
    )


# --- which URLs may be feeds -----------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://wire.example/rss", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("javascript:alert(1)", "scheme"),
        ("http://user:pw@wire.example/rss", "userinfo"),
        ("http://wire.example/a b", "whitespace"),
        ("http://127.0.0.1/rss", "loopback"),
        ("http://localhost:8080/rss", "localhost"),
        ("http://api.localhost/rss", "localhost"),
        ("http://10.1.2.3/rss", "private"),
        ("http://192.168.0.10/rss", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://[::1]/rss", "loopback"),
        ("http://[::ffff:127.0.0.1]/rss", "loopback"),
        ("http://100.64.0.1/rss", "carrier-grade"),
        ("http://0.0.0.0/rss", "unspecified"),
        ("https:///rss", "no host"),
    ],
)
def test_unsafe_or_unusable_feed_urls_are_refused_with_a_reason(url: str, why: str) -> None:
    with pytest.raises(FeedCommandError) as exc:
        normalise_feed_url(url)
    assert why in str(exc.value)


def test_private_addresses_are_allowed_only_when_configured() -> None:
    assert normalise_feed_url("http://127.0.0.1:8080/rss", allow_private=True) == (
        "http://127.0.0.1:8080/rss"
    )
    with pytest.raises(FeedCommandError):
        normalise_feed_url("ftp://127.0.0.1/rss", allow_private=True)  # still http(s) only


def test_urls_are_normalised_for_duplicate_detection() -> None:
    assert (
        normalise_feed_url(" <HTTPS://Wire.Example/RSS?x=1#top> ") == "https://wire.example/RSS?x=1"
    )
    assert normalise_feed_url("https://wire.example") == "https://wire.example/"


# --- catalog on a database -----------------------------------------------------------


async def test_add_list_pause_resume_remove(uow_factory: UowFactory) -> None:
    cat = catalog(uow_factory, min_interval=timedelta(seconds=30))
    a = await cat.add("https://wire.example/rss", interval_s=60, name="Wire", tags=["World", " "])
    b = await cat.add("https://other.example/feed.xml")
    assert [f.id for f in await cat.all()] == [a.id, b.id]
    assert a.tags == ("world",) and a.interval == timedelta(minutes=1)
    assert b.interval == timedelta(minutes=5) and b.name == "https://other.example/feed.xml"

    with pytest.raises(FeedCommandError, match="already watching"):
        await cat.add("HTTPS://WIRE.EXAMPLE/rss")
    with pytest.raises(FeedCommandError, match="below the minimum"):
        await cat.add("https://third.example/rss", interval_s=5)

    assert (await cat.pause(a.id)).state is FeedState.PAUSED
    assert (await cat.find("https://wire.example/rss")).state is FeedState.PAUSED
    assert (await cat.resume("https://wire.example/rss")).state is FeedState.ACTIVE
    await cat.remove(b.id)
    assert [f.id for f in await cat.all()] == [a.id]
    with pytest.raises(FeedCommandError, match="no feed"):
        await cat.remove(b.id)


async def test_feeds_file_adds_new_and_updates_existing(
    uow_factory: UowFactory, tmp_path: Path
) -> None:
    cat = catalog(uow_factory, min_interval=timedelta(seconds=30))
    await cat.add("https://wire.example/rss", interval_s=60)
    path = tmp_path / "feeds.toml"
    path.write_text(
        '[[feed]]\nurl = "https://wire.example/rss"\nname = "Wire"\ninterval = 120\n\n'
        '[[feed]]\nurl = "https://new.example/atom"\ntags = ["quakes", "asia"]\n',
        encoding="utf-8",
    )
    loaded = await cat.load_file(path)
    assert [(f.url, f.name, f.interval.total_seconds()) for f in loaded] == [
        ("https://wire.example/rss", "Wire", 120.0),
        ("https://new.example/atom", "https://new.example/atom", 300.0),
    ]
    assert len(await cat.all()) == 2
    assert (await cat.load_file(path)) == await cat.all()  # loading again changes nothing


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[[feed]]\nname = 'x'\n", "has no url"),
        ("[[feed]]\nurl = 'http://10.0.0.1/rss'\n", "private"),
        ("[[feed]]\nurl = 'https://a.example/'\ninterval = 'often'\n", "interval"),
        ("feed = 3\n", "array of tables"),
        ("[[feed]\nurl=", "cannot read"),
    ],
)
async def test_a_bad_feeds_file_is_a_clear_error(
    uow_factory: UowFactory, tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "feeds.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(FeedCommandError, match=message):
        await catalog(uow_factory).load_file(path)


def test_health_line_says_what_an_operator_needs() -> None:
    f = replace(
        Feed.new("https://wire.example/rss", now=T0, interval=timedelta(minutes=5)),
        state=FeedState.FAILING,
        failures=4,
        items_seen=17,
        last_success_at=T0,
        last_error="http_status: HTTP 503 (https://wire.example/rss)",
        last_error_at=T0 + timedelta(minutes=20),
    )
    line = health_line(f)
    for part in ("failing", "items 17", "failures 4", "HTTP 503", "2026-11-21 08:00:00", "next"):
        assert part in line


# --- leases ------------------------------------------------------------------------------


async def _claim(uow_factory: UowFactory, owner: str, now: datetime, n: int = 100) -> list[Feed]:
    async with uow_factory() as uow:
        feeds = await uow.feeds.claim_due(now=now, owner=owner, lease=timedelta(minutes=5), limit=n)
        await uow.commit()
    return feeds


async def test_due_feeds_are_leased_to_one_worker_until_the_lease_expires(
    uow_factory: UowFactory,
) -> None:
    cat = catalog(uow_factory)
    for i in range(10):
        await cat.add(f"https://f{i}.example/rss")
    paused = await cat.pause("https://f9.example/rss")

    first = await _claim(uow_factory, "w1", T0, n=6)
    rest = await _claim(uow_factory, "w2", T0)
    assert len(first) == 6 and len(rest) == 3
    assert not {f.id for f in first} & {f.id for f in rest}
    assert paused.id not in {f.id for f in first + rest}
    assert all(
        f.lease_owner == "w1" and f.lease_expires_at == T0 + timedelta(minutes=5) for f in first
    )
    assert await _claim(uow_factory, "w3", T0 + timedelta(minutes=4)) == []

    # w1 dies; after its lease expires w3 takes its feeds over, and w1's late save is refused
    taken = await _claim(uow_factory, "w3", T0 + timedelta(minutes=6))
    assert {f.id for f in taken} == {f.id for f in first + rest}
    async with uow_factory() as uow:
        assert not await uow.feeds.save(replace(first[0], polls=99), lease_owner="w1")
        assert await uow.feeds.save(replace(taken[0], polls=1), lease_owner="w3")
        assert await uow.feeds.release("w3") == len(taken)
        await uow.commit()
    assert len(await _claim(uow_factory, "w4", T0 + timedelta(minutes=6))) == 9


async def test_feeds_not_yet_due_are_not_claimed(uow_factory: UowFactory) -> None:
    cat = catalog(uow_factory)
    f = await cat.add("https://wire.example/rss")
    async with uow_factory() as uow:
        await uow.feeds.save(replace(f, next_poll_at=T0 + timedelta(minutes=5)))
        await uow.commit()
    assert await _claim(uow_factory, "w1", T0 + timedelta(minutes=4)) == []
    assert [x.id for x in await _claim(uow_factory, "w1", T0 + timedelta(minutes=5))] == [f.id]


async def test_concurrent_claims_never_hand_a_feed_to_two_workers(uow_factory: UowFactory) -> None:
    cat = catalog(uow_factory)
    for i in range(40):
        await cat.add(f"https://f{i}.example/rss")
    results = await asyncio.gather(*(_claim(uow_factory, f"w{i}", T0, n=7) for i in range(8)))
    ids = [f.id for feeds in results for f in feeds]
    assert len(ids) == len(set(ids)) == 40


# --- the command line ------------------------------------------------------------------


def test_feeds_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    assert (
        main(
            [
                "feeds",
                "--db",
                db,
                "add",
                "https://wire.example/rss",
                "--interval",
                "120",
                "--name",
                "Wire",
                "--tags",
                "world,quakes",
            ]
        )
        == 0
    )
    assert "added f-" in capsys.readouterr().out
    assert main(["feeds", "--db", db, "add", "http://169.254.169.254/latest"]) == 1
    assert "link-local" in capsys.readouterr().err
    assert main(["feeds", "--db", db, "list", "--format", "json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["name"] == "Wire" and listed["tags"] == ["world", "quakes"]
    assert listed["interval_s"] == 120 and listed["state"] == "active"
    assert main(["feeds", "--db", db, "pause", listed["id"]]) == 0
    assert main(["feeds", "--db", db, "list"]) == 0
    assert "paused" in capsys.readouterr().out
    assert main(["feeds", "--db", db, "remove", "https://wire.example/rss"]) == 0
    assert main(["feeds", "--db", db, "remove", "https://wire.example/rss"]) == 1
    assert main(["feeds", "--db", db, "list"]) == 0
    assert "no feeds" in capsys.readouterr().out
