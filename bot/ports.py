"""Ports: the small interfaces the core needs from the outside world.

The core (``bot/``) depends only on these protocols; ``storage/`` implements the
repositories and the unit of work with SQLAlchemy, ``adapters/`` implement the
alert sinks. Nothing here knows about SQL, HTTP or a chat platform.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import Protocol, Self

from bot.domain.admin import AdminAlert
from bot.domain.alerts import Alert
from bot.domain.articles import Article
from bot.domain.claims import Extraction
from bot.domain.delivery import (
    AdminDelivery,
    Channel,
    Delivery,
    Digest,
    Mute,
    NewDelivery,
    StoryCard,
    StoryThread,
    Subscription,
)
from bot.domain.feeds import Feed
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

    async def add_fingerprint(self, article_id: str, keys: Sequence[str]) -> None:
        """Index the article under its near-duplicate keys (see ``bot.stories.neardup``)."""

    async def near_duplicates(self, keys: Sequence[str], limit: int) -> list[StoredArticle]:
        """Stored articles sharing at least one near-duplicate key, most keys shared first."""


class StoryRepository(Protocol):
    async def get(self, story_id: str) -> Story | None: ...

    async def exists(self, story_id: str) -> bool: ...

    async def candidates(
        self,
        *,
        around: datetime,
        window: timedelta,
        limit: int,
        keys: Sequence[str] = (),
        key_window: timedelta | None = None,
    ) -> list[Story]:
        """Stories whose articles span a time within ``window`` of ``around``, newest
        first; and those indexed under any of ``keys`` (event signature keys) within
        ``key_window`` of ``around``, most keys in common first."""

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


class AdminAlertRepository(Protocol):
    async def add(self, alert: AdminAlert) -> bool:
        """Record an admin alert and queue it for each admin channel (``admin_outbox``).

        False (and nothing written) if its key exists."""

    async def recent(self, limit: int = 20) -> list[AdminAlert]:
        """The latest admin alerts, newest first."""


class FeedRepository(Protocol):
    """Feeds, their health, and which items each feed has shown (and with what text)."""

    async def add(self, feed: Feed) -> bool:
        """Insert; False (nothing written) if a feed with this id or URL exists."""

    async def get(self, feed_id: str) -> Feed | None: ...

    async def by_url(self, url: str) -> Feed | None: ...

    async def all(self) -> list[Feed]:
        """All feeds, in the order they were added."""

    async def count(self) -> int: ...

    async def save(self, feed: Feed, *, lease_owner: str | None = None) -> bool:
        """Update a feed. With ``lease_owner``, only if that owner still holds its lease.

        Returns False if nothing was updated (the feed was removed, or its lease
        expired and another worker took it over: that worker's result wins).
        """

    async def remove(self, feed_id: str) -> bool: ...

    async def renew_leases(self, feed_ids: Sequence[str], owner: str, until: datetime) -> int:
        """Extend ``owner``'s leases on feeds being polled; how many were still theirs."""

    async def claim_due(
        self, *, now: datetime, owner: str, lease: timedelta, limit: int
    ) -> list[Feed]:
        """Lease up to ``limit`` polled feeds whose ``next_poll_at`` has come, soonest first.

        A feed leased by someone else is skipped until that lease expires, so each
        feed is polled by one worker at a time and a dead worker's feeds are taken
        over after ``lease``. The returned feeds carry the new lease.
        """

    async def release(self, owner: str) -> int:
        """Drop every lease ``owner`` holds (a clean shutdown); how many were held."""

    async def item_hashes(self, feed_id: str, article_ids: Sequence[str]) -> dict[str, str]:
        """For the given items: the content hash this feed showed last time."""

    async def mark_items(self, feed_id: str, hashes: Mapping[str, str], now: datetime) -> None:
        """Remember the content hash this feed shows for each item (insert or update)."""


@dataclass(frozen=True, slots=True)
class WatchedArticle:
    """An article of a developing story whose page is re-fetched to catch edits."""

    article_id: str
    url: str
    first_seen_at: datetime
    next_check_at: datetime
    checks: int = 0
    etag: str | None = None
    last_modified: str | None = None
    page_hash: str | None = None
    """Content hash of the page text last read (None: not read yet)."""


class WatchRepository(Protocol):
    async def get(self, article_id: str) -> WatchedArticle | None: ...

    async def save(self, watch: WatchedArticle) -> None:
        """Insert or update (and release any lease on it)."""

    async def remove(self, article_id: str) -> None: ...

    async def claim_due(
        self, *, now: datetime, owner: str, lease: timedelta, limit: int
    ) -> list[WatchedArticle]:
        """Lease up to ``limit`` watches whose check time has come (like feeds)."""

    async def release(self, owner: str) -> int:
        """Drop every lease ``owner`` holds (a clean shutdown); how many were held."""


class SubscriptionRepository(Protocol):
    """Who wants which alerts: subscriptions, mutes and digests per channel."""

    async def save(self, sub: Subscription) -> None:
        """Insert, or update the rule with the same id (same channel, target and value)."""

    async def get(self, sub_id: str) -> Subscription | None: ...

    async def remove(self, sub_id: str) -> bool: ...

    async def for_channel(self, channel: Channel) -> list[Subscription]: ...

    async def active(self) -> list[Subscription]: ...

    async def paused_channels(self) -> set[Channel]:
        """Channels with a paused subscription (delivery found them gone)."""

    async def pause_channel(self, channel: Channel, reason: str) -> int:
        """Pause every active subscription of ``channel``; how many were paused."""

    async def save_mute(self, mute: Mute) -> None: ...

    async def remove_mute(self, channel: Channel, story_id: str) -> bool: ...

    async def mutes(self, now: datetime) -> list[Mute]:
        """Mutes still in force at ``now``."""

    async def save_digest(self, digest: Digest) -> None: ...

    async def advance_digest(self, digest: Digest, *, next_at: datetime) -> bool:
        """Move the digest's schedule on if nobody else has (compare-and-set on next_at)."""

    async def remove_digest(self, channel: Channel) -> bool: ...

    async def digests(self) -> list[Digest]: ...


class LeasedRows(Protocol):
    """What both outboxes (story alerts, admin alerts) do with a row once it is claimed."""

    async def mark_sent(
        self,
        delivery_id: int,
        message_id: str | None,
        now: datetime,
        *,
        lookup_refused: str | None = None,
    ) -> None:
        """Sent; ``lookup_refused`` says why it was sent without the "did it land?"
        look-up (so it may show twice), and marks the row."""

    async def retry_at(
        self, delivery_id: int, at: datetime, error: str, *, uncertain: bool
    ) -> None:
        """Try again at ``at``. ``uncertain``: the failed attempt may have posted anyway."""

    async def drop(self, delivery_id: int, error: str) -> None: ...

    async def release(self, owner: str) -> int:
        """Hand back ``owner``'s leases (clean shutdown); started attempts stay uncertain."""

    async def counts(self) -> dict[str, int]:
        """Rows per state."""


class OutboxRepository(LeasedRows, Protocol):
    """Alert × channel rows written with the alerts, sent by the delivery worker."""

    async def add(self, deliveries: Sequence[NewDelivery], now: datetime) -> int:
        """Queue deliveries; a row for the same alert and channel is never queued twice."""

    async def claim_due(
        self,
        *,
        now: datetime,
        owner: str,
        lease: timedelta,
        limit: int,
        platforms: Sequence[str],
    ) -> list[Delivery]:
        """Lease due rows that are the oldest unsent of their (channel, story), oldest first."""

    async def drop_channel(self, channel: Channel, reason: str) -> int: ...

    async def held(self, channel: Channel, limit: int) -> list[Delivery]:
        """Rows waiting for the channel's digest, oldest first."""

    async def mark_digested(
        self, delivery_ids: Sequence[int], message_id: str | None, now: datetime
    ) -> None: ...

    async def release_held(self, channel: Channel) -> int: ...

    async def next_due(self, platforms: Sequence[str]) -> datetime | None: ...

    async def thread(self, channel: Channel, story_id: str) -> StoryThread | None: ...

    async def save_thread(self, thread: StoryThread, now: datetime) -> None: ...


class AdminOutboxRepository(LeasedRows, Protocol):
    """Admin alert × admin channel rows, queued when the admin alert is stored."""

    async def register_channels(self, channels: Sequence[Channel], now: datetime) -> int:
        """Make the admin channels exactly ``channels``; pending rows for others are dropped."""

    async def claim_due(
        self,
        *,
        now: datetime,
        owner: str,
        lease: timedelta,
        limit: int,
        platforms: Sequence[str],
    ) -> list[AdminDelivery]:
        """Lease due rows, each the oldest pending of its channel."""


class HealthRepository(Protocol):
    """Open health episodes (one row per problem) and the aggregates the check reads."""

    async def open_episode(self, problem: str, since: datetime, message: str) -> bool:
        """Record that ``problem`` began; False (nothing written) if it is already open."""

    async def close_episode(self, problem: str) -> datetime | None:
        """End ``problem``'s episode; its start, or None if none was open."""

    async def open_episodes(self) -> dict[str, datetime]: ...

    async def feeds_by_state(self) -> dict[str, int]: ...

    async def delivery_backlog(self) -> tuple[int, datetime | None]:
        """Unsent story and admin outbox rows, and when the oldest was written."""


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

    @property
    def admin_alerts(self) -> AdminAlertRepository: ...

    @property
    def feeds(self) -> FeedRepository: ...

    @property
    def watches(self) -> WatchRepository: ...

    @property
    def subscriptions(self) -> SubscriptionRepository: ...

    @property
    def outbox(self) -> OutboxRepository: ...

    @property
    def admin_outbox(self) -> AdminOutboxRepository: ...

    @property
    def health(self) -> HealthRepository: ...

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

    async def begin_write(self) -> None:
        """Declare, before reading, that this unit of work will write.

        Needed for read-then-write units of work on SQLite, where a reader that starts
        writing cannot wait for a concurrent writer and fails instead. A no-op where
        the database has row locks (PostgreSQL).
        """

    async def lock_story_assignment(self) -> None:
        """Serialise grouping + change detection across processes for this transaction.

        Call it before any write in the unit of work (SQLite restarts the transaction
        as a write transaction).

        Extraction runs in parallel; deciding which story an article joins and what
        changed must see every earlier article, so that step is taken one at a time
        (a PostgreSQL advisory transaction lock; SQLite already serialises writers).
        """


UnitOfWorkFactory = Callable[[], UnitOfWork]

AdminPublisher = Callable[[Sequence[AdminAlert]], Awaitable[None]]
"""Hands committed admin alerts on (``MessageBus.publish_admin``)."""


class AlertSink(Protocol):
    """Where raised alerts go once committed (console, chat outbox, webhook)."""

    async def publish(self, alerts: Sequence[Alert]) -> None: ...

    async def publish_admin(self, alerts: Sequence[AdminAlert]) -> None:
        """Admin alerts (a feed failing, a channel gone): for operators, not story readers."""


@dataclass(frozen=True, slots=True)
class Posted:
    """Where a message landed: its platform id and, if one was opened, its thread."""

    message_id: str
    thread_id: str | None = None
    thread_refused: str | None = None
    """Why the platform would not open the story's thread here (follow-ups go in the
    channel instead); None when it opened one or was not asked to."""


class DeliveryError(Exception):
    """A send failed; the subclass says what the worker should do about it."""


class RateLimited(DeliveryError):
    """The platform asked us to wait (HTTP 429): retry after ``retry_after`` seconds."""

    def __init__(self, retry_after: float, detail: str = "rate limited") -> None:
        super().__init__(f"{detail} (retry after {retry_after:g}s)")
        self.retry_after = retry_after


class TransientFailure(DeliveryError):
    """5xx, timeout, connection error: back off and retry. The message may have landed."""


class ChannelGone(DeliveryError):
    """The channel no longer exists or forbids the bot: stop sending there."""


class MessageRejected(DeliveryError):
    """The platform refused this message for good (e.g. 400): drop it, keep the channel."""


class ChatTransport(Protocol):
    """One platform's way of posting alerts (Discord, Slack, a webhook).

    Adapters implement it; they render the neutral alert and card themselves and
    translate their client's errors into the ``DeliveryError`` subclasses.
    """

    @property
    def platform(self) -> str: ...

    @property
    def threads(self) -> bool:
        """Whether the platform can reply under a message and edit it (not webhooks)."""

    async def post_alert(
        self,
        channel_id: str,
        alert: Alert,
        *,
        thread: StoryThread | None,
        idempotency_key: str,
        card: StoryCard | None,
    ) -> Posted:
        """Post an alert: into ``thread`` if given, else as a new top-level message.

        ``idempotency_key`` identifies this delivery on the platform (Discord's
        nonce, Slack's message metadata) so that a retry cannot post it twice.
        A top-level post on a threading platform opens the story's thread; a
        ``thread`` without a thread id may be opened under its root now (the
        returned ``thread_id`` says so).
        """

    async def find_posted(
        self,
        channel_id: str,
        idempotency_key: str,
        *,
        thread: StoryThread | None,
        since: datetime | None = None,
    ) -> Posted | None:
        """A message already posted with this key (an attempt that died mid-send).

        ``since``: when that attempt began (nothing older needs reading). Raises
        ``TransientFailure`` / ``RateLimited`` when the platform could not answer
        now, and any other ``DeliveryError`` when it refuses to answer at all
        (no history permission, a transport that cannot read back): the worker
        then posts anyway and marks the row.
        """

    async def update_card(self, thread: StoryThread, card: StoryCard) -> None:
        """Edit the story's first message in place to show the current figures."""

    async def post_digest(
        self, channel_id: str, alerts: Sequence[Alert], *, idempotency_key: str
    ) -> Posted: ...

    @property
    def admin_channel(self) -> str | None:
        """The configured channel for admin alerts on this platform, if any."""

    async def post_admin(
        self, channel_id: str, alert: AdminAlert, *, idempotency_key: str
    ) -> Posted:
        """One admin alert to the admin channel (keyed like an alert: no double posts)."""
