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
