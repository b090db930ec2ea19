"""Ports: the small interfaces the core needs from the outside world.

The core (``bot/``) depends only on these protocols; ``storage/`` implements the
repositories and the unit of work with SQLAlchemy, ``adapters/`` implement the
alert sinks. Nothing here knows about SQL, HTTP or a chat platform.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import Protocol, Self

from bot.domain.alerts import Alert
from bot.domain.articles import Article
from bot.domain.claims import Extraction
from bot.domain.stories import Story


@dataclass(frozen=True, slots=True)
class StoredArticle:
    """An article version as persisted, with what was extracted from it."""

    article: Article
    version: int
    story_id: str | None
    extraction: Extraction
    seen_at: datetime


class ArticleRepository(Protocol):
    async def get(self, article_id: str) -> StoredArticle | None:
        """The latest stored version of an article, or None."""

    async def find_by_hash(self, content_hash: str) -> StoredArticle | None:
        """Any stored article whose latest version has exactly this content (a copy)."""

    async def save(self, stored: StoredArticle) -> None:
        """Store a new version (version 1 for a new article) with its claims.

        Saving the current version again overwrites it; an older version is a ValueError.
        """

    async def for_story(self, story_id: str) -> list[StoredArticle]:
        """Latest versions of a story's articles, oldest first."""


class StoryRepository(Protocol):
    async def get(self, story_id: str) -> Story | None: ...

    async def exists(self, story_id: str) -> bool: ...

    async def candidates(self, *, around: datetime, window: timedelta, limit: int) -> list[Story]:
        """Stories whose articles span a time within ``window`` of ``around``, newest first."""

    async def save(self, story: Story) -> None:
        """Insert or update."""

    async def search(self, *, query: str | None, tracked_only: bool, limit: int) -> list[Story]:
        """Stories newest first, optionally filtered by a text query on title and terms."""


class AlertRepository(Protocol):
    async def add(self, alert: Alert) -> bool:
        """Record an alert; False (and nothing written) if an alert with its key exists."""

    async def for_story(self, story_id: str, limit: int = 100) -> list[Alert]:
        """A story's alerts, newest first."""

    async def recent(self, limit: int = 20) -> list[Alert]:
        """The latest alerts of all stories, newest first."""


class UnitOfWork(Protocol):
    """One transaction over all repositories (cosmicpython's Unit of Work)."""

    # Read-only properties so that implementations may narrow the types (protocol
    # attributes would be invariant).
    @property
    def articles(self) -> ArticleRepository: ...

    @property
    def stories(self) -> StoryRepository: ...

    @property
    def alerts(self) -> AlertRepository: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back whatever was not committed."""

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...

    async def lock_story_assignment(self) -> None:
        """Serialise grouping + change detection across processes for this transaction.

        Call it before any write in the unit of work (SQLite restarts the transaction
        as a write transaction).

        Extraction runs in parallel; deciding which story an article joins and what
        changed must see every earlier article, so that step is taken one at a time
        (a PostgreSQL advisory transaction lock; SQLite already serialises writers).
        """


UnitOfWorkFactory = Callable[[], UnitOfWork]


class AlertSink(Protocol):
    """Where raised alerts go once committed (console, chat outbox, webhook)."""

    async def publish(self, alerts: Sequence[Alert]) -> None: ...
