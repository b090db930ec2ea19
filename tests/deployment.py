"""Setting up a database the way an operator would, for the multi-process tests and benches.

Migrates, adds feeds through the bot's own catalog (so their schedule is the real one)
and subscribes a Slack channel to every tracked story.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from bot.bootstrap import build_app, feed_catalog
from bot.config import Settings
from bot.domain.delivery import Channel, Subscription, Target


async def add_feeds_and_subscribe(
    db_url: str,
    feeds: Sequence[tuple[str, str]],
    *,
    interval_s: float,
    slack_channel: str,
    created_by: str,
) -> None:
    """``feeds``: (url, name) pairs, each polled every ``interval_s``."""
    settings = Settings(
        db_url=db_url, allow_private_urls=True, min_feed_interval_s=1, feed_interval_s=interval_s
    )
    app = await build_app(settings, db_url=db_url)
    try:
        catalog = feed_catalog(settings, app)
        for url, name in feeds:
            await catalog.add(url, interval_s=interval_s, name=name)
        async with app.uow_factory() as uow:
            await uow.begin_write()
            await uow.subscriptions.save(
                Subscription(
                    Channel("slack", slack_channel),
                    Target.ALL,
                    created_by=created_by,
                    created_at=datetime.now(UTC),
                )
            )
            await uow.commit()
    finally:
        await app.close()
