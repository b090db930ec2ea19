"""The database schema as typed SQLAlchemy declarative models.

The tables are shaped by the queries the bot makes, not by the domain classes:

* ``articles`` holds one row per article identity with its *latest* version, so
  "is this a copy?" (``content_hash``) and "articles of story X" (``story_id``) are
  single indexed lookups; ``article_versions`` keeps every version's text and
  extraction, because a revision is only detectable against what came before.
* ``figures`` and ``statements`` are the latest version's claims as rows, with the
  story id copied in, so "all figures of story X" needs no JSON and no join. They
  are derived data: rewritten whenever an article gets a new version.
* ``stories`` keeps the aggregate's state and profile as JSON (they are read and
  written whole by change detection) plus the few columns that are queried.
* ``alerts`` is append-only; ``seq`` is the delivery order and the anchor for the
  planned ``deliveries`` outbox (alert seq × subscription), ``key`` makes raising
  an alert idempotent.

Portability rules (SQLite today, PostgreSQL with several workers tomorrow): every
timestamp is timezone-aware and stored in UTC (:class:`UTCDateTime`), JSON columns
use :class:`sqlalchemy.JSON`, and nothing relies on
SQLite-only SQL. Migrations (``storage/migrations``) are hand-written to match.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Deterministic constraint names, so later migrations can drop or alter them by name."""


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp, stored in UTC and always read back aware (UTC).

    PostgreSQL has ``timestamptz``; SQLite has no timestamp type and SQLAlchemy
    stores a fixed-width text without offset there. Converting to UTC before storing
    makes both backends compare and sort timestamps correctly, and re-attaching UTC
    when reading means the core never sees a naive datetime. A naive datetime given
    to us is taken to be UTC (feeds without an offset) rather than rejected.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return to_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return to_utc(value)


def to_utc(value: datetime) -> datetime:
    """``value`` as an aware UTC datetime (naive values are taken to be UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


JsonType = JSON()
"""Portable JSON: ``json`` on PostgreSQL, JSON text on SQLite.

Not ``JSONB``: it reorders object keys, and the domain's dicts are ordered (term
weights are summed in order, speakers are listed in order), so the same data would
come back differently from the two backends. ``json`` keeps the text as written.
A later migration can still switch a column to ``JSONB`` if it needs indexing."""

# SQLite only auto-numbers an ``INTEGER PRIMARY KEY`` column; BIGINT elsewhere.
SeqType = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        datetime: UTCDateTime(),
        dict[str, Any]: JsonType,
    }


class ArticleRow(Base):
    __tablename__ = "articles"

    id: Mapped[str] = mapped_column(String, primary_key=True)
    """Article identity (``guid:…``, ``url:…``, ``file:…``)."""
    version: Mapped[int] = mapped_column(Integer)
    """The latest version number; its text lives in ``article_versions``."""
    outlet: Mapped[str] = mapped_column(String)
    url: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime | None]
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    content_hash: Mapped[str] = mapped_column(String, index=True)
    story_id: Mapped[str | None] = mapped_column(String, index=True)
    source: Mapped[str] = mapped_column(Text, default="")


class ArticleVersionRow(Base):
    __tablename__ = "article_versions"

    article_id: Mapped[str] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    content_hash: Mapped[str] = mapped_column(String)
    title: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    seen_at: Mapped[datetime]
    extraction: Mapped[dict[str, Any]]


class _ClaimColumns:
    """Columns shared by the claim tables: where the claim was read."""

    id: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=True)
    article_id: Mapped[str] = mapped_column(String)
    version: Mapped[int] = mapped_column(Integer)
    story_id: Mapped[str | None] = mapped_column(String, index=True)
    sentence: Mapped[str] = mapped_column(Text)
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)


def _version_fk(table: str) -> ForeignKeyConstraint:
    return ForeignKeyConstraint(
        ["article_id", "version"],
        ["article_versions.article_id", "article_versions.version"],
        ondelete="CASCADE",
        name=f"fk_{table}_article_version",
    )


class FigureRow(_ClaimColumns, Base):
    __tablename__ = "figures"
    # The index serves "delete this version's figures" on every save, and the cascade
    # from article_versions: without it each save scans the table (1 s at 5M claims).
    __table_args__ = (
        _version_fk("figures"),
        Index("ix_figures_article_id_version", "article_id", "version"),
    )

    metric: Mapped[str] = mapped_column(String)
    subject: Mapped[str] = mapped_column(Text)
    subject_group: Mapped[str] = mapped_column(String)
    scope_kind: Mapped[str] = mapped_column(String)
    scope_label: Mapped[str] = mapped_column(String)
    value: Mapped[float] = mapped_column(Float)
    high: Mapped[float | None] = mapped_column(Float)
    qualifier: Mapped[str] = mapped_column(String)
    value_text: Mapped[str] = mapped_column(Text)
    temporal: Mapped[str] = mapped_column(String)
    attributed_to: Mapped[str | None] = mapped_column(Text)


class StatementRow(_ClaimColumns, Base):
    __tablename__ = "statements"
    __table_args__ = (
        _version_fk("statements"),
        Index("ix_statements_article_id_version", "article_id", "version"),
    )

    speaker: Mapped[str] = mapped_column(Text)
    speaker_role: Mapped[str | None] = mapped_column(Text)
    verb: Mapped[str] = mapped_column(String)
    text: Mapped[str] = mapped_column(Text)
    direct: Mapped[bool] = mapped_column(Boolean)
    official: Mapped[bool] = mapped_column(Boolean)


class StoryRow(Base):
    __tablename__ = "stories"

    id: Mapped[str] = mapped_column(String, primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(index=True)
    tracked: Mapped[bool] = mapped_column(Boolean, index=True)
    """Copy of ``state.tracked``, so "tracked stories" is an indexed filter."""
    article_count: Mapped[int] = mapped_column(Integer)
    """Copy of ``profile.article_count``, for listings."""
    profile: Mapped[dict[str, Any]]
    state: Mapped[dict[str, Any]]


class StoryKeyRow(Base):
    """Story index: each story under its event signature's keys ("kind:quake",
    "country:EC", "name:storm:harvey"), with its time span copied in.

    Grouping looks up the stories that share a key with an article and are recent
    enough for it (``ix_story_keys_key_last_at``) instead of scanning every story of
    the last weeks. Rewritten with the story on every save.
    """

    __tablename__ = "story_keys"
    __table_args__ = (Index("ix_story_keys_key_last_at", "key", "last_at"),)

    story_id: Mapped[str] = mapped_column(
        ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String, primary_key=True)
    first_at: Mapped[datetime]
    last_at: Mapped[datetime]


class AlertRow(Base):
    __tablename__ = "alerts"
    __table_args__ = {"sqlite_autoincrement": True}  # noqa: RUF012 - never reuse a seq

    seq: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=True)
    """Delivery order. Monotonic (never reused), not gapless: on PostgreSQL an insert
    that hits an existing key still consumes a number. Numbers are handed out at
    insert, not at commit, so concurrent transactions could commit out of order;
    alerts are added under ``lock_story_assignment``, which rules that out. An
    outbox reader should still track per-row status (``deliveries``), not "seq >
    last seen"."""
    key: Mapped[str] = mapped_column(String, unique=True)
    story_id: Mapped[str] = mapped_column(String, index=True)
    type: Mapped[str] = mapped_column(String)
    severity: Mapped[str] = mapped_column(String)
    article_id: Mapped[str] = mapped_column(String)
    created_at: Mapped[datetime]
    payload: Mapped[dict[str, Any]]


class AdminAlertRow(Base):
    """Admin alerts (feeds failing, channels gone): append-only like ``alerts``."""

    __tablename__ = "admin_alerts"
    __table_args__ = {"sqlite_autoincrement": True}  # noqa: RUF012 - never reuse a seq

    seq: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String, unique=True)
    kind: Mapped[str] = mapped_column(String)
    severity: Mapped[str] = mapped_column(String)
    subject: Mapped[str] = mapped_column(String, index=True)
    created_at: Mapped[datetime]
    payload: Mapped[dict[str, Any]]


class FeedRow(Base):
    """A polled feed. ``next_poll_at`` is the schedule; the lease columns share it out.

    Several workers take due feeds with ``SELECT … FOR UPDATE SKIP LOCKED`` on
    PostgreSQL and set a lease; a lease that expires (a dead worker) makes the feed
    due for anyone again.
    """

    __tablename__ = "feeds"
    # Claims take due feeds ordered by (next_poll_at, id).
    __table_args__ = (Index("ix_feeds_next_poll_at_id", "next_poll_at", "id"),)

    id: Mapped[str] = mapped_column(String, primary_key=True)
    url: Mapped[str] = mapped_column(Text, unique=True)
    name: Mapped[str] = mapped_column(Text)
    tags: Mapped[str] = mapped_column(Text, default="")
    """Comma-separated, lower case."""
    interval_s: Mapped[float] = mapped_column(Float)
    state: Mapped[str] = mapped_column(String)
    added_at: Mapped[datetime]
    added_by: Mapped[str | None] = mapped_column(Text)
    next_poll_at: Mapped[datetime]
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    last_hash: Mapped[str | None] = mapped_column(String)
    primed: Mapped[bool] = mapped_column(Boolean)
    failures: Mapped[int] = mapped_column(Integer)
    polls: Mapped[int] = mapped_column(Integer)
    last_polled_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None]
    items_seen: Mapped[int] = mapped_column(Integer)
    lease_owner: Mapped[str | None] = mapped_column(String)
    lease_expires_at: Mapped[datetime | None]
    # What the last read left out (migration 0008).
    items_deferred: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    items_passed_over: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    entries_skipped: Mapped[int] = mapped_column(Integer, server_default=text("0"))


class FeedItemRow(Base):
    """Which items a feed has shown, with the content hash it showed last.

    A feed repeats its items on every poll; only an item whose text changed *in this
    feed* is ingested again. Without this, a re-fetched article page and the feed's
    older copy of the same article would be taken for alternating revisions.
    """

    __tablename__ = "feed_items"

    feed_id: Mapped[str] = mapped_column(
        ForeignKey("feeds.id", ondelete="CASCADE"), primary_key=True
    )
    article_id: Mapped[str] = mapped_column(String, primary_key=True)
    content_hash: Mapped[str] = mapped_column(String)
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]


class WatchRow(Base):
    """An article page re-fetched on an age-based schedule (developing stories)."""

    __tablename__ = "watches"

    article_id: Mapped[str] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    url: Mapped[str] = mapped_column(Text)
    first_seen_at: Mapped[datetime]
    next_check_at: Mapped[datetime] = mapped_column(index=True)
    checks: Mapped[int] = mapped_column(Integer)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    page_hash: Mapped[str | None] = mapped_column(String)
    lease_owner: Mapped[str | None] = mapped_column(String)
    lease_expires_at: Mapped[datetime | None]


class FingerprintRow(Base):
    """Near-duplicate index: each article under a few locality-sensitive keys."""

    __tablename__ = "fingerprints"

    key: Mapped[str] = mapped_column(String, primary_key=True)
    article_id: Mapped[str] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class SubscriptionRow(Base):
    """A channel's standing order for alerts (see ``bot.domain.delivery.Subscription``)."""

    __tablename__ = "subscriptions"
    __table_args__ = (Index("ix_subscriptions_platform_channel_id", "platform", "channel_id"),)

    id: Mapped[str] = mapped_column(String, primary_key=True)
    platform: Mapped[str] = mapped_column(String)
    channel_id: Mapped[str] = mapped_column(String)
    target: Mapped[str] = mapped_column(String)
    value: Mapped[str] = mapped_column(Text)
    types: Mapped[str] = mapped_column(Text)
    """Comma-separated alert types; empty for all."""
    min_severity: Mapped[str] = mapped_column(String)
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    paused_reason: Mapped[str | None] = mapped_column(Text)


class MuteRow(Base):
    __tablename__ = "mutes"

    platform: Mapped[str] = mapped_column(String, primary_key=True)
    channel_id: Mapped[str] = mapped_column(String, primary_key=True)
    story_id: Mapped[str] = mapped_column(String, primary_key=True)
    until: Mapped[datetime | None]


class DigestRow(Base):
    __tablename__ = "digests"

    platform: Mapped[str] = mapped_column(String, primary_key=True)
    channel_id: Mapped[str] = mapped_column(String, primary_key=True)
    interval_s: Mapped[float] = mapped_column(Float)
    next_at: Mapped[datetime]


class OutboxColumns:
    """What an outbox row (story or admin alert × channel) tracks about its sending.

    ``attempt_started_at`` is set when a worker takes the row for sending and cleared
    when it records the result; a row found with it set after its lease expired was
    being sent by a worker that died, so the platform is asked before sending again.
    """

    id: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String)
    channel_id: Mapped[str] = mapped_column(String)
    state: Mapped[str] = mapped_column(String)
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime]
    created_at: Mapped[datetime]
    attempt_started_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    message_id: Mapped[str | None] = mapped_column(String)
    last_error: Mapped[str | None] = mapped_column(Text)
    lease_owner: Mapped[str | None] = mapped_column(String)
    lease_expires_at: Mapped[datetime | None]
    lookup_refused: Mapped[bool] = mapped_column(Boolean, server_default=false(), default=False)
    """Sent after the platform refused the "did it land?" look-up: maybe sent twice."""


class DeliveryRow(OutboxColumns, Base):
    """The outbox: one row per alert × channel, written with the alert, sent later."""

    __tablename__ = "deliveries"
    __table_args__ = (
        Index("ix_deliveries_state_next_attempt_at", "state", "next_attempt_at"),
        # "Is there an earlier unsent row for this channel and story?" (order per story).
        Index(
            "ix_deliveries_platform_channel_id_story_id_id",
            "platform",
            "channel_id",
            "story_id",
            "id",
        ),
        UniqueConstraint("alert_key", "platform", "channel_id"),
        {"sqlite_autoincrement": True},
    )

    alert_key: Mapped[str] = mapped_column(ForeignKey("alerts.key", ondelete="CASCADE"))
    story_id: Mapped[str] = mapped_column(String)
    subscription_id: Mapped[str | None] = mapped_column(String)


class AdminChannelRow(Base):
    """Where admin alerts go: the configured admin channels, registered by the workers.

    ``admin_alerts.add`` queues one ``admin_deliveries`` row per registered channel in
    the alert's own transaction, so an admin alert is stored with its deliveries.
    """

    __tablename__ = "admin_channels"

    platform: Mapped[str] = mapped_column(String, primary_key=True)
    channel_id: Mapped[str] = mapped_column(String, primary_key=True)
    registered_at: Mapped[datetime]


class AdminDeliveryRow(OutboxColumns, Base):
    """The admin outbox: one row per admin alert × admin channel (see ``DeliveryRow``)."""

    __tablename__ = "admin_deliveries"
    __table_args__ = (
        Index("ix_admin_deliveries_state_next_attempt_at", "state", "next_attempt_at"),
        UniqueConstraint("admin_key", "platform", "channel_id"),
        {"sqlite_autoincrement": True},
    )

    admin_key: Mapped[str] = mapped_column(ForeignKey("admin_alerts.key", ondelete="CASCADE"))


class StoryThreadRow(Base):
    """A story's first message and thread in a channel (edited in place, replied under)."""

    __tablename__ = "story_threads"

    platform: Mapped[str] = mapped_column(String, primary_key=True)
    channel_id: Mapped[str] = mapped_column(String, primary_key=True)
    story_id: Mapped[str] = mapped_column(String, primary_key=True)
    root_message_id: Mapped[str] = mapped_column(String)
    thread_id: Mapped[str | None] = mapped_column(String)
    created_at: Mapped[datetime]


class HealthEpisodeRow(Base):
    """An open health problem of the deployment (see ``bot.domain.health``).

    The row exists while the problem lasts: inserting it is how exactly one worker
    raises the "unhealthy" admin alert, deleting it how exactly one says it is over.
    """

    __tablename__ = "health_episodes"

    problem: Mapped[str] = mapped_column(String, primary_key=True)
    since: Mapped[datetime]
    message: Mapped[str] = mapped_column(Text)
