"""The fake Discord platform against the real discord.py client (nothing monkeypatched).

Only the three documented class attributes are pointed at the fake, and restored afterwards.
The bot runs in the test's own loop, so the tests use the fake's ``*_async`` waiting helpers.
"""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import discord
import httpx
import pytest
import yarl
from discord import app_commands

from tests.fakes.discord_server import FakeDiscord

CSV = b"day,deaths\n2024-01-01,12\n2024-01-02,15\n"
STORIES = ("s-1", "s-2", "t-3")


@dataclass
class Bot:
    client: discord.Client
    tree: app_commands.CommandTree[discord.Client]
    fake: FakeDiscord

    def channel(self, name: str) -> discord.TextChannel:
        found = self.client.get_channel(int(self.fake.channel_ids[name]))
        assert isinstance(found, discord.TextChannel)
        return found


def build_client() -> tuple[discord.Client, app_commands.CommandTree[discord.Client]]:
    """A client with ``/claimwatch ping`` (immediate, autocompleted) and ``report`` (deferred)."""
    # guild_ready_timeout: on_ready waits this long after the last GUILD_CREATE (2 s by default).
    client = discord.Client(intents=discord.Intents.default(), guild_ready_timeout=0.05)
    tree: app_commands.CommandTree[discord.Client] = app_commands.CommandTree(client)
    group = app_commands.Group(name="claimwatch", description="Claimwatch commands")

    @group.command(name="ping", description="Answer at once")
    async def ping(interaction: discord.Interaction, story: str) -> None:
        await interaction.response.send_message(f"pong {story}", ephemeral=True)

    @ping.autocomplete("story")
    async def story_choices(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [
            app_commands.Choice(name=f"Story {s}", value=s)
            for s in STORIES
            if s.startswith(current)
        ]

    @group.command(name="report", description="Defer, then answer with a file")
    async def report(interaction: discord.Interaction, days: int) -> None:
        await interaction.response.defer(thinking=True)
        await asyncio.sleep(0.05)
        chart = discord.File(io.BytesIO(CSV), filename="report.csv")
        await interaction.edit_original_response(content=f"report {days}", attachments=[chart])
        await interaction.followup.send("done", file=discord.File(io.BytesIO(b"x" * 3), "x.bin"))

    tree.add_command(group)
    return client, tree


@pytest.fixture
def fake() -> Iterator[FakeDiscord]:
    with FakeDiscord() as server:
        yield server


@pytest.fixture
def pointed(fake: FakeDiscord) -> Iterator[FakeDiscord]:
    """Point discord.py at the fake through its three class attributes, then restore them."""
    saved = (
        discord.http.Route.BASE,
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY,
        discord.asset.Asset.BASE,
    )
    discord.http.Route.BASE = fake.api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
    discord.asset.Asset.BASE = fake.base_url
    try:
        yield fake
    finally:
        (
            discord.http.Route.BASE,
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY,
            discord.asset.Asset.BASE,
        ) = saved


@pytest.fixture
async def bot(pointed: FakeDiscord) -> AsyncIterator[Bot]:
    client, tree = build_client()
    task = asyncio.create_task(client.start(pointed.token))
    await pointed.wait_for_async(lambda: pointed.connected() or task.done())
    if task.done():
        task.result()  # surface the client's own error
    await asyncio.wait_for(client.wait_until_ready(), 5)
    try:
        yield Bot(client, tree, pointed)
    finally:
        await client.close()
        await asyncio.wait_for(task, 5)


def test_json_content_type_and_auth(fake: FakeDiscord) -> None:
    with httpx.Client(base_url=fake.api_base) as http:
        ok = http.get("/users/@me", headers={"Authorization": f"Bot {fake.token}"})
        denied = http.get("/users/@me")
        unknown = http.get("/nowhere", headers={"Authorization": f"Bot {fake.token}"})
    assert ok.headers["content-type"] == "application/json"
    assert ok.json()["id"] == fake.bot_user_id
    assert denied.status_code == 401
    assert unknown.status_code == 404 and unknown.headers["content-type"] == "application/json"
    assert [r.status for r in fake.requests] == [200, 401, 404]


async def test_client_logs_in_and_sees_the_guild(bot: Bot) -> None:
    fake = bot.fake
    assert bot.client.user is not None and str(bot.client.user.id) == fake.bot_user_id
    assert bot.client.application_id == int(fake.application_id)
    guild = bot.client.get_guild(int(fake.guild_id))
    assert guild is not None
    assert sorted(c.name for c in guild.text_channels) == ["alerts", "general"]
    assert [r.name for r in guild.roles] == ["@everyone", "Editors"]
    assert fake.connected() and fake.identify_count == 1


async def test_sync_registers_guild_commands_with_stable_ids(bot: Bot) -> None:
    guild = discord.Object(int(bot.fake.guild_id))
    bot.tree.copy_global_to(guild=guild)
    synced = await bot.tree.sync(guild=guild)
    stored = bot.fake.registered_commands(bot.fake.guild_id)
    assert [c["name"] for c in stored] == ["claimwatch"]
    assert [o["name"] for o in stored[0]["options"]] == ["ping", "report"]
    assert str(synced[0].id) == stored[0]["id"]
    again = await bot.tree.sync(guild=guild)
    assert again[0].id == synced[0].id
    assert bot.fake.registered_commands() == []


async def test_slash_command_answered_at_once(bot: Bot) -> None:
    await bot.tree.sync(guild=None)
    inter = bot.fake.slash("claimwatch", "ping", {"story": "s-1"}, user_id="U7")
    await inter.wait_done_async(3)
    assert inter.callback_type == 4 and inter.ephemeral
    original = inter.original
    assert original is not None and original.content == "pong s-1"
    assert inter.done_at is not None and inter.done_at - inter.created_at < 3
    assert bot.fake.messages(bot.fake.channel_ids["general"]) == []  # ephemeral: not listed


async def test_deferred_answer_with_file_attachment(bot: Bot) -> None:
    fake = bot.fake
    inter = fake.slash("claimwatch", "report", {"days": 7})
    await inter.wait_done_async(3)
    assert inter.callback_type == 5 and not inter.ephemeral
    original = inter.original
    assert original is not None and original.content == "report 7"
    [attachment] = original.attachments
    assert (attachment["filename"], attachment["bytes"]) == ("report.csv", CSV)
    assert attachment["content_type"] == "text/csv"
    await fake.wait_for_async(lambda: inter.followups)
    [followup] = inter.followups
    assert followup.content == "done" and followup.attachments[0]["bytes"] == b"xxx"
    listed = await fake.wait_for_messages_async(fake.channel_ids["general"], 2)
    assert [m.content for m in listed] == ["report 7", "done"]


async def test_autocomplete_returns_choices(bot: Bot) -> None:
    inter = bot.fake.autocomplete("claimwatch", "ping", "story", "s-")
    await inter.wait_done_async(3)
    assert inter.callback_type == 8
    assert inter.choices == [
        {"name": "Story s-1", "value": "s-1"},
        {"name": "Story s-2", "value": "s-2"},
    ]


async def test_send_with_embed_and_mentions_then_edit(bot: Bot) -> None:
    channel = bot.channel("alerts")
    embed = discord.Embed(title="Deaths revised", description="12 → 15")
    sent = await channel.send(
        "update", embed=embed, allowed_mentions=discord.AllowedMentions.none()
    )
    [stored] = bot.fake.messages(channel.id)
    assert stored.id == str(sent.id) and stored.content == "update"
    assert stored.embeds[0]["title"] == "Deaths revised"
    assert stored.allowed_mentions == {"parse": []}
    await sent.edit(content="update (corrected)")
    [edited] = bot.fake.messages(channel.id)
    assert edited.content == "update (corrected)"
    assert [e.before["content"] for e in edited.edits] == ["update"]
    fetched = await channel.fetch_message(sent.id)
    assert fetched.content == "update (corrected)" and fetched.edited_at is not None


async def test_thread_from_message_and_post_into_it(bot: Bot) -> None:
    channel = bot.channel("alerts")
    root = await channel.send("story s-1")
    thread = await root.create_thread(name="Story s-1")
    await thread.send("figure changed")
    [record] = bot.fake.threads()
    assert (record.id, record.parent_id, record.message_id) == (
        str(root.id),
        str(channel.id),
        str(root.id),
    )
    assert [m.content for m in bot.fake.messages(thread.id)] == ["figure changed"]
    assert [m.content for m in bot.fake.messages(channel.id)] == ["story s-1"]
    await bot.fake.wait_for_async(lambda: bot.client.get_channel(thread.id))  # THREAD_CREATE


async def test_rate_limit_is_waited_out(bot: Bot) -> None:
    channel = bot.channel("alerts")
    bot.fake.rate_limit(3, 0.2)
    started = time.monotonic()
    await channel.send("after the limit")
    assert time.monotonic() - started >= 0.55
    path = f"/api/v10/channels/{channel.id}/messages"
    posts = [r.status for r in bot.fake.requests if r.method == "POST" and r.path == path]
    assert posts == [429, 429, 429, 200]
    assert [m.content for m in bot.fake.messages(channel.id)] == ["after the limit"]


async def test_deleted_forbidden_and_outage(bot: Bot) -> None:
    fake = bot.fake
    fake.delete_channel(fake.channel_ids["alerts"])
    with pytest.raises(discord.NotFound) as missing:
        await bot.channel("alerts").send("lost")
    assert missing.value.code == 10003
    fake.forbid_channel(fake.channel_ids["general"])
    with pytest.raises(discord.Forbidden) as denied:
        await bot.channel("general").send("denied")
    assert denied.value.code == 50001
    fake.restore_channel(fake.channel_ids["general"])
    fake.outage(0.3)
    with pytest.raises(discord.DiscordServerError):
        await bot.channel("general").send("down")
    await asyncio.sleep(0.3)
    await bot.channel("general").send("back")
    assert [m.content for m in fake.all_messages()] == ["back"]


async def test_gateway_resume_after_dropped_connection(bot: Bot) -> None:
    bot.fake.drop_connections()
    await bot.fake.wait_for_async(lambda: bot.fake.resume_count == 1 and bot.fake.connected())
    inter = bot.fake.slash("claimwatch", "ping", {"story": "s-2"})
    await inter.wait_done_async(3)
    assert bot.fake.identify_count == 1


async def test_webhook_post_with_plain_http(fake: FakeDiscord) -> None:
    async with httpx.AsyncClient() as http:
        answer = await http.post(
            fake.webhook_url,
            params={"wait": "true"},
            json={"content": "alert", "embeds": [{"title": "T"}], "username": "claimwatch"},
        )
        silent = await http.post(fake.webhook_url, json={"content": "quiet"})
        upload = await http.post(
            fake.webhook_url,
            params={"wait": "true"},
            data={"payload_json": '{"content": "chart"}'},
            files={"files[0]": ("chart.png", b"\x89PNG", "image/png")},
        )
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    assert silent.status_code == 204 and upload.status_code == 200
    alerts = fake.messages(fake.channel_ids["alerts"])
    assert [(m.content, m.via_webhook) for m in alerts] == [
        ("alert", True),
        ("quiet", True),
        ("chart", True),
    ]
    assert alerts[0].id == answer.json()["id"] and alerts[0].embeds == [{"title": "T"}]
    assert alerts[2].attachments[0]["bytes"] == b"\x89PNG"
