"""Ingesting one article: the core's story, told in order.

article → claims (extract) → story (group) → changes (detect) → alerts (store),
all of it in one unit of work so that an article, its claims, the story's new
state and the alerts it raised are committed together or not at all: a crash
never leaves an alert without its cause, or a cause whose alert was lost.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from bot.changes.detect import ChangeConfig, Changes, Observed, detect_changes, detect_revision
from bot.clock import Clock, utc_now
from bot.domain.alerts import Alert
from bot.domain.articles import Article
from bot.domain.claims import Extraction
from bot.domain.delivery import Channel
from bot.domain.feeds import RecheckSchedule
from bot.domain.stories import Grouping, Story, StoryProfile, story_id_for
from bot.ports import StoredArticle, UnitOfWork, UnitOfWorkFactory, WatchedArticle
from bot.service.analysis import Analyser, Extractor, ThreadAnalyser, extract_article
from bot.service.routing import route_alerts
from bot.stories.explain import grouping_for
from bot.stories.grouping import GroupingConfig, StoryMatch, nearest_story
from bot.stories.neardup import DEFAULT_THRESHOLD, Fingerprint, fingerprint, is_near_duplicate
from bot.stories.similarity import (
    ArticleFeatures,
    article_features,
    new_profile,
    update_profile,
)

# ``Extractor`` and ``extract_article`` live in ``analysis``; re-exported for their callers.
__all__ = [
    "Extractor",
    "IngestArticle",
    "IngestConfig",
    "IngestResult",
    "Ingestor",
    "Outcome",
    "extract_article",
]


class Outcome(StrEnum):
    NEW = "new"
    REVISED = "revised"
    UNCHANGED = "unchanged"
    """Seen before with the same content: a replay or a re-fetch. Nothing happens."""
    COPY = "copy"
    """Another identity with (nearly) the text of a stored article: one report, two outlets.

    It joins the original's story; its figures confirm rather than alert."""


@dataclass(frozen=True, slots=True)
class IngestArticle:
    """Command: take this article in. ``arrived`` stands in for an unknown publication time."""

    article: Article
    arrived: datetime
    quiet: bool = False
    """For an article not seen before: store it and update its story, but record no
    alerts (a new feed's backlog would otherwise flood the channel with old news).
    A changed version of a known article is news whoever brings it, and alerts."""
    also_to: tuple[Channel, ...] = ()
    """Channels that get this article's alerts whatever they subscribe to (``replay seeds``)."""


@dataclass(frozen=True, slots=True)
class IngestResult:
    article_id: str
    outcome: Outcome
    story_id: str | None
    alerts: tuple[Alert, ...] = ()
    """Alerts raised *and newly recorded* by this ingest (never a repeat)."""
    duplicate_of: str | None = None
    """For a copy: the stored article it repeats."""
    grouping: Grouping | None = None
    """Why the article is in its story (None when nothing happened: seen before)."""
    extraction_failed: str | None = None
    """Why no claims could be read (e.g. extraction ran past its time budget): the
    article is stored without them."""


@dataclass(frozen=True, slots=True)
class IngestConfig:
    candidate_window: timedelta = timedelta(hours=72)
    max_candidates: int = 200
    grouping: GroupingConfig = field(default_factory=GroupingConfig)
    changes: ChangeConfig = field(default_factory=ChangeConfig)
    recheck: RecheckSchedule = field(default_factory=RecheckSchedule)
    near_duplicate_threshold: float = DEFAULT_THRESHOLD
    max_concurrent_assignments: int = 2
    """Ingests of this process inside the story-assignment lock (or queued for it) at once.

    The lock is the whole deployment's, so more would only hold more database
    connections idle: 50 polls in flight once exhausted the connection pool."""


class Ingestor:
    """Handles ``IngestArticle``. Holds only configuration; all state is in the database."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        *,
        extractor: Extractor = extract_article,
        analyser: Analyser | None = None,
        config: IngestConfig = IngestConfig(),
        clock: Clock = utc_now,
    ) -> None:
        """``analyser`` runs extraction and fingerprinting off the event loop (default: a
        thread running ``extractor``; ``claimwatch run`` uses worker processes)."""
        self._uow_factory = uow_factory
        self._analyse = analyser if analyser is not None else ThreadAnalyser(extractor)
        self._config = config
        self._clock = clock
        self._assigning = asyncio.Semaphore(config.max_concurrent_assignments)

    async def close(self) -> None:
        """Stop the extraction workers, if any."""
        await self._analyse.close()

    async def __call__(self, cmd: IngestArticle) -> IngestResult:
        article = cmd.article
        # Re-fetches and replays are the common case: recognise them without extracting.
        async with self._uow_factory() as uow:
            seen = await uow.articles.get(article.id)
        if seen is not None and seen.article.content_hash == article.content_hash:
            return IngestResult(article.id, Outcome.UNCHANGED, seen.story_id)
        # Extraction and fingerprinting are pure and the costly part: do them before
        # taking any lock, and off the event loop (which serves polls, deliveries and
        # /healthz meanwhile).
        analysis = await self._analyse(article)
        extraction, print_ = analysis.extraction, analysis.fingerprint
        observed = Observed.of(article, cmd.arrived)
        # A new article's grouping features are pure too (and the first one loads the
        # gazetteer): computed before the lock, so the database write lock is not held meanwhile.
        features = None
        if seen is None:
            features = await asyncio.to_thread(article_features, article, extraction, observed.at)
        async with self._assigning, self._uow_factory() as uow:
            await uow.lock_story_assignment()
            # Again under the lock: another worker may have stored it since the pre-check.
            existing = await uow.articles.get(article.id)
            if existing is not None and existing.article.content_hash == article.content_hash:
                return IngestResult(article.id, Outcome.UNCHANGED, existing.story_id)
            if existing is not None and existing.story_id is not None:
                result = await self._revise(
                    uow, existing, observed, extraction, cmd, compare=analysis.failure is None
                )
            else:
                original = None if existing else await self._original(uow, article, print_)
                version = existing.version + 1 if existing else 1
                result = await self._new(
                    uow, observed, extraction, cmd, version, original, features
                )
            if analysis.failure is not None:
                result = replace(result, extraction_failed=analysis.failure)
            await uow.articles.add_fingerprint(article.id, print_.keys)
            await self._watch(uow, article, observed, cmd.arrived, fresh=existing is None)
            if result.alerts:
                # The outbox rows are written with the alerts: both or neither.
                await route_alerts(uow, result.alerts, self._clock(), also_to=cmd.also_to)
            await uow.commit()
            return result

    async def _original(
        self, uow: UnitOfWork, article: Article, print_: Fingerprint
    ) -> StoredArticle | None:
        """The stored article this one copies (exactly or nearly), if any."""
        exact = await uow.articles.find_by_hash(article.content_hash)
        if exact is not None:
            return exact
        for candidate in await uow.articles.near_duplicates(print_.keys, limit=5):
            if candidate.article.id == article.id:
                continue
            # Off the loop, like every pass over a whole text (a stored one may be megabytes).
            theirs = await asyncio.to_thread(fingerprint, candidate.article.text)
            if is_near_duplicate(print_, theirs, self._config.near_duplicate_threshold):
                return candidate
        return None

    async def _watch(
        self, uow: UnitOfWork, article: Article, observed: Observed, now: datetime, *, fresh: bool
    ) -> None:
        """Re-fetch the pages of a developing story's young articles to catch edits."""
        if not fresh or not article.url or not article.url.startswith(("http://", "https://")):
            return
        stored = await uow.articles.get(article.id)
        story = await uow.stories.get(stored.story_id) if stored and stored.story_id else None
        if story is None or not story.state.tracked:
            return
        first_seen = min(observed.at, now)
        next_check = self._config.recheck.next_check(first_seen, now)
        if next_check is not None:
            await uow.watches.save(WatchedArticle(article.id, article.url, first_seen, next_check))

    async def _new(
        self,
        uow: UnitOfWork,
        observed: Observed,
        extraction: Extraction,
        cmd: IngestArticle,
        version: int,
        original: StoredArticle | None,
        features: ArticleFeatures | None = None,
    ) -> IngestResult:
        article, at = observed.article, observed.at
        if features is None:  # off the loop: it reads the whole text (maybe megabytes)
            features = await asyncio.to_thread(article_features, article, extraction, at)
        # A copy joins its original's story whatever the grouping score would say.
        story: Story | None = None
        nearest: StoryMatch | None = None
        if original is not None and original.story_id is not None:
            story = await uow.stories.get(original.story_id)
        if story is None:
            candidates = await uow.stories.candidates(
                around=at,
                window=self._config.candidate_window,
                limit=self._config.max_candidates,
                keys=features.signature.index_keys(),
                key_window=self._config.grouping.story_life,
            )
            nearest = nearest_story(features, candidates, config=self._config.grouping)
            if nearest is not None and nearest.score >= self._config.grouping.threshold:
                story = nearest.story
        if story is not None:
            profile = update_profile(story.profile, features)
        else:
            story = Story(
                id=await _free_story_id(uow, article.id),
                title=_title_of(article),
                created_at=at,
                updated_at=at,
            )
            profile = new_profile(features)
        grouping = grouping_for(
            story.id,
            nearest=nearest,
            threshold=self._config.grouping.threshold,
            copy_of=original.article.id if original is not None else None,
        )
        changes = detect_changes(story, observed, extraction, self._config.changes)
        await uow.articles.save(StoredArticle(article, version, story.id, extraction, cmd.arrived))
        alerts = await self._commit_story(
            uow, story, changes, profile=profile, at=at, quiet=cmd.quiet, grouping=grouping
        )
        if original is not None:
            return IngestResult(
                article.id, Outcome.COPY, story.id, alerts, original.article.id, grouping
            )
        return IngestResult(article.id, Outcome.NEW, story.id, alerts, grouping=grouping)

    async def _revise(
        self,
        uow: UnitOfWork,
        existing: StoredArticle,
        observed: Observed,
        extraction: Extraction,
        cmd: IngestArticle,
        *,
        compare: bool = True,
    ) -> IngestResult:
        """A new version of a stored article. Without ``compare`` (its claims could not
        be read) it is stored, but no alert says its claims changed."""
        assert existing.story_id is not None
        story = await uow.stories.get(existing.story_id)
        await uow.articles.save(
            StoredArticle(
                observed.article, existing.version + 1, existing.story_id, extraction, cmd.arrived
            )
        )
        if story is None or not compare:  # the story was pruned: nothing to compare with
            return IngestResult(observed.article.id, Outcome.REVISED, existing.story_id)
        changes = detect_revision(
            story, observed, existing.extraction, extraction, self._config.changes
        )
        grouping = Grouping("revised", story.id, self._config.grouping.threshold)
        alerts = await self._commit_story(
            uow,
            story,
            changes,
            profile=story.profile,
            at=observed.at,
            quiet=False,
            grouping=grouping,
        )
        return IngestResult(
            observed.article.id, Outcome.REVISED, story.id, alerts, grouping=grouping
        )

    @staticmethod
    async def _commit_story(
        uow: UnitOfWork,
        story: Story,
        changes: Changes,
        *,
        profile: StoryProfile,
        at: datetime,
        quiet: bool,
        grouping: Grouping | None = None,
    ) -> tuple[Alert, ...]:
        updated = replace(
            story,
            state=changes.state,
            profile=profile,
            updated_at=max(story.updated_at, at),
        )
        await uow.stories.save(updated)
        if quiet:
            return ()
        fresh = []
        for alert in changes.alerts:
            alert = replace(alert, grouping=grouping)
            if await uow.alerts.add(alert):
                fresh.append(alert)
        return tuple(fresh)


async def _free_story_id(uow: UnitOfWork, article_id: str) -> str:
    attempt = 0
    while await uow.stories.exists(candidate := story_id_for(article_id, attempt)):
        attempt += 1
    return candidate


def _title_of(article: Article) -> str:
    title = article.title.strip() or article.text.strip().split("\n", 1)[0]
    return title if len(title) <= 120 else title[:119].rstrip() + "…"
