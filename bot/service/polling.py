"""Polling one feed: fetch → (unchanged? stop) → parse → new or edited items → ingest.

Every poll ends by recording what happened on the feed (validators, health, the
next poll time, failures and admin alerts) in one transaction. Each item is marked
as shown as soon as it is stored, so a poll that dies half-way (crash, shutdown, a
lost lease) leaves only the unread items for the next poll; ingesting an item twice
would be harmless (the second time is ``UNCHANGED``) but costs a full extraction.
Any exception of a poll is a failure *of that feed*, recorded like a timeout.

What is cheap is done first. Most polls end at the conditional GET (304) or at the
body hash (some servers ignore validators but send identical bytes). Of a changed
feed only the items whose text changed *in this feed* are ingested, and at most
``max_items`` of them per poll, newest first: a feed of 100,000 items is read over
many short polls (its first read takes the newest and passes over its archive),
never in one poll that outlives its lease.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from bot.clock import Clock, utc_now
from bot.domain.admin import AdminAlert
from bot.domain.articles import Article
from bot.domain.feeds import BackoffPolicy, Feed, PollOutcome, ReadCounts, after_poll
from bot.fetching import Fetcher, FetchError, Validators, redact_urls_in
from bot.ingest.errors import FeedReadError, IngestError
from bot.ingest.feeds import FeedItem, read_feed
from bot.ingest.pages import with_page_text
from bot.ports import UnitOfWorkFactory
from bot.service.bus import MessageBus
from bot.service.ingest import IngestArticle, Outcome

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PollReport:
    """What one poll did (for logs, metrics and tests)."""

    feed_id: str
    ok: bool
    not_modified: bool = False
    unchanged_body: bool = False
    items: int = 0
    changed_items: int = 0
    ingested: int = 0
    alerts: int = 0
    quiet: bool = False
    error: str | None = None
    admin: tuple[AdminAlert, ...] = ()
    saved: bool = True
    """False if the feed's lease was lost meanwhile (another worker's result stands)."""
    deferred: int = 0
    """Changed items over the cap, left for the next polls."""
    passed_over: int = 0
    """Older items over the cap at the first read, marked as seen and not read."""
    skipped_entries: int = 0
    already_polling: bool = False
    """This process was still polling the feed: nothing was done the second time."""


DEFAULT_MAX_ITEMS_PER_POLL = 200
"""More than any ordinary news feed lists (20-100 items), few enough that a poll of a
feed with 100,000 stays minutes short of the lease."""


@dataclass(frozen=True, slots=True)
class PollerConfig:
    backoff: BackoffPolicy = BackoffPolicy()
    full_text: bool = True
    """Fetch the article page for items that carry only a summary."""
    max_items: int = DEFAULT_MAX_ITEMS_PER_POLL
    """Changed items ingested per poll at most, newest first."""

    def __post_init__(self) -> None:
        if self.max_items < 1:
            raise ValueError("max_items must be at least 1")


class FeedPoller:
    """Polls one leased feed at a time; several polls may run concurrently.

    One poller serves one process, and it never polls a feed twice at once: a feed
    whose poll outlived its lease can be claimed again by this same process, and two
    polls of one feed would ingest the same items side by side.
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        bus: MessageBus,
        fetcher: Fetcher,
        *,
        owner: str,
        config: PollerConfig = PollerConfig(),
        clock: Clock = utc_now,
        rng: random.Random | None = None,
    ) -> None:
        self._uow_factory = uow_factory
        self._bus = bus
        self._fetcher = fetcher
        self._owner = owner
        self._config = config
        self._clock = clock
        self._rng = rng or random.Random()
        self._in_flight: set[str] = set()

    def polling(self, feed_id: str) -> bool:
        """Whether this poller is polling ``feed_id`` right now."""
        return feed_id in self._in_flight

    async def poll(self, feed: Feed) -> PollReport:
        """Poll ``feed`` (leased by this poller's owner) and record the outcome.

        Whatever goes wrong is recorded on the feed as a failed poll (failure count,
        back-off, admin alert after ``failing_after``): a fetch or parse error, and
        also anything unforeseen — a MemoryError from a hostile body, a bug — so that
        no input can leave a feed looking healthy while it is never read.
        """
        if feed.id in self._in_flight:
            log.warning(
                "feed %s (%s): still being polled by this process; not polled twice",
                feed.id,
                feed.label,
            )
            return PollReport(feed.id, ok=True, saved=False, already_polling=True)
        self._in_flight.add(feed.id)
        try:
            return await self._poll(feed)
        except Exception as exc:  # any failure is the feed's failure
            reason = redact_urls_in(f"{type(exc).__name__}: {exc}".rstrip(": "))
            log.error(
                "feed %s (%s): poll failed unexpectedly: %s",
                feed.id,
                feed.label,
                reason,
                exc_info=not isinstance(exc, MemoryError),
            )
            outcome = PollOutcome(self._clock(), ok=False, error=f"poll failed: {reason}")
            return await self._finish(feed, outcome)
        finally:
            self._in_flight.discard(feed.id)

    async def _poll(self, feed: Feed) -> PollReport:
        validators = Validators(feed.etag, feed.last_modified)
        try:
            fetched = await self._fetcher.fetch(feed.url, validators=validators)
        except FetchError as exc:
            return await self._finish(
                feed,
                PollOutcome(self._clock(), ok=False, error=str(exc), permanent=exc.permanent),
            )
        # The schedule counts from the answer, not from the claim: a request that waited
        # for a connection under load must not bring the next one closer to it.
        answered = self._clock()
        ok = PollOutcome(
            answered,
            ok=True,
            not_modified=fetched.not_modified,
            etag=fetched.validators.etag,
            last_modified=fetched.validators.last_modified,
            body_hash=fetched.content_hash or None,
        )
        if fetched.not_modified:
            return await self._finish(feed, ok, PollReport(feed.id, ok=True, not_modified=True))
        if fetched.content_hash == feed.last_hash:
            return await self._finish(feed, ok, PollReport(feed.id, ok=True, unchanged_body=True))
        try:
            # feedparser is pure Python: a large or hostile document takes a second, which
            # must not stall every other poll's I/O on the loop.
            read = await asyncio.to_thread(
                read_feed, fetched.body, feed_url=fetched.url, source=feed.url
            )
        except FeedReadError as exc:
            return await self._finish(
                feed, PollOutcome(answered, ok=False, error=f"unreadable feed: {exc.reason}")
            )
        for problem in read.errors:
            # An entry the desk will never see is worth a warning, not a debug line.
            log.warning("feed %s (%s): skipped an entry: %s", feed.id, feed.label, problem.reason)
        items = _one_per_article(read.items)
        return await self._ingest_items(
            feed, items, replace(ok, read=ReadCounts(skipped=len(read.errors)))
        )

    async def _ingest_items(self, feed: Feed, items: list[FeedItem], ok: PollOutcome) -> PollReport:
        now = ok.at
        async with self._uow_factory() as uow:
            shown = await uow.feeds.item_hashes(feed.id, [i.article.id for i in items])
        changed = [i for i in items if shown.get(i.article.id) != i.article.content_hash]
        quiet = not feed.primed
        chosen, rest = _cap(changed, self._config.max_items, now)
        # At the first read, what is over the cap is the feed's archive: marked as seen,
        # never read (reading it on later polls would alert on history). Later, it is
        # news that came faster than the cap: left unmarked for the next polls.
        passed_over = {i.article.id: i.article.content_hash for i in rest} if quiet else {}
        deferred = 0 if quiet else len(rest)
        if rest:
            log.warning(
                "feed %s (%s): %d changed items, over the cap of %d per poll; the newest "
                "%d read, %d %s",
                feed.id,
                feed.label,
                len(changed),
                self._config.max_items,
                len(chosen),
                len(rest),
                "passed over (first read)" if quiet else "left for the next polls",
            )
        ingested = alerts = marked_new = 0
        complete = True
        for item in _oldest_first(chosen, now):
            article = item.article
            if item.summary_only and item.link and self._config.full_text:
                article = await self._full_text(item)
            try:
                result = await self._bus.handle(IngestArticle(article, now, quiet=quiet))
            except Exception:
                # Not the feed's fault (e.g. the database is briefly unavailable): the item
                # stays unmarked and the body hash unrecorded, so the next poll retries it.
                log.exception("feed %s: ingesting %s failed", feed.id, article.id)
                complete = False
                continue
            # Marked as soon as stored: a poll cut short (a crash, a lost lease) must not
            # leave the next poll to ingest it again.
            await self._mark(feed.id, {item.article.id: item.article.content_hash}, now)
            marked_new += item.article.id not in shown
            if result.outcome is not Outcome.UNCHANGED:
                ingested += 1
            alerts += len(result.alerts)
        # An incomplete poll forgets the validators and the body hash, so that the next
        # poll reads the whole feed again instead of being told "not modified"; so does
        # a capped one, whose next poll must read the items it left.
        assert ok.read is not None
        outcome = replace(
            ok,
            new_items=marked_new + len(passed_over),
            read=replace(ok.read, deferred=deferred, passed_over=len(passed_over)),
        )
        if not complete or deferred:
            outcome = replace(outcome, etag=None, last_modified=None, body_hash=None)
        report = PollReport(
            feed.id,
            ok=True,
            items=len(items),
            changed_items=len(changed),
            ingested=ingested,
            alerts=alerts,
            quiet=quiet,
            deferred=deferred,
            passed_over=len(passed_over),
            skipped_entries=ok.read.skipped,
        )
        return await self._finish(feed, outcome, report, marks=passed_over)

    async def _mark(self, feed_id: str, marks: dict[str, str], now: datetime) -> None:
        async with self._uow_factory() as uow:
            await uow.begin_write()
            await uow.feeds.mark_items(feed_id, marks, now)
            await uow.commit()

    async def _full_text(self, item: FeedItem) -> Article:
        """The item's article with its page's text; the summary stays if the page fails.

        The page belongs to whoever the feed links to, so no failure of it — a refused
        encoding, a page that breaks the HTML reader, memory — may end the feed's poll.
        """
        link = item.link
        assert link is not None
        try:
            page = await self._fetcher.fetch(link)
            article = await asyncio.to_thread(with_page_text, item.article, page.body, url=page.url)
        except (FetchError, IngestError) as exc:
            log.info("full text of %s unavailable, keeping the summary: %s", item.article.id, exc)
            return item.article
        except Exception as exc:  # a stranger's page must not end the poll
            log.warning(
                "full text of %s failed (%s), keeping the summary: %s",
                item.article.id,
                type(exc).__name__,
                redact_urls_in(str(exc))[:200],
            )
            return item.article
        return article

    async def _finish(
        self,
        feed: Feed,
        outcome: PollOutcome,
        report: PollReport | None = None,
        *,
        marks: dict[str, str] | None = None,
    ) -> PollReport:
        """Record the poll on the feed (and the items it showed); report what happened."""
        transition = after_poll(feed, outcome, self._config.backoff, self._rng)
        async with self._uow_factory() as uow:
            await uow.begin_write()
            saved = await uow.feeds.save(transition.feed, lease_owner=self._owner)
            admin: list[AdminAlert] = []
            if saved:
                if marks:
                    await uow.feeds.mark_items(feed.id, marks, outcome.at)
                for alert in transition.admin:
                    if await uow.admin_alerts.add(alert):
                        admin.append(alert)
            await uow.commit()
        if not saved:
            log.warning("feed %s: lease lost before the poll finished; result dropped", feed.id)
        if admin:
            await self._bus.publish_admin(admin)
        if not outcome.ok:
            log.warning(
                "feed %s (%s) failed: %s",
                feed.id,
                feed.label,
                redact_urls_in(outcome.error or "unknown error"),
            )
        return replace(
            report or PollReport(feed.id, ok=outcome.ok),
            ok=outcome.ok,
            error=outcome.error,
            admin=tuple(admin),
            saved=saved,
        )


def _one_per_article(items: Sequence[FeedItem]) -> list[FeedItem]:
    """One item per article id: the newest by date, else the first listed.

    Some feeds put an updated copy of an entry on top and leave the stale one further
    down; taking both would make them alternate as revisions of each other.
    """
    chosen: dict[str, FeedItem] = {}
    for item in items:
        seen = chosen.get(item.article.id)
        if seen is None or (
            item.article.published is not None
            and (seen.article.published is None or item.article.published > seen.article.published)
        ):
            chosen[item.article.id] = item
    return list(chosen.values())


def _cap(items: list[FeedItem], limit: int, now: datetime) -> tuple[list[FeedItem], list[FeedItem]]:
    """The newest ``limit`` items, and the rest (undated ones count as newest, in feed order)."""
    if len(items) <= limit:
        return items, []
    newest = list(reversed(_oldest_first(items, now)))
    return newest[:limit], newest[limit:]


def _oldest_first(items: list[FeedItem], now: datetime) -> list[FeedItem]:
    """Dated items by date; undated ones after, in reverse feed order (feeds list newest first)."""
    undated = [i for i in reversed(items) if i.article.published is None]
    dated = sorted(
        (i for i in items if i.article.published is not None),
        key=lambda i: i.article.published or now,
    )
    return dated + undated
