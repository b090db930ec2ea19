"""Re-checking developing stories: re-fetch young articles' pages to catch edited tolls.

Outlets update a developing story in place ("22 killed" becomes "29 killed" in the
same URL), often without touching the feed entry. Articles of tracked stories are
therefore *watched*: their pages are re-fetched on an age-based schedule
(``RecheckSchedule``: every few minutes while hours old, rarer after, never once
days old), conditionally, and a changed page goes through ingest as a new version of
the article, so change detection raises ``article_revised`` and any ``figure_rise``.
A page that fails in any way (a refused encoding, a MemoryError, a reader bug) is a
failed check of that page, tried again at its next time, never a lost lease.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace

from bot.clock import Clock, utc_now
from bot.domain.articles import content_hash
from bot.domain.feeds import RecheckSchedule
from bot.fetching import Fetcher, FetchError, Validators, redact_urls_in
from bot.ingest.pages import PageReadError, page_text
from bot.ports import UnitOfWorkFactory, WatchedArticle
from bot.service.bus import MessageBus
from bot.service.ingest import IngestArticle, Outcome

log = logging.getLogger(__name__)

MIN_SHARE_OF_TEXT = 0.5
"""A page with less than half the stored text is a paywall or an error page, not an edit."""


@dataclass(frozen=True, slots=True)
class RecheckReport:
    article_id: str
    fetched: bool
    changed: bool = False
    revised: bool = False
    alerts: int = 0
    error: str | None = None
    finished: bool = False
    """The article aged out (or is gone) and is no longer watched."""


class Rechecker:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        bus: MessageBus,
        fetcher: Fetcher,
        *,
        schedule: RecheckSchedule = RecheckSchedule(),
        clock: Clock = utc_now,
    ) -> None:
        self._uow_factory = uow_factory
        self._bus = bus
        self._fetcher = fetcher
        self._schedule = schedule
        self._clock = clock

    async def check(self, watch: WatchedArticle) -> RecheckReport:
        now = self._clock()
        async with self._uow_factory() as uow:
            stored = await uow.articles.get(watch.article_id)
        next_at = self._schedule.next_check(watch.first_seen_at, now)
        if stored is None:
            await self._save(watch, keep=False)
            return RecheckReport(watch.article_id, fetched=False, finished=True)
        later = replace(watch, checks=watch.checks + 1, next_check_at=next_at or now)
        try:
            page = await self._fetcher.fetch(
                watch.url, validators=Validators(watch.etag, watch.last_modified)
            )
        except FetchError as exc:
            log.info("re-check of %s failed: %s", watch.article_id, exc)
            await self._save(later, keep=next_at is not None and not exc.permanent)
            return RecheckReport(watch.article_id, fetched=False, error=str(exc))
        except Exception as exc:  # a stranger's page: whatever it does is its failure
            error = _unexpected(watch, exc)
            await self._save(later, keep=next_at is not None)
            return RecheckReport(watch.article_id, fetched=False, error=error)
        later = replace(
            later,
            etag=page.validators.etag or (watch.etag if page.not_modified else None),
            last_modified=page.validators.last_modified
            or (watch.last_modified if page.not_modified else None),
        )
        if page.not_modified:
            await self._save(later, keep=next_at is not None)
            return RecheckReport(watch.article_id, fetched=True)
        article = stored.article
        try:
            text = await asyncio.to_thread(page_text, page.body, url=page.url, title=article.title)
        except PageReadError as exc:
            await self._save(later, keep=next_at is not None)
            return RecheckReport(watch.article_id, fetched=True, error=str(exc))
        except Exception as exc:  # the HTML reader on hostile markup, memory
            error = _unexpected(watch, exc)
            await self._save(later, keep=next_at is not None)
            return RecheckReport(watch.article_id, fetched=True, error=error)
        page_hash = content_hash(article.title, text)
        later = replace(later, page_hash=page_hash)
        if page_hash == watch.page_hash or len(text) < MIN_SHARE_OF_TEXT * len(article.text):
            await self._save(later, keep=next_at is not None)
            return RecheckReport(watch.article_id, fetched=True)
        edited = replace(article, text=text, content_hash=page_hash)
        result = await self._bus.handle(IngestArticle(edited, now))
        await self._save(later, keep=next_at is not None)
        return RecheckReport(
            watch.article_id,
            fetched=True,
            changed=True,
            revised=result.outcome is Outcome.REVISED,
            alerts=len(result.alerts),
            finished=next_at is None,
        )

    async def _save(self, watch: WatchedArticle, *, keep: bool) -> None:
        """Record the check and release the lease; ``keep=False`` ends the watch."""
        async with self._uow_factory() as uow:
            await uow.begin_write()
            if keep:
                await uow.watches.save(watch)
            else:
                await uow.watches.remove(watch.article_id)
            await uow.commit()


def _unexpected(watch: WatchedArticle, exc: Exception) -> str:
    """One warning line for a re-check that failed in an unforeseen way; its report text.

    Not a "work item failed" traceback with the lease left to expire: the watch is
    saved as checked, and tried again at its next time.
    """
    error = redact_urls_in(f"re-check failed: {type(exc).__name__}: {exc}".rstrip(": "))
    log.warning("re-check of %s: %s", watch.article_id, error[:300])
    return error
