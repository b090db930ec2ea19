"""Settings, read from the environment (and a ``.env`` file) only.

Every setting is ``CLAIMWATCH_<NAME>``; see ``.env.example`` for the list. Secrets
never have defaults and are typed ``SecretStr`` so they never print in logs or
reprs.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_seeds_dir() -> Path:
    """The demo articles shipped beside the package (repository checkout or sdist)."""
    return Path(__file__).resolve().parent.parent / "seeds"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CLAIMWATCH_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    db_url: str = Field(
        default="sqlite+aiosqlite:///claimwatch.db",
        description="SQLAlchemy URL: SQLite file (default) or postgresql+asyncpg://…",
    )
    seeds_dir: Path = Field(default_factory=default_seeds_dir, description="Demo articles folder")
    log_level: str = Field(default="WARNING", description="Python logging level")
    candidate_window_hours: float = Field(
        default=72.0, gt=0, description="How far apart in time an article and a story may be"
    )
    conflict_window_minutes: float = Field(
        default=60.0, ge=0, description="Two dated reports this close are 'at the same time'"
    )

    # --- running: feeds, fetching, drop folder -------------------------------------
    drop_dir: Path | None = Field(
        default=None, description="Folder watched for article files (unset: no drop folder)"
    )
    drop_poll_interval_s: float = Field(
        default=2.0, gt=0, description="Polling fallback for the drop folder (network mounts)"
    )
    feeds_file: Path | None = Field(
        default=None, description="TOML file of feeds ([[feed]] url/name/interval/tags) to add"
    )
    allow_private_urls: bool = Field(
        default=False,
        description="Allow feeds/pages on loopback, private and link-local addresses",
    )
    feed_interval_s: float = Field(default=300.0, gt=0, description="Default polling interval")
    min_feed_interval_s: float = Field(
        default=60.0, gt=0, description="Smallest interval a feed may be given"
    )
    max_concurrent_fetches: int = Field(default=50, ge=1, description="Fetches in flight, total")
    per_host_fetches: int = Field(default=4, ge=1, description="Fetches in flight per host")
    fetch_timeout_s: float = Field(default=15.0, gt=0, description="Deadline for one fetch")
    max_fetch_bytes: int = Field(
        default=5 * 1024 * 1024, ge=1024, description="Largest feed or page body accepted"
    )
    max_redirects: int = Field(default=5, ge=0, description="Redirects followed per fetch")
    backoff_base_s: float = Field(default=60.0, gt=0, description="Delay after a first failure")
    backoff_max_s: float = Field(default=6 * 3600.0, gt=0, description="Longest backoff")
    failing_after: int = Field(default=3, ge=1, description="Failures before 'failing' + alert")
    disable_after: int = Field(
        default=20, ge=0, description="Failures before a feed is disabled (0: never)"
    )
    full_text: bool = Field(default=True, description="Fetch pages of summary-only items")
    recheck_articles: bool = Field(
        default=True, description="Re-fetch young articles of tracked stories to catch edits"
    )
    poll_tick_s: float = Field(default=1.0, gt=0, description="How often due feeds are looked for")
    worker_id: str | None = Field(default=None, description="Lease owner name (default: unique)")
