"""Settings, read from the environment (and a ``.env`` file) only.

Every setting is ``CLAIMWATCH_<NAME>``; see ``.env.example`` for the list. Secrets
never have defaults and are typed ``SecretStr`` so they never print in logs or
reprs.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.fetching import url_problem


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
        default=72.0,
        gt=0,
        description="How far apart in time an article and a story may be (see story_life_days)",
    )
    story_life_days: float = Field(
        default=60.0,
        gt=0,
        description="How long a one-off disaster's story takes reports of the same event",
    )
    conflict_window_minutes: float = Field(
        default=1440.0,
        ge=0,
        description="Two dated reports this close are 'at the same time' (news is dated by day)",
    )
    extract_processes: int = Field(
        default=1,
        ge=0,
        description="Worker processes that extract claims (0: a thread of the bot, no time limit)",
    )
    extract_timeout_s: float = Field(
        default=30.0,
        gt=0,
        description="Longest extraction of one article; past it, it is stored without claims",
    )

    # --- running: feeds, fetching, drop folder -------------------------------------
    drop_dir: Path | None = Field(
        default=None, description="Folder watched for article files (unset: no drop folder)"
    )
    drop_poll_interval_s: float = Field(
        default=2.0, gt=0, description="Polling fallback for the drop folder (network mounts)"
    )
    drop_quiet_s: float = Field(
        default=30.0,
        ge=0,
        description="A drop-folder file found by polling that is still open for writing "
        "(or whose writers cannot be told) is read once unchanged this long",
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
    max_items_per_poll: int = Field(
        default=200,
        ge=1,
        description="Changed feed items read per poll, newest first; the rest on later polls",
    )
    recheck_articles: bool = Field(
        default=True, description="Re-fetch young articles of tracked stories to catch edits"
    )
    poll_tick_s: float = Field(default=1.0, gt=0, description="How often due feeds are looked for")
    feed_lease_s: float = Field(
        default=300.0,
        gt=0,
        description="A feed claimed by a worker that dies is polled by another after this",
    )
    worker_id: str | None = Field(default=None, description="Lease owner name (default: unique)")

    # --- chat: adapters, delivery -------------------------------------------------
    adapters: str = Field(
        default="console",
        description="Comma-separated: console, discord, slack (each needs its settings below)",
    )
    discord_token: SecretStr | None = Field(default=None, description="Discord bot token")
    discord_api_base: str = Field(
        default="https://discord.com/api/v10", description="Discord REST base (tests: a fake)"
    )
    discord_gateway_url: str = Field(
        default="wss://gateway.discord.gg/", description="Discord gateway (tests: a fake)"
    )
    discord_guild_id: int | None = Field(
        default=None, description="Register commands in this guild only (instant sync)"
    )
    discord_admin_roles: str = Field(
        default="", description="Role ids or names whose members may use admin commands"
    )
    discord_admin_channel: int | None = Field(
        default=None, description="Channel id for admin alerts (feeds failing, channel gone)"
    )
    slack_bot_token: SecretStr | None = Field(default=None, description="xoxb-… bot token")
    slack_app_token: SecretStr | None = Field(
        default=None, description="xapp-… app-level token (Socket Mode)"
    )
    slack_signing_secret: SecretStr | None = Field(
        default=None, description="Signing secret (HTTP mode request verification)"
    )
    slack_api_base: str = Field(
        default="https://slack.com/api/", description="Slack Web API base (tests: a fake)"
    )
    slack_mode: str = Field(default="socket", description="socket (no public URL) or http")
    slack_admin_users: str = Field(
        default="", description="Slack user ids allowed admin commands besides workspace admins"
    )
    slack_admin_channel: str | None = Field(default=None, description="Channel id for admin alerts")
    http_host: str = Field(default="127.0.0.1", description="Slack HTTP mode: listen address")
    http_port: int = Field(default=3000, ge=0, le=65535, description="Slack HTTP mode: port")
    discord_webhook_url: SecretStr | None = Field(
        default=None, description="Alert-only mode: post alerts to this Discord webhook"
    )
    slack_webhook_url: SecretStr | None = Field(
        default=None, description="Alert-only mode: post alerts to this Slack incoming webhook"
    )
    webhook_min_severity: str = Field(
        default="low", description="Alert-only mode: lowest severity posted to the webhooks"
    )
    delivery_concurrency: int = Field(default=4, ge=1, description="Sends in flight at once")
    delivery_retry_max_s: float = Field(
        default=30.0, gt=0, description="Longest wait between retries of a failing send"
    )
    delivery_lease_s: float = Field(
        default=120.0,
        gt=0,
        description="How long a send may take before another worker may take it over",
    )
    delivery_tick_s: float = Field(
        default=0.5, gt=0, description="How often the outbox is looked at for due rows"
    )

    # --- deployment: roles, observability ---------------------------------------------
    role: str = Field(
        default="all",
        description="all (one process does everything), worker (feeds, drop folder, "
        "delivery) or gateway (chat connections and commands)",
    )
    gateway_retry_s: float = Field(
        default=5.0, gt=0, description="How often a standby gateway tries to take over"
    )
    metrics_port: int | None = Field(
        default=None, ge=0, le=65535, description="Serve /metrics and /healthz here (unset: off)"
    )
    metrics_host: str = Field(default="127.0.0.1", description="Listen address for /metrics")
    log_format: str = Field(default="text", description="text or json (one object per line)")
    health_tick_s: float = Field(default=30.0, gt=0, description="How often health is checked")
    malloc_trim_s: float = Field(
        default=10.0,
        ge=0,
        description="How often freed heap pages go back to the OS (glibc; 0: never)",
    )
    max_delivery_lag_s: float = Field(
        default=600.0, gt=0, description="Unsent alert older than this: bot unhealthy"
    )

    @property
    def adapter_names(self) -> list[str]:
        return [a.strip().lower() for a in self.adapters.split(",") if a.strip()]


ROLES = ("all", "worker", "gateway")


def _adapter_problems(settings: Settings) -> list[str]:
    return [
        f"CLAIMWATCH_ADAPTERS: unknown adapter {name!r} (console, discord, slack)"
        for name in settings.adapter_names
        if name not in ("console", "discord", "slack")
    ]


def _discord_problems(settings: Settings) -> list[str]:
    if "discord" not in settings.adapter_names:
        return []
    problems = []
    if settings.discord_token is None or not settings.discord_token.get_secret_value():
        problems.append("discord is enabled but CLAIMWATCH_DISCORD_TOKEN is not set")
    for key in ("discord_api_base", "discord_gateway_url"):
        value = getattr(settings, key)
        if not value.startswith(("http://", "https://", "ws://", "wss://")):
            problems.append(f"CLAIMWATCH_{key.upper()} must be a URL, not {value!r}")
    return problems


def _slack_mode_problem(settings: Settings) -> str | None:
    if settings.slack_mode not in ("socket", "http"):
        return f"CLAIMWATCH_SLACK_MODE must be socket or http, not {settings.slack_mode!r}"
    if settings.slack_mode == "socket":
        app = settings.slack_app_token
        if app is None or not app.get_secret_value().startswith("xapp-"):
            return (
                "slack socket mode needs CLAIMWATCH_SLACK_APP_TOKEN (xapp-…); "
                "or set CLAIMWATCH_SLACK_MODE=http"
            )
    elif settings.slack_signing_secret is None:
        return "slack http mode needs CLAIMWATCH_SLACK_SIGNING_SECRET"
    return None


def _slack_problems(settings: Settings) -> list[str]:
    if "slack" not in settings.adapter_names:
        return []
    problems = []
    token = settings.slack_bot_token
    if token is None or not token.get_secret_value().startswith("xoxb-"):
        problems.append("slack is enabled but CLAIMWATCH_SLACK_BOT_TOKEN (xoxb-…) is not set")
    mode = _slack_mode_problem(settings)
    if mode is not None:
        problems.append(mode)
    return problems


def _webhook_problems(settings: Settings) -> list[str]:
    problems = []
    for key in ("discord_webhook_url", "slack_webhook_url"):
        secret = getattr(settings, key)
        problem = url_problem(secret.get_secret_value()) if secret is not None else None
        if problem is not None:  # the URL itself is a secret: only the reason is shown
            problems.append(f"CLAIMWATCH_{key.upper()} is not a usable http(s) URL: {problem}")
    if settings.webhook_min_severity not in ("low", "medium", "high", "critical"):
        problems.append("CLAIMWATCH_WEBHOOK_MIN_SEVERITY must be low, medium, high or critical")
    return problems


def _process_problems(settings: Settings) -> list[str]:
    problems = []
    if settings.role not in ROLES:
        problems.append(f"CLAIMWATCH_ROLE must be one of {', '.join(ROLES)}, not {settings.role!r}")
    if settings.log_format not in ("text", "json"):
        problems.append(f"CLAIMWATCH_LOG_FORMAT must be text or json, not {settings.log_format!r}")
    return problems


_PROBLEM_CHECKS = (
    _adapter_problems,
    _discord_problems,
    _slack_problems,
    _webhook_problems,
    _process_problems,
)


def chat_problems(settings: Settings) -> list[str]:
    """What is missing or wrong for the enabled adapters: one line each (empty: all good)."""
    return [problem for check in _PROBLEM_CHECKS for problem in check(settings)]
