"""SQLAlchemy implementations of the core's repositories (``bot.ports``).

Each repository works inside the session of its unit of work and never commits:
transaction boundaries belong to :class:`storage.uow.SqlUnitOfWork`. Queries are
written with SQLAlchemy constructs that compile on both SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, Text, cast, delete, func, insert, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.alerts import Alert
from bot.domain.articles import Article
from bot.domain.claims import Extraction
from bot.domain.stories import Story
from bot.ports import StoredArticle
from storage import serialize
from storage.tables import (
    AlertRow,
    ArticleRow,
    ArticleVersionRow,
    FigureRow,
    FingerprintRow,
    StatementRow,
    StoryKeyRow,
    StoryRow,
)

WROTE = "claimwatch.wrote"
"""``session.info`` flag: this transaction has written (see ``lock_story_assignment``)."""


def _mark_written(session: AsyncSession) -> None:
    session.info[WROTE] = True


class SqlArticleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def _latest(self) -> Select[ArticleRow, ArticleVersionRow]:
        return select(ArticleRow, ArticleVersionRow).join(
            ArticleVersionRow,
            (ArticleVersionRow.article_id == ArticleRow.id)
            & (ArticleVersionRow.version == ArticleRow.version),
        )

    async def get(self, article_id: str) -> StoredArticle | None:
        """The latest stored version of an article, or None."""
        stmt = self._latest().where(ArticleRow.id == article_id)
        row = (await self._session.execute(stmt)).first()
        return None if row is None else _stored(*row)

    async def find_by_hash(self, content_hash: str) -> StoredArticle | None:
        """The earliest-seen article whose latest version has exactly this content."""
        stmt = (
            self._latest()
            .where(ArticleRow.content_hash == content_hash)
            .order_by(ArticleRow.first_seen_at, ArticleRow.id)
            .limit(1)
        )
        row = (await self._session.execute(stmt)).first()
        return None if row is None else _stored(*row)

    async def save(self, stored: StoredArticle) -> None:
        """Store ``stored.version`` of the article and make it the latest.

        Saving the latest version again overwrites it (e.g. to record the story the
        article was assigned to); saving a version older than the latest is a bug in
        the caller and raises ``ValueError``. The claim rows (``figures``,
        ``statements``) are replaced by those of this version.
        """
        s = self._session
        a = stored.article
        seen = stored.seen_at
        row = await s.get(ArticleRow, a.id)
        if row is not None and stored.version < row.version:
            raise ValueError(
                f"article {a.id!r}: version {stored.version} is older than stored {row.version}"
            )
        _mark_written(s)
        if row is None:
            row = ArticleRow(id=a.id, first_seen_at=seen, last_seen_at=seen)
            s.add(row)
        else:
            row.first_seen_at = min(row.first_seen_at, seen)
            row.last_seen_at = max(row.last_seen_at, seen)
        row.version = stored.version
        row.outlet = a.outlet
        row.url = a.url
        row.title = a.title
        row.published_at = a.published
        row.content_hash = a.content_hash
        row.story_id = stored.story_id
        row.source = a.source

        version = await s.get(ArticleVersionRow, (a.id, stored.version))
        if version is None:
            version = ArticleVersionRow(article_id=a.id, version=stored.version)
            s.add(version)
        version.content_hash = a.content_hash
        version.title = a.title
        version.text = a.text
        version.seen_at = seen
        version.extraction = serialize.dump_extraction(stored.extraction)
        # Parents first: the claim rows reference (article_id, version).
        await s.flush()

        await s.execute(delete(FigureRow).where(FigureRow.article_id == a.id))
        await s.execute(delete(StatementRow).where(StatementRow.article_id == a.id))
        # Claim rows are write-once facts: a Core executemany is several times cheaper
        # than ORM objects through the unit of work, and this is the ingest hot path.
        if figures := _figure_rows(stored):
            await s.execute(insert(FigureRow), figures)
        if statements := _statement_rows(stored):
            await s.execute(insert(StatementRow), statements)

    async def for_story(self, story_id: str) -> list[StoredArticle]:
        """Latest versions of a story's articles, oldest first (by publication, else first seen)."""
        stmt = (
            self._latest()
            .where(ArticleRow.story_id == story_id)
            .order_by(
                func.coalesce(ArticleRow.published_at, ArticleRow.first_seen_at),
                ArticleRow.first_seen_at,
                ArticleRow.id,
            )
        )
        rows = (await self._session.execute(stmt)).all()
        return [_stored(a, v) for a, v in rows]

    async def add_fingerprint(self, article_id: str, keys: Sequence[str]) -> None:
        """Index the article under ``keys`` (replacing any keys of an earlier version)."""
        s = self._session
        _mark_written(s)
        await s.execute(delete(FingerprintRow).where(FingerprintRow.article_id == article_id))
        if keys:
            await s.execute(
                insert(FingerprintRow),
                [{"key": k, "article_id": article_id} for k in dict.fromkeys(keys)],
            )

    async def near_duplicates(self, keys: Sequence[str], limit: int) -> list[StoredArticle]:
        """Articles sharing any of ``keys``, most shared keys first, then oldest first."""
        if not keys or limit <= 0:
            return []
        shared = func.count().label("shared")
        ranked = (
            select(FingerprintRow.article_id, shared)
            .where(FingerprintRow.key.in_(list(dict.fromkeys(keys))))
            .group_by(FingerprintRow.article_id)
            .subquery()
        )
        stmt = (
            self._latest()
            .join(ranked, ranked.c.article_id == ArticleRow.id)
            .order_by(ranked.c.shared.desc(), ArticleRow.first_seen_at, ArticleRow.id)
            .limit(limit)
        )
        rows = (await self._session.execute(stmt)).all()
        return [_stored(a, v) for a, v in rows]


def _stored(row: ArticleRow, version: ArticleVersionRow) -> StoredArticle:
    return StoredArticle(
        article=Article(
            id=row.id,
            outlet=row.outlet,
            url=row.url,
            title=version.title,
            text=version.text,
            published=row.published_at,
            content_hash=version.content_hash,
            source=row.source,
        ),
        version=version.version,
        story_id=row.story_id,
        extraction=serialize.load_extraction(version.extraction),
        seen_at=version.seen_at,
    )


def _figure_rows(stored: StoredArticle) -> list[dict[str, Any]]:
    ex: Extraction = stored.extraction
    return [
        dict(
            article_id=stored.article.id,
            version=stored.version,
            story_id=stored.story_id,
            metric=f.metric.value,
            subject=f.subject,
            subject_group=f.subject_group,
            scope_kind=f.scope.kind.value,
            scope_label=f.scope.label,
            value=f.quantity.value,
            high=f.quantity.high,
            qualifier=f.quantity.qualifier.value,
            value_text=f.quantity.display(),
            temporal=f.temporal.value,
            attributed_to=f.attributed_to,
            sentence=f.evidence.sentence,
            start=f.evidence.start,
            end=f.evidence.end,
        )
        for f in ex.figures
    ]


def _statement_rows(stored: StoredArticle) -> list[dict[str, Any]]:
    return [
        dict(
            article_id=stored.article.id,
            version=stored.version,
            story_id=stored.story_id,
            speaker=st.speaker,
            speaker_role=st.role,
            verb=st.verb,
            text=st.text,
            direct=st.direct,
            official=st.official,
            sentence=st.evidence.sentence,
            start=st.evidence.start,
            end=st.evidence.end,
        )
        for st in stored.extraction.statements
    ]


class SqlStoryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, story_id: str) -> Story | None:
        row = await self._session.get(StoryRow, story_id)
        return None if row is None else _story(row)

    async def exists(self, story_id: str) -> bool:
        stmt = select(StoryRow.id).where(StoryRow.id == story_id)
        return (await self._session.execute(stmt)).first() is not None

    async def candidates(
        self,
        *,
        around: datetime,
        window: timedelta,
        limit: int,
        keys: Sequence[str] = (),
        key_window: timedelta | None = None,
    ) -> list[Story]:
        """Stories an article of time ``around`` may belong to.

        Those whose ``created_at``…``updated_at`` span overlaps ``around`` ± ``window``
        (most recently updated first), and those indexed under any of ``keys`` whose
        span overlaps ``around`` ± ``key_window`` (most keys in common first), up to
        ``limit`` of each.
        """
        stmt = (
            select(StoryRow)
            .where(StoryRow.updated_at >= around - window, StoryRow.created_at <= around + window)
            .order_by(StoryRow.updated_at.desc(), StoryRow.id)
            .limit(limit)
        )
        found = {r.id: r for r in (await self._session.scalars(stmt)).all()}
        if keys and key_window is not None:
            for row in await self._by_keys(around, keys, key_window, limit):
                found.setdefault(row.id, row)
        return [_story(r) for r in found.values()]

    async def _by_keys(
        self, around: datetime, keys: Sequence[str], window: timedelta, limit: int
    ) -> Sequence[StoryRow]:
        shared = func.count().label("shared")
        ranked = (
            select(StoryKeyRow.story_id, shared, func.max(StoryKeyRow.last_at).label("last"))
            .where(
                StoryKeyRow.key.in_(list(dict.fromkeys(keys))),
                StoryKeyRow.last_at >= around - window,
                StoryKeyRow.first_at <= around + window,
            )
            .group_by(StoryKeyRow.story_id)
            .subquery()
        )
        stmt = (
            select(StoryRow)
            .join(ranked, ranked.c.story_id == StoryRow.id)
            .order_by(ranked.c.shared.desc(), ranked.c.last.desc(), StoryRow.id)
            .limit(limit)
        )
        return (await self._session.scalars(stmt)).all()

    async def save(self, story: Story) -> None:
        """Insert or update (the whole aggregate)."""
        s = self._session
        _mark_written(s)
        row = await s.get(StoryRow, story.id)
        if row is None:
            row = StoryRow(id=story.id)
            s.add(row)
        row.title = story.title
        row.created_at = story.created_at
        row.updated_at = story.updated_at
        row.tracked = story.state.tracked
        row.article_count = story.profile.article_count
        row.profile = serialize.dump_profile(story.profile)
        row.state = serialize.dump_state(story.state)
        await s.flush()
        await self._index(story)

    async def _index(self, story: Story) -> None:
        """Rewrite the story's index keys (its signature and span may have moved)."""
        s = self._session
        await s.execute(delete(StoryKeyRow).where(StoryKeyRow.story_id == story.id))
        keys = story.profile.signature.index_keys()
        if keys:
            first = story.profile.first_at or story.created_at
            last = story.profile.last_at or story.updated_at
            await s.execute(
                insert(StoryKeyRow),
                [
                    {"story_id": story.id, "key": k, "first_at": first, "last_at": last}
                    for k in keys
                ],
            )

    async def search(self, *, query: str | None, tracked_only: bool, limit: int) -> list[Story]:
        """Stories most recently updated first, optionally filtered by ``query``.

        The query matches case-insensitively (ASCII only on SQLite) as a substring of
        the title, of the profile's place names or of its salient terms. Those are
        matched in their JSON text, which is cheap and portable; a database with very
        many stories would want a full-text index instead.
        """
        stmt = select(StoryRow)
        if tracked_only:
            stmt = stmt.where(StoryRow.tracked.is_(True))
        if query and query.strip():
            q = query.strip()
            stmt = stmt.where(
                or_(
                    StoryRow.title.icontains(q, autoescape=True),
                    cast(StoryRow.profile["places"], Text).icontains(q, autoescape=True),
                    cast(StoryRow.profile["terms"], Text).icontains(q, autoescape=True),
                )
            )
        stmt = stmt.order_by(StoryRow.updated_at.desc(), StoryRow.id).limit(limit)
        return [_story(r) for r in (await self._session.scalars(stmt)).all()]


def _story(row: StoryRow) -> Story:
    return Story(
        id=row.id,
        title=row.title,
        created_at=row.created_at,
        updated_at=row.updated_at,
        profile=serialize.load_profile(row.profile),
        state=serialize.load_state(row.state),
    )


class SqlAlertRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, alert: Alert) -> bool:
        """Append the alert; False, writing nothing, if an alert with its key exists.

        ``INSERT … ON CONFLICT (key) DO NOTHING RETURNING seq`` is atomic on both
        backends, so two workers raising the same alert cannot both succeed even
        without the story-assignment lock.
        """
        s = self._session
        values = {
            "key": alert.key,
            "story_id": alert.story_id,
            "type": alert.type.value,
            "severity": alert.severity.value,
            "article_id": alert.article_id,
            "created_at": datetime.now(UTC),
            "payload": serialize.dump_alert(alert),
        }
        insert = postgresql.insert if s.get_bind().dialect.name == "postgresql" else sqlite.insert
        stmt = (
            insert(AlertRow)
            .values(**values)
            .on_conflict_do_nothing(index_elements=[AlertRow.key])
            .returning(AlertRow.seq)
        )
        _mark_written(s)
        seq = (await s.execute(stmt)).scalar_one_or_none()
        return seq is not None

    async def for_story(self, story_id: str, limit: int = 100) -> list[Alert]:
        """The story's latest ``limit`` alerts, newest first."""
        stmt = (
            select(AlertRow.payload)
            .where(AlertRow.story_id == story_id)
            .order_by(AlertRow.seq.desc())
            .limit(limit)
        )
        return [serialize.load_alert(p) for p in (await self._session.scalars(stmt)).all()]

    async def recent(self, limit: int = 20) -> list[Alert]:
        """The latest ``limit`` alerts, newest first."""
        stmt = select(AlertRow.payload).order_by(AlertRow.seq.desc()).limit(limit)
        return [serialize.load_alert(p) for p in (await self._session.scalars(stmt)).all()]
