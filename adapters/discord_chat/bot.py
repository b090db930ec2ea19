"""The Discord bot: a ``/claimwatch`` command group whose listeners only parse and delegate.

Each subcommand turns its options into a neutral :class:`CommandRequest`, defers
at once (Discord allows 3 seconds for the first answer; a timeline chart takes
longer), lets the core's :class:`Commands` answer, and renders the neutral reply as
an embed (plus the chart as an attachment). Story-ID options autocomplete from the
tracked stories.

Admin commands need Manage Server, or one of the roles named in
``CLAIMWATCH_DISCORD_ADMIN_ROLES`` (ids or names).
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Sequence
from typing import Literal

import discord
import yarl
from discord import app_commands

from adapters.discord_chat.render import MENTIONS_OFF, reply_parts
from adapters.discord_chat.transport import DiscordTransport
from bot.commands.handlers import Commands
from bot.commands.model import CommandRequest, Reply

log = logging.getLogger(__name__)

PLATFORM = "discord"


def point_at(api_base: str, gateway_url: str) -> None:
    """Tell discord.py where Discord is. It has no per-client option for this; the
    class attributes are the documented-by-source way (tests point them at a fake)."""
    discord.http.Route.BASE = api_base.rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
    root = api_base.split("/api", 1)[0]
    if not api_base.startswith("https://discord.com"):
        discord.asset.Asset.BASE = root


def is_admin(interaction: discord.Interaction, admin_roles: Sequence[str]) -> bool:
    """Manage Server (or Administrator) in this guild, or a configured admin role."""
    perms = interaction.permissions
    if perms.manage_guild or perms.administrator:
        return True
    user = interaction.user
    if isinstance(user, discord.Member):
        if user.guild_permissions.manage_guild or user.guild_permissions.administrator:
            return True
        wanted = {r.strip().lower() for r in admin_roles if r.strip()}
        return any(str(role.id) in wanted or role.name.lower() in wanted for role in user.roles)
    return False


def _client() -> discord.Client:
    intents = discord.Intents.none()
    intents.guilds = True
    return discord.Client(
        intents=intents,
        allowed_mentions=MENTIONS_OFF,
        # Waits longer than this come back to us as RateLimited (the outbox waits
        # instead of a send blocking a delivery slot).
        max_ratelimit_timeout=30.0,
    )


class DiscordSender:
    """REST only, no gateway: how workers send alerts (any number of them may)."""

    def __init__(self, *, token: str, admin_channel: int | None = None) -> None:
        self._token = token
        self.client = _client()
        self.transport = DiscordTransport(self.client, admin_channel=admin_channel)

    async def open(self) -> None:
        """Log in over HTTP (checks the token); no gateway connection is made."""
        await self.client.login(self._token)

    async def aclose(self) -> None:
        await self.client.close()


class DiscordBot:
    """A ``Service`` for the runner: connects, registers commands, answers them."""

    def __init__(
        self,
        commands: Commands,
        *,
        token: str,
        guild_id: int | None = None,
        admin_roles: Sequence[str] = (),
        admin_channel: int | None = None,
    ) -> None:
        self._commands = commands
        self._token = token
        self._guild_id = guild_id
        self._admin_roles = list(admin_roles)
        self.client = _client()
        self.tree = app_commands.CommandTree(self.client)
        self.tree.add_command(self._group())
        self.client.setup_hook = self._setup  # type: ignore[method-assign]
        self.transport = DiscordTransport(self.client, admin_channel=admin_channel)
        self._task: asyncio.Task[None] | None = None

    async def _setup(self) -> None:
        """After login, before the gateway: register the commands (guild sync is instant)."""
        try:
            if self._guild_id is not None:
                guild = discord.Object(self._guild_id)
                self.tree.copy_global_to(guild=guild)
                await self.tree.sync(guild=guild)
            else:
                await self.tree.sync()
        except discord.HTTPException:
            log.exception("registering the slash commands failed; they may be out of date")

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="discord")

    async def _run(self) -> None:
        try:
            await self.client.start(self._token)
        except discord.LoginFailure:
            log.error("Discord refused the token (CLAIMWATCH_DISCORD_TOKEN)")
        except Exception:
            log.exception("the Discord client stopped")

    async def stop(self) -> None:
        await self.client.close()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)

    # --- listeners: parse, delegate, render ------------------------------------------

    async def answer(
        self, interaction: discord.Interaction, command: str, *args: str | None
    ) -> None:
        request = CommandRequest(
            command=command,
            args=tuple(a for a in args if a),
            user=str(interaction.user.id),
            channel=str(interaction.channel_id or ""),
            is_admin=is_admin(interaction, self._admin_roles),
            platform=PLATFORM,
        )
        private = command in ("help", "subscriptions")
        await interaction.response.defer(thinking=True, ephemeral=private)
        try:
            reply = await self._commands.handle(request)
        except Exception:
            log.exception("command %s failed", command)
            reply = Reply.fail("something went wrong on our side; it has been logged")
        await self._send(interaction, reply, deferred_private=private)

    async def _send(
        self, interaction: discord.Interaction, reply: Reply, *, deferred_private: bool
    ) -> None:
        content, embeds = reply_parts(reply)
        files = (
            [discord.File(io.BytesIO(reply.image), filename=reply.image_name or "chart.png")]
            if reply.image
            else []
        )
        if reply.ephemeral and not deferred_private:
            # The "thinking…" message is public; an error belongs to the asker alone.
            await interaction.delete_original_response()
            await interaction.followup.send(
                content=content or "\u200b",
                embeds=embeds,
                ephemeral=True,
                allowed_mentions=MENTIONS_OFF,
            )
            return
        await interaction.edit_original_response(
            content=content or None,
            embeds=embeds,
            attachments=files,
            allowed_mentions=MENTIONS_OFF,
        )

    async def suggest(self, current: str) -> list[app_commands.Choice[str]]:
        try:
            found = await self._commands.suggest_stories(current)
        except Exception:
            log.exception("story autocomplete failed")
            return []
        return [app_commands.Choice(name=label[:100], value=sid) for sid, label in found]

    def _group(self) -> app_commands.Group:
        group = app_commands.Group(name="claimwatch", description="News figures, watched")
        bot = self

        async def story_ids(
            interaction: discord.Interaction, current: str
        ) -> list[app_commands.Choice[str]]:
            return await bot.suggest(current)

        def story_command(name: str, description: str) -> None:
            @group.command(name=name, description=description)
            @app_commands.describe(id="story ID (type to search)")
            @app_commands.autocomplete(id=story_ids)
            async def handler(interaction: discord.Interaction, id: str) -> None:
                await bot.answer(interaction, name, id)

        story_command("story", "Each figure with its history and sources, conflicts, officials")
        story_command("timeline", "A chart of each figure over time, one line per source")
        story_command("statements", "Who said what in a story")
        story_command("sources", "The articles of a story")
        story_command("unmute", "End a mute of a story in this channel")

        @group.command(name="help", description="What claimwatch can do")
        async def help_(interaction: discord.Interaction) -> None:
            await bot.answer(interaction, "help")

        @group.command(name="status", description="Feeds, their health and the latest alerts")
        async def status(interaction: discord.Interaction) -> None:
            await bot.answer(interaction, "status")

        @group.command(name="stories", description="Tracked stories, newest first")
        @app_commands.describe(query="words to look for in titles")
        async def stories(interaction: discord.Interaction, query: str | None = None) -> None:
            await bot.answer(interaction, "stories", query)

        @group.command(name="feeds", description="List or manage feeds (changes: admins)")
        @app_commands.describe(
            action="what to do", target="feed URL (add) or ID/URL", interval="seconds (add)"
        )
        async def feeds(
            interaction: discord.Interaction,
            action: Literal["list", "add", "remove", "pause", "resume"] = "list",
            target: str | None = None,
            interval: int | None = None,
            name: str | None = None,
        ) -> None:
            await bot.answer(interaction, "feeds", *_feeds_args(action, target, interval, name))

        @group.command(name="subscribe", description="Send this channel alerts (admins)")
        @app_commands.describe(
            target="all tracked stories, one story, or a keyword",
            value="story ID or keyword",
            types="alert types, comma-separated (default: all)",
            min_severity="lowest severity sent",
        )
        @app_commands.autocomplete(value=story_ids)
        async def subscribe(
            interaction: discord.Interaction,
            target: Literal["all", "story", "keyword"] = "all",
            value: str | None = None,
            types: str | None = None,
            min_severity: Literal["low", "medium", "high", "critical"] | None = None,
        ) -> None:
            args = _subscribe_args(target, value, types, min_severity)
            await bot.answer(interaction, "subscribe", *args)

        @group.command(name="unsubscribe", description="Stop alerts in this channel (admins)")
        async def unsubscribe(
            interaction: discord.Interaction,
            target: Literal["all", "story", "keyword", "id"] = "all",
            value: str | None = None,
        ) -> None:
            await bot.answer(interaction, "unsubscribe", *_unsubscribe_args(target, value))

        @group.command(name="subscriptions", description="What this channel gets")
        async def subscriptions(interaction: discord.Interaction) -> None:
            await bot.answer(interaction, "subscriptions")

        @group.command(name="mute", description="No alerts about a story here for a while")
        @app_commands.describe(id="story ID", duration="e.g. 30m, 2h, 1d (default 24h)")
        @app_commands.autocomplete(id=story_ids)
        async def mute(
            interaction: discord.Interaction, id: str, duration: str | None = None
        ) -> None:
            await bot.answer(interaction, "mute", id, duration)

        @group.command(name="digest", description="Batch low-severity alerts (admins)")
        @app_commands.describe(interval="e.g. 1h (default)")
        async def digest(
            interaction: discord.Interaction,
            mode: Literal["on", "off"],
            interval: str | None = None,
        ) -> None:
            await bot.answer(interaction, "digest", mode, interval)

        @group.command(name="replay", description="Play the demo articles into this channel")
        async def replay(
            interaction: discord.Interaction, what: Literal["seeds"] = "seeds"
        ) -> None:
            await bot.answer(interaction, "replay", what)

        return group


# The options of a slash command, as the words of the core's command line (a listener only
# parses and delegates; the command layer validates).


def _feeds_args(
    action: str, target: str | None, interval: int | None, name: str | None
) -> list[str | None]:
    args: list[str | None] = [action, target]
    if interval is not None:
        args += ["--interval", str(interval)]
    if name:
        args += ["--name", name]
    return args


def _target_words(target: str, value: str | None) -> list[str | None]:
    return [target, *(value.split() if target == "keyword" and value else [value])]


def _subscribe_args(
    target: str, value: str | None, types: str | None, min_severity: str | None
) -> list[str | None]:
    args = _target_words(target, value)
    if types:
        args += ["--types", types]
    if min_severity:
        args += ["--min-severity", min_severity]
    return args


def _unsubscribe_args(target: str, value: str | None) -> list[str | None]:
    return [value] if target == "id" else _target_words(target, value)
