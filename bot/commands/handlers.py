"""What each command does: read the stories and feeds, answer in plain data.

Handlers are small and read-only except ``feeds`` (the feed catalog; admins only,
since feed URLs make the bot fetch things), the channel commands in
``bot.commands.channels`` and ``replay``.
"""

from __future__ import annotations

import asyncio
import difflib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from bot.charts import render_timeline
from bot.clock import Clock, utc_now
from bot.commands.channels import ChannelCommands, channel_of
from bot.commands.model import CommandRequest, Reply, ReplyField
from bot.commands.parse import CommandError, take_option
from bot.domain.delivery import Channel, DeliveryState
from bot.domain.feeds import FeedState
from bot.domain.stories import Story, lineage_text
from bot.fetching import redact_url
from bot.ports import UnitOfWorkFactory
from bot.service.catalog import FeedCatalog, FeedCommandError, health_line
from bot.service.queries import compact_lineage, figure_label, overview

Handler = Callable[[CommandRequest], Awaitable[Reply]]


@dataclass(frozen=True, slots=True)
class ReplayReport:
    articles: int
    alerts: int
    stories: tuple[str, ...]


Replayer = Callable[[Channel], Awaitable[ReplayReport]]
"""Plays the demo articles with their alerts going (also) to the given channel."""

HELP = {
    "help": "this list",
    "status": "feeds, their health, and the latest alerts",
    "stories [query]": "tracked stories, newest first",
    "story ID": "each figure with its history and sources, open conflicts, officials",
    "statements ID": "who said what in a story, latest first",
    "sources ID": "the articles of a story: outlet, link, time",
    "timeline ID": "a chart of each figure over time, one line per source",
    "subscribe [all | story ID | keyword WORDS] [--types T,…] [--min-severity S]": (
        "send this channel alerts (admins)"
    ),
    "unsubscribe [all | story ID | keyword WORDS | sub-ID]": "stop them (admins)",
    "subscriptions": "what this channel gets, its mutes and digest",
    "mute ID [duration]": "no alerts about a story here for a while (default 24h)",
    "unmute ID": "end a mute",
    "digest on [interval] | off": "batch low-severity alerts (admins)",
    "replay seeds": "play the demo articles into this channel (admins)",
    "feeds add URL [--interval S] [--name N] [--tags a,b]": "watch a feed (admins)",
    "feeds list": "feeds and their health",
    "feeds remove|pause|resume ID": "manage a feed (admins)",
}
MAX_LIST = 15


def _when(value: datetime | None) -> str:
    return "-" if value is None else f"{value:%Y-%m-%d %H:%M} UTC"


class Commands:
    """The command table. ``handle`` never raises for anything a user can type."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        catalog: FeedCatalog,
        *,
        replayer: Replayer | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self._uow_factory = uow_factory
        self._catalog = catalog
        self._replayer = replayer
        channels = ChannelCommands(uow_factory, clock)
        self._table: dict[str, Handler] = {
            "help": self.help,
            "status": self.status,
            "stories": self.stories,
            "story": self.story,
            "statements": self.statements,
            "sources": self.sources,
            "timeline": self.timeline,
            "feeds": self.feeds,
            "subscribe": channels.subscribe,
            "unsubscribe": channels.unsubscribe,
            "subscriptions": channels.subscriptions,
            "mute": channels.mute,
            "unmute": channels.unmute,
            "digest": channels.digest,
            "replay": self.replay,
        }

    @property
    def names(self) -> list[str]:
        return list(self._table)

    async def handle(self, request: CommandRequest) -> Reply:
        handler = self._table.get(request.command)
        if handler is None:
            close = difflib.get_close_matches(request.command, self._table, n=1)
            hint = f" Did you mean `{close[0]}`?" if close else " Try `help`."
            return Reply.fail(f"unknown command {request.command[:40]!r}.{hint}")
        try:
            return await handler(request)
        except (CommandError, FeedCommandError) as exc:
            return Reply.fail(str(exc))

    async def help(self, request: CommandRequest) -> Reply:
        lines = [f"{usage} — {what}" for usage, what in HELP.items()]
        return Reply("claimwatch commands:\n" + "\n".join(lines), ephemeral=True)

    async def status(self, request: CommandRequest) -> Reply:
        async with self._uow_factory() as uow:
            feeds = await uow.feeds.all()
            alerts = await uow.alerts.recent(5)
            tracked = await uow.stories.search(query=None, tracked_only=True, limit=1000)
            problems = await uow.health.open_episodes()
            backlog, oldest = await uow.health.delivery_backlog()
            deliveries = await uow.outbox.counts()
            admin_unsent = (await uow.admin_outbox.counts()).get(DeliveryState.PENDING.value, 0)
        counts: dict[str, int] = {}
        for feed in feeds:
            counts[feed.state.value] = counts.get(feed.state.value, 0) + 1
        summary = ", ".join(f"{n} {state}" for state, n in sorted(counts.items())) or "none"
        fields = [ReplyField("feeds", f"{len(feeds)} ({summary})", inline=True)]
        fields.append(ReplyField("tracked stories", str(len(tracked)), inline=True))
        # The deployment's own health, as the health check last judged it (open episodes).
        health = "; ".join(
            f"{problem.replace('_', ' ')} since {_when(since)}"
            for problem, since in sorted(problems.items())
        )
        fields.append(ReplyField("health", f"unhealthy: {health}" if health else "ok", inline=True))
        if deliveries or admin_unsent:
            parts = [", ".join(f"{n} {state}" for state, n in sorted(deliveries.items()))]
            if admin_unsent:
                parts.append(f"{admin_unsent} admin alert(s) unsent")
            if backlog and oldest:
                parts.append(f"oldest unsent from {_when(oldest)}")
            fields.append(ReplyField("chat deliveries", "; ".join(p for p in parts if p)))
        trouble = [f for f in feeds if f.state in (FeedState.FAILING, FeedState.DISABLED)]
        if trouble:
            fields.append(
                ReplyField("feeds in trouble", "\n".join(health_line(f) for f in trouble[:10]))
            )
        if alerts:
            fields.append(
                ReplyField(
                    "latest alerts",
                    "\n".join(f"[{a.story_id}] {a.type.value}: {a.summary}" for a in alerts),
                )
            )
        return Reply("claimwatch status", tuple(fields))

    async def stories(self, request: CommandRequest) -> Reply:
        query = " ".join(request.args).strip() or None
        async with self._uow_factory() as uow:
            found = await uow.stories.search(query=query, tracked_only=True, limit=MAX_LIST)
        if not found:
            what = f" matching {query!r}" if query else ""
            return Reply(f"no tracked stories{what} yet", ephemeral=True)
        lines = [_story_line(s) for s in found]
        return Reply("tracked stories, newest first:\n" + "\n".join(lines))

    async def _story_arg(self, request: CommandRequest) -> Story:
        if not request.args:
            raise CommandError(f"`{request.command}` needs a story ID (see `stories`)")
        story_id = request.args[0].strip().lower()
        async with self._uow_factory() as uow:
            story = await uow.stories.get(story_id)
        if story is None:
            raise CommandError(f"no story {story_id[:20]!r} (see `stories` for IDs)")
        return story

    async def story(self, request: CommandRequest) -> Reply:
        story = await self._story_arg(request)
        view = overview(story)
        fields: list[ReplyField] = []
        for sv in view.figures:
            ser = sv.series
            head = ser.head
            lines = [compact_lineage(ser)]
            lines.append("history: " + lineage_text(ser.lineage))
            if head is not None:
                lines.append(
                    f"latest: {head.quantity.display()} — {head.source} ({head.outlet}, "
                    f"{_when(head.at)})"
                )
            # Who gave this figure, as named in the articles (by_source is keyed by a
            # normalised form, "dogan", that is not for display).
            sources = sorted({step.source for step in (*ser.lineage, *ser.by_source.values())})
            lines.append("sources: " + ", ".join(sources))
            if ser.confirmations:
                lines.append(f"confirmed {ser.confirmations}×")
            for c in sv.conflicts:
                against = head.quantity.display() if head else "?"
                lines.append(f"open conflict: {c.source} says {c.quantity.display()} vs {against}")
            fields.append(ReplyField(figure_label(ser), "\n".join(lines)))
        if view.speakers:
            names = [f"{sp.name} ({sp.role})" if sp.role else sp.name for sp in view.speakers]
            fields.append(ReplyField("officials", "; ".join(names)))
        title = (
            f"story {story.id} · {story.title}\n{story.profile.article_count} article(s), "
            f"updated {_when(story.updated_at)}"
        )
        return Reply(title, tuple(fields))

    async def statements(self, request: CommandRequest) -> Reply:
        story = await self._story_arg(request)
        async with self._uow_factory() as uow:
            articles = await uow.articles.for_story(story.id)
        said = [
            (stored.article, st)
            for stored in reversed(articles)
            for st in stored.extraction.statements
            if st.official
        ]
        if not said:
            return Reply(f"no official statements in story {story.id} yet", ephemeral=True)
        fields = tuple(
            ReplyField(
                f"{st.speaker}" + (f" ({st.role})" if st.role else ""),
                f"“{st.text}” — {article.outlet}, {_when(article.published)}",
            )
            for article, st in said[:MAX_LIST]
        )
        return Reply(f"statements in story {story.id} · {story.title}", fields)

    async def sources(self, request: CommandRequest) -> Reply:
        story = await self._story_arg(request)
        async with self._uow_factory() as uow:
            articles = await uow.articles.for_story(story.id)
        lines = [
            f"{s.article.outlet} · {_when(s.article.published or s.seen_at)} · "
            f"{s.article.url or s.article.id} · {len(s.extraction.figures)} figure(s)"
            for s in articles[-MAX_LIST:]
        ]
        return Reply(f"sources of story {story.id} · {story.title}\n" + "\n".join(lines))

    async def timeline(self, request: CommandRequest) -> Reply:
        story = await self._story_arg(request)
        png = await asyncio.to_thread(render_timeline, story)
        if png is None:
            return Reply(f"story {story.id} has no figures to chart yet", ephemeral=True)
        return Reply(
            f"timeline of story {story.id} · {story.title}",
            image=png,
            image_name=f"timeline-{story.id}.png",
        )

    async def replay(self, request: CommandRequest) -> Reply:
        if list(request.args) != ["seeds"]:
            raise CommandError("usage: replay seeds")
        channel = channel_of(request)
        if not request.is_admin:
            return Reply.fail("only admins may replay the demo articles")
        if self._replayer is None:
            return Reply.fail("replay is not available here")
        report = await self._replayer(channel)
        if not report.alerts:
            return Reply(
                f"the {report.articles} demo articles were already in; no new alerts "
                "(see `stories`)",
                ephemeral=True,
            )
        return Reply(
            f"replayed {report.articles} demo articles: {report.alerts} alert(s) on their way "
            f"to this channel; stories {', '.join(report.stories)}"
        )

    async def suggest_stories(self, partial: str, limit: int = 25) -> list[tuple[str, str]]:
        """(id, label) of tracked stories whose id starts with or title contains ``partial``.

        For the platforms' autocomplete; never raises (a failing suggestion is none).
        """
        text = partial.strip().lower()[:40]
        async with self._uow_factory() as uow:
            stories = await uow.stories.search(query=None, tracked_only=True, limit=200)
        found = [s for s in stories if not text or s.id.startswith(text) or text in s.title.lower()]
        return [(s.id, f"{s.id} · {s.title}") for s in found[:limit]]

    async def feeds(self, request: CommandRequest) -> Reply:
        args = list(request.args)
        action = args.pop(0).lower() if args else "list"
        if action == "list":
            feeds = await self._catalog.all()
            if not feeds:
                return Reply("no feeds yet; an admin can add one with `feeds add URL`")
            # A feed URL's query string is often an API key: the channel sees it without.
            lines = [f"{f.name} <{redact_url(f.url)}>\n  {health_line(f)}" for f in feeds[:50]]
            more = f"\n… and {len(feeds) - 50} more" if len(feeds) > 50 else ""
            return Reply("feeds:\n" + "\n".join(lines) + more)
        if action not in ("add", "remove", "pause", "resume"):
            raise CommandError("feeds: use add, list, remove, pause or resume")
        if not request.is_admin:
            return Reply.fail(f"only admins may {action} feeds")
        if action == "add":
            interval = take_option(args, "interval")
            name = take_option(args, "name")
            tags = take_option(args, "tags")
            if len(args) != 1:
                raise CommandError("usage: feeds add URL [--interval S] [--name N] [--tags a,b]")
            try:
                seconds = float(interval) if interval is not None else None
            except ValueError:
                raise CommandError(f"--interval must be seconds, not {interval!r}") from None
            feed = await self._catalog.add(
                args[0],
                interval_s=seconds,
                name=name,
                tags=(tags or "").split(","),
                added_by=f"{request.platform}:{request.user}",
            )
            return Reply(
                f"added {feed.id} {feed.url} (every {feed.interval.total_seconds():g}s); "
                "its current items are stored without alerts"
            )
        if len(args) != 1:
            raise CommandError(f"usage: feeds {action} ID-or-URL")
        do = {"remove": self._catalog.remove, "pause": self._catalog.pause}
        feed = await do.get(action, self._catalog.resume)(args[0])
        past = {"remove": "removed", "pause": "paused", "resume": "resumed"}[action]
        return Reply(f"{past} {feed.id} {feed.url}")


def _story_line(story: Story) -> str:
    view = overview(story)
    lead = ""
    if view.figures:
        ser = view.figures[0].series
        if ser.head is not None:
            lead = f" · {ser.metric.value}: {ser.head.quantity.display()}"
    return f"{story.id} · {story.title}{lead} · updated {_when(story.updated_at)}"
