"""The platform-neutral command layer on a real database holding the replayed seeds."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from bot.charts import timeline_figure
from bot.commands import CommandError, CommandRequest, parse_command
from bot.commands.handlers import Commands
from bot.config import default_seeds_dir
from bot.domain.admin import AdminAlert
from bot.domain.delivery import Channel, plan_deliveries
from bot.ingest.readers import read_path
from bot.service.catalog import CatalogConfig, FeedCatalog
from bot.service.ingest import Ingestor
from bot.service.replay import replay_commands
from storage.uow import SqlUnitOfWork

UowFactory = Callable[[], SqlUnitOfWork]


@pytest.fixture
async def commands(uow_factory: UowFactory) -> Commands:
    ingest = Ingestor(uow_factory)
    for command in replay_commands(read_path(default_seeds_dir()).articles):
        await ingest(command)
    catalog = FeedCatalog(uow_factory, CatalogConfig(min_interval=timedelta(seconds=60)))
    return Commands(uow_factory, catalog)


async def ask(commands: Commands, line: str, *, admin: bool = False) -> tuple[str, bool]:
    name, args = parse_command(line)
    reply = await commands.handle(CommandRequest(name, args, user="u1", is_admin=admin))
    return reply.render_text(), reply.error


async def seed_story_id(commands: Commands) -> str:
    text, _ = await ask(commands, "/claimwatch stories")
    return text.splitlines()[1].split(" · ")[0]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("/claimwatch story abc123", ("story", ("abc123",))),
        ("claimwatch Stories  earthquake   Turkey", ("stories", ("earthquake", "Turkey"))),
        (
            'feeds add “https://wire.example/rss” --name "Wire desk"',
            ("feeds", ("add", "https://wire.example/rss", "--name", "Wire desk")),
        ),
        ("STATUS", ("status", ())),
    ],
)
def test_parsing(line: str, expected: tuple[str, tuple[str, ...]]) -> None:
    assert parse_command(line) == expected


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("", "no command"),
        ("/claimwatch", "no command"),
        ('story "abc', "quotes"),
        ("x" * 3000, "too long"),
    ],
)
def test_malformed_commands_are_clear_errors(line: str, message: str) -> None:
    with pytest.raises(CommandError, match=message):
        parse_command(line)


async def test_story_shows_lineage_conflict_and_officials(commands: Commands) -> None:
    story_id = await seed_story_id(commands)
    text, error = await ask(commands, f"story {story_id.upper()}")
    assert not error
    assert "9 → 22 → 29 → 33" in text
    assert "open conflict" in text and "34" in text
    assert "Dogan" in text and "officials:" in text
    # Sources as the articles name them, not the normalised keys they are matched by.
    assert "sources: Rahmi Dogan, Syrian Observatory for Human Rights, unknown" in text


async def test_stories_statements_sources_and_status(commands: Commands) -> None:
    text, _ = await ask(commands, "stories")
    assert text.startswith("tracked stories") and "killed" in text
    text, _ = await ask(commands, "stories no-such-topic-anywhere")
    assert "no tracked stories" in text
    story_id = await seed_story_id(commands)
    text, _ = await ask(commands, f"statements {story_id}")
    assert "Guterres" in text or "Stoltenberg" in text
    text, _ = await ask(commands, f"sources {story_id}")
    assert len(text.splitlines()) == 6  # title + five seed articles
    text, _ = await ask(commands, "status")
    assert "tracked stories: 1" in text and "latest alerts" in text
    assert "health: ok" in text


async def test_status_shows_open_health_problems_and_the_delivery_backlog(
    commands: Commands, uow_factory: UowFactory
) -> None:
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    async with uow_factory() as uow:
        await uow.begin_write()
        assert await uow.health.open_episode("delivery_lag", now, "alerts 15 min late")
        alerts = await uow.alerts.recent(2)
        queued = plan_deliveries(alerts, [], [], [], now, also_to=[Channel("slack", "C1")])
        assert await uow.outbox.add(queued, now) == 2
        await uow.admin_outbox.register_channels([Channel("slack", "CADMIN")], now)
        assert await uow.admin_alerts.add(
            AdminAlert.health("delivery_lag", "alerts 15 min late", now, over=False)
        )
        await uow.commit()
    text, _ = await ask(commands, "status")
    assert "health: unhealthy: delivery lag since 2026-03-01 12:00 UTC" in text
    assert (
        "chat deliveries: 2 pending; 1 admin alert(s) unsent; "
        "oldest unsent from 2026-03-01 12:00 UTC"
    ) in text


async def test_unknown_and_incomplete_commands_answer_helpfully(commands: Commands) -> None:
    text, error = await ask(commands, "stroy abc")
    assert error and "Did you mean `story`" in text
    text, error = await ask(commands, "story")
    assert error and "needs a story ID" in text
    text, error = await ask(commands, "story zzzzzz")
    assert error and "no story" in text
    text, error = await ask(commands, "help")
    assert not error and "timeline ID" in text and "feeds add URL" in text


async def test_only_admins_manage_feeds(commands: Commands) -> None:
    text, error = await ask(commands, "feeds add https://wire.example/rss")
    assert error and "only admins" in text
    text, error = await ask(commands, "feeds add http://169.254.169.254/x", admin=True)
    assert error and "link-local" in text
    text, error = await ask(
        commands, "feeds add https://wire.example/rss --interval 120 --tags a,b", admin=True
    )
    assert not error and "added f-" in text and "120s" in text
    text, error = await ask(
        commands, "feeds add https://other.example/ --interval soon", admin=True
    )
    assert error and "--interval" in text
    text, _ = await ask(commands, "feeds")
    assert "wire.example" in text and "active" in text
    text, error = await ask(commands, "feeds pause https://wire.example/rss")
    assert error
    text, error = await ask(commands, "feeds pause https://wire.example/rss", admin=True)
    assert not error and "paused" in text


async def test_feeds_list_in_chat_never_shows_a_urls_key(commands: Commands) -> None:
    url = "https://wire.example/rss?api_key=s3cr3t-token&lang=en"
    _, error = await ask(commands, f"feeds add {url} --name Wire", admin=True)
    assert not error
    text, _ = await ask(commands, "feeds")
    assert "wire.example/rss" in text and "s3cr3t-token" not in text and "api_key" not in text


def test_apostrophes_inside_words_are_text_not_quotes() -> None:
    # Phones type "’"; both it and "'" inside a word used to open an unclosed quote.
    assert parse_command("stories Turkey’s strike") == ("stories", ("Turkey's", "strike"))
    assert parse_command("stories Turkey's strike") == ("stories", ("Turkey's", "strike"))
    assert parse_command("subscribe keyword 'gas leak'") == ("subscribe", ("keyword", "gas leak"))
    assert parse_command("stories “Turkey’s strike”") == ("stories", ("Turkey's strike",))


async def test_timeline_has_a_panel_per_figure_a_line_per_source_and_dated_axes(
    commands: Commands, uow_factory: UowFactory
) -> None:
    import matplotlib.pyplot as plt

    story_id = await seed_story_id(commands)
    async with uow_factory() as uow:
        story = await uow.stories.get(story_id)
    assert story is not None
    fig = timeline_figure(story)
    assert fig is not None
    try:
        fig.canvas.draw()
        killed = fig.axes[0]
        assert killed.get_title(loc="left").startswith("killed · Turkish soldiers")
        legend = killed.get_legend()
        assert legend is not None
        sources = [t.get_text() for t in legend.get_texts()]
        assert "Rahmi Dogan" in sources
        assert any(s.startswith("Syrian Observatory") for s in sources)
        by_source = dict(zip(sources, killed.get_lines(), strict=True))
        assert list(by_source["Rahmi Dogan"].get_ydata()) == [9, 22, 29, 33]
        # Each value is printed beside its point, the conflicting 34 included.
        printed = [t.get_text() for t in killed.texts]
        assert {"9", "22", "29", "33", "34"} <= set(printed)
        # Dates on the time axis (UTC), counts with thousands separators.
        ticks = [t.get_text() for t in killed.get_xticklabels()]
        assert "Feb-27" in ticks and "Feb-28" in ticks
        assert fig.axes[-1].get_xlabel() == "time (UTC)"
        assert fig.axes[-1].yaxis.get_major_formatter()(1_000_000, 0) == "1,000,000"
    finally:
        plt.close(fig)
