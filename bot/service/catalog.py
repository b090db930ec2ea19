"""Managing feeds: add, list, remove, pause, resume (from the CLI, a TOML file, or chat).

Feed URLs will come from chat users, so adding one is where the first safety check
happens: only http(s), no credentials in the URL, and no loopback, private,
link-local or metadata address — however it is spelled (``0x7f000001``, ``127.1``,
``localhost.``, fullwidth digits, IPv6 forms) — unless the deployment allows private
URLs. Host names are checked again at every connection (``adapters/http_fetch``),
which is what stops a name that resolves to a private address, or a redirect to one.
"""

from __future__ import annotations

import asyncio
import ipaddress
import math
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bot.clock import Clock, utc_now
from bot.domain.feeds import Feed, FeedState, paused, resumed
from bot.fetching import (
    FetchError,
    IPAddress,
    address_allowed,
    address_class,
    canonical_host,
    check_url,
)
from bot.ports import UnitOfWorkFactory

MAX_INTERVAL = timedelta(days=366)
_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})


class FeedCommandError(ValueError):
    """A feed command that cannot be done; the message is for the person who asked."""


@dataclass(frozen=True, slots=True)
class CatalogConfig:
    default_interval: timedelta = timedelta(minutes=5)
    min_interval: timedelta = timedelta(minutes=1)
    allow_private: bool = False
    max_feeds: int = 100_000


def normalise_feed_url(url: str, *, allow_private: bool = False) -> str:
    """The URL as stored, or FeedCommandError saying why it cannot be a feed.

    The host is stored in its canonical form (``canonical_host``), and that form is
    what is checked: ``http://0x7f000001/``, ``http://127.1/``, ``http://localhost./``
    and fullwidth digits are the loopback they spell. Both ``feeds add`` paths (the
    CLI and the chat command) and the feeds file come through here.
    """
    url = url.strip().strip("<>")  # chat clients wrap links in <…>
    try:
        check_url(url)
    except FetchError as exc:
        raise FeedCommandError(f"not a usable feed URL: {exc.reason}") from None
    parts = urlsplit(url)
    try:
        host = canonical_host(parts.hostname or "")
    except ValueError as exc:
        raise FeedCommandError(f"not a usable feed URL: {exc}") from None
    try:
        ip: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if not allow_private:
        if host in _LOCAL_NAMES or host.endswith(".localhost"):
            raise FeedCommandError("feed URLs may not point at this machine (localhost)")
        if ip is not None and not address_allowed(ip, allow_private=False):
            raise FeedCommandError(f"feed URLs may not point at a {address_class(ip)} address")
    netloc = f"[{host}]" if isinstance(ip, ipaddress.IPv6Address) else host
    if parts.port is not None:
        netloc = f"{netloc}:{parts.port}"
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", parts.query, ""))


class FeedCatalog:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        config: CatalogConfig = CatalogConfig(),
        clock: Clock = utc_now,
    ) -> None:
        self._uow_factory = uow_factory
        self._config = config
        self._clock = clock

    def _interval(self, seconds: float | None) -> timedelta:
        if seconds is None:
            return self._config.default_interval
        if not math.isfinite(seconds) or seconds > MAX_INTERVAL.total_seconds():
            # nan, inf and 1e20 would not fit a timedelta, and next_poll_at must fit a datetime
            raise FeedCommandError(
                f"interval {seconds:g}s is not a number of seconds up to "
                f"{MAX_INTERVAL.total_seconds():g} (a year)"
            )
        interval = timedelta(seconds=seconds)
        if interval < self._config.min_interval:
            raise FeedCommandError(
                f"interval {seconds:g}s is below the minimum of "
                f"{self._config.min_interval.total_seconds():g}s"
            )
        return interval

    async def add(
        self,
        url: str,
        *,
        interval_s: float | None = None,
        name: str | None = None,
        tags: Sequence[str] = (),
        added_by: str | None = None,
    ) -> Feed:
        clean = normalise_feed_url(url, allow_private=self._config.allow_private)
        feed = Feed.new(
            clean,
            now=self._clock(),
            interval=self._interval(interval_s),
            name=(name or "").strip()[:200] or None,
            tags=tags,
            added_by=added_by,
        )
        async with self._uow_factory() as uow:
            await uow.begin_write()
            existing = await uow.feeds.by_url(clean)
            if existing is not None:
                raise FeedCommandError(f"already watching {clean} as {existing.id}")
            if await uow.feeds.count() >= self._config.max_feeds:
                raise FeedCommandError(f"the limit of {self._config.max_feeds} feeds is reached")
            if not await uow.feeds.add(feed):
                raise FeedCommandError(f"feed id {feed.id} is taken; cannot add {clean}")
            await uow.commit()
        return feed

    async def all(self) -> list[Feed]:
        async with self._uow_factory() as uow:
            return await uow.feeds.all()

    async def find(self, ref: str) -> Feed:
        """A feed by id (``f-…``) or URL."""
        ref = ref.strip().strip("<>")
        async with self._uow_factory() as uow:
            feed = await uow.feeds.get(ref)
            if feed is None and "://" in ref:
                try:
                    url = normalise_feed_url(ref, allow_private=True)
                except FeedCommandError:
                    url = ref
                feed = await uow.feeds.by_url(url)
        if feed is None:
            raise FeedCommandError(f"no feed {ref!r} (see `feeds list`)")
        return feed

    async def remove(self, ref: str) -> Feed:
        feed = await self.find(ref)
        async with self._uow_factory() as uow:
            await uow.begin_write()
            await uow.feeds.remove(feed.id)
            await uow.commit()
        return feed

    async def pause(self, ref: str) -> Feed:
        feed = await self.find(ref)
        return await self._save(paused(feed))

    async def resume(self, ref: str) -> Feed:
        feed = await self.find(ref)
        return await self._save(resumed(feed, self._clock()))

    async def _save(self, feed: Feed) -> Feed:
        async with self._uow_factory() as uow:
            await uow.begin_write()
            await uow.feeds.save(feed)
            await uow.commit()
        return feed

    async def load_file(self, path: Path) -> list[Feed]:
        """Add the feeds of a TOML file that are not there yet; update name, tags, interval.

        ``[[feed]]`` tables with ``url`` and optional ``name``, ``interval`` (seconds)
        and ``tags`` (a list). A feed removed from the file is left alone (remove it
        with ``feeds remove``): the file seeds the database, it does not own it.
        """
        try:
            raw = await asyncio.to_thread(path.read_text, encoding="utf-8")
            data = tomllib.loads(raw)
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise FeedCommandError(f"cannot read feeds file {path}: {exc}") from None
        entries = data.get("feed", [])
        if not isinstance(entries, list):
            raise FeedCommandError(f"{path}: `feed` must be an array of tables ([[feed]])")
        loaded: list[Feed] = []
        for n, entry in enumerate(entries, 1):
            if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
                raise FeedCommandError(f"{path}: feed #{n} has no url")
            interval = entry.get("interval")
            if interval is not None and not isinstance(interval, int | float):
                raise FeedCommandError(f"{path}: feed #{n}: interval must be a number of seconds")
            tags = entry.get("tags", [])
            if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
                raise FeedCommandError(f"{path}: feed #{n}: tags must be a list of strings")
            name = entry.get("name")
            url = normalise_feed_url(entry["url"], allow_private=self._config.allow_private)
            async with self._uow_factory() as uow:
                existing = await uow.feeds.by_url(url)
            if existing is None:
                loaded.append(
                    await self.add(
                        url,
                        interval_s=interval,
                        name=name if isinstance(name, str) else None,
                        tags=tags,
                        added_by=f"file:{path.name}",
                    )
                )
                continue
            updated = replace(
                existing,
                name=name if isinstance(name, str) and name.strip() else existing.name,
                interval=self._interval(interval) if interval is not None else existing.interval,
                tags=tuple(t.strip().lower() for t in tags if t.strip()) or existing.tags,
            )
            loaded.append(await self._save(updated) if updated != existing else existing)
        return loaded


def health_line(feed: Feed) -> str:
    """One line of feed health, for `feeds list` and `status`."""

    def when(value: object) -> str:
        return "never" if value is None else f"{value:%Y-%m-%d %H:%M:%S}"

    polled = feed.state is not FeedState.PAUSED and feed.state is not FeedState.DISABLED
    parts = [
        f"{feed.id}  {feed.state.value:<8}  every {feed.interval.total_seconds():g}s",
        f"items {feed.items_seen}",
        f"last ok {when(feed.last_success_at)}",
        f"next {when(feed.next_poll_at) if polled else '-'}",
    ]
    if feed.items_deferred:
        parts.append(
            f"capped: {_count(feed.items_deferred, 'new item')} left for the next polls"
            " (newest read first)"
        )
    if feed.items_passed_over:
        parts.append(f"{_count(feed.items_passed_over, 'older item')} passed over at first read")
    if feed.entries_skipped:
        parts.append(f"{_count(feed.entries_skipped, 'entry', 'entries')} skipped at last read")
    if feed.failures:
        parts.append(f"failures {feed.failures}")
    if feed.last_error:
        parts.append(f"last error {when(feed.last_error_at)}: {feed.last_error}")
    return " · ".join(parts)


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else many or one + 's'}"
