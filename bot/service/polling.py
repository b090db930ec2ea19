"""Polling one feed: fetch → (unchanged? stop) → parse → new or edited items → ingest.

Every poll ends by recording what happened on the feed (validators, health, the
next poll time, failures and admin alerts) in one transaction, together with the
items this feed has now shown. A poll that dies half-way (crash, shutdown) leaves
the feed due and its unmarked items unmarked, so the next poll does the rest;
ingesting an item twice is harmless (the second time is ``UNCHANGED``).

What is cheap is done first. Most polls end at the conditional GET (304) or at the
body hash (some servers ignore validators but send identical bytes). Of a changed
feed only the items whose text changed *in this feed* are ingested.
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
from bot.domain.feeds import BackoffPolicy, Feed, PollOutcome, after_poll
from bot.fetching import Fetcher, FetchError, Validators
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


@dataclass(frozen=True, slots=True)
class PollerConfig:
    backoff: BackoffPolicy = BackoffPolicy()
    full_text: bool = True
    """Fetch the article page for items that carry only a summary."""


class FeedPoller:
    """Polls one leased feed at a time; several polls may run concurrently."""

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

    async def poll(self, feed: Feed) -> PollReport:
        """Poll ``feed`` (leased by this poller's owner) and record the outcome."""
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
            log.info("feed %s: skipped an entry: %s", feed.id, problem.reason)
        return await self._ingest_items(feed, _one_per_article(read.items), ok)

    async def _ingest_items(self, feed: Feed, items: list[FeedItem], ok: PollOutcome) -> PollReport:
        now = ok.at
        async with self._uow_factory() as uow:
            shown = await uow.feeds.item_hashes(feed.id, [i.article.id for i in items])
        changed = [i for i in items if shown.get(i.article.id) != i.article.content_hash]
        new_items = sum(1 for i in changed if i.article.id not in shown)
        quiet = not feed.primed
        marks: dict[str, str] = {}
        ingested = alerts = 0
        complete = True
        for item in _oldest_first(changed, now):
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
            marks[item.article.id] = item.article.content_hash
            if result.outcome is not Outcome.UNCHANGED:
                ingested += 1
            alerts += len(result.alerts)
        # An incomplete poll forgets the validators and the body hash, so that the next
        # poll reads the whole feed again instead of being told "not modified".
        outcome = replace(ok, new_items=new_items)
        if not complete:
            outcome = replace(outcome, etag=None, last_modified=None, body_hash=None)
        report = PollReport(
            feed.id,
            ok=True,
            items=len(items),
            changed_items=len(changed),
            ingested=ingested,
            alerts=alerts,
            quiet=quiet,
        )
        return await self._finish(feed, outcome, report, marks=marks)

    async def _full_text(self, item: FeedItem) -> Article:
        """The item's article with its page's text; the summary stays if the page fails."""
        link = item.link
        assert link is not None
        try:
            page = await self._fetcher.fetch(link)
            article = await asyncio.to_thread(with_page_text, item.article, page.body, url=page.url)
        except (FetchError, IngestError) as exc:
            log.info("full text of %s unavailable, keeping the summary: %s", item.article.id, exc)
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
            log.warning("feed %s (%s) failed: %s", feed.id, feed.name, outcome.error)
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


def _oldest_first(items: list[FeedItem], now: datetime) -> list[FeedItem]:
    """Dated items by date; undated ones after, in reverse feed order (feeds list newest first)."""
    undated = [i for i in reversed(items) if i.article.published is None]
    dated = sorted(
        (i for i in items if i.article.published is not None),
        key=lambda i: i.article.published or now,
    )
    return dated + undated
