"""``DiscordTransport`` (our adapter) with the real discord.py client against the fake Discord.

The end-to-end runs are in test_chat_discord and test_chat_lookup; this looks closely
at what they cannot reach cheaply: the "did it land?" look-up once the nonce window
has passed, a look-up Discord refuses, and a channel where threads are refused.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import pytest

from adapters.discord_chat.bot import DiscordSender
from adapters.discord_chat.transport import DiscordTransport
from bot.domain.delivery import Channel, StoryCard, StoryThread
from bot.ports import DeliveryError, RateLimited, TransientFailure
from tests.fakes.discord_server import FakeDiscord
from tests.test_delivery import NOW, alert, failing
from tests.test_fake_discord import pointed  # noqa: F401 - points discord.py at the fake

WINDOW = 0.5
"""The fake's nonce window here (Discord: "a few minutes"), short enough to outlast."""


@pytest.fixture
def fake() -> Iterator[FakeDiscord]:
    with FakeDiscord(channels=("alerts", "general"), nonce_window=WINDOW) as server:
        yield server


@pytest.fixture
async def transport(pointed: FakeDiscord) -> AsyncIterator[DiscordTransport]:  # noqa: F811
    sender = DiscordSender(token=pointed.token)
    await sender.open()
    try:
        yield sender.transport
    finally:
        await sender.aclose()


def ours(fake: FakeDiscord, channel: str) -> list[str]:
    """Nonces of the alerts posted in ``channel`` (a channel or a thread id)."""
    return [str(m.payload.get("nonce")) for m in fake.messages(channel) if m.payload.get("nonce")]


async def test_after_the_nonce_window_only_the_lookup_prevents_a_second_post(
    fake: FakeDiscord, transport: DiscordTransport
) -> None:
    channel = fake.channel_ids["alerts"]
    root = await transport.post_alert(
        channel, alert(n=0), thread=None, idempotency_key="cw1-root", card=None
    )
    assert root.thread_id is not None
    thread = StoryThread(Channel("discord", channel), "s1", root.message_id, root.thread_id)
    started = datetime.now(UTC)
    # The post lands; its answer is a 503 (a proxy gave up on a backend that went on).
    fake.outage(30, status=503, lands=True)
    with pytest.raises(TransientFailure):
        await transport.post_alert(
            channel, alert(n=1), thread=thread, idempotency_key="cw2-k", card=None
        )
    fake.outage(0)
    # Within the window Discord's nonce check answers with the message it has.
    again = await transport.post_alert(
        channel, alert(n=1), thread=thread, idempotency_key="cw2-k", card=None
    )
    assert fake.nonce_hits == 1 and ours(fake, root.thread_id) == ["cw2-k"]
    await asyncio.sleep(WINDOW * 2)
    # Past the window the nonce no longer protects: the look-up must find the post
    # (by the key at the end of its footer; history reads carry no nonce).
    found = await transport.find_posted(channel, "cw2-k", thread=thread, since=started)
    assert found is not None and found.message_id == again.message_id
    assert await transport.find_posted(channel, "cw3-never", thread=thread, since=started) is None
    admin = await transport.post_admin(
        fake.channel_ids["general"], failing("f1"), idempotency_key="cwa1-x"
    )
    found_admin = await transport.find_posted(
        fake.channel_ids["general"], "cwa1-x", thread=None, since=started
    )
    assert found_admin is not None and found_admin.message_id == admin.message_id
    # What the look-up spares: without it, a resend past the window is a second message.
    await transport.post_alert(
        channel, alert(n=1), thread=thread, idempotency_key="cw2-k", card=None
    )
    assert ours(fake, root.thread_id) == ["cw2-k", "cw2-k"] and fake.nonce_hits == 1


async def test_a_lookup_discord_refuses_is_a_refusal_not_a_retry(
    fake: FakeDiscord, transport: DiscordTransport
) -> None:
    channel = fake.channel_ids["alerts"]
    root = await transport.post_alert(
        channel, alert(n=0), thread=None, idempotency_key="cw1-root", card=None
    )
    thread = StoryThread(Channel("discord", channel), "s1", root.message_id, root.thread_id)
    fake.forbid_history(channel)
    for where in (thread, None):
        with pytest.raises(DeliveryError) as refused:
            await transport.find_posted(channel, "cw1-root", thread=where, since=None)
        assert "403" in str(refused.value)
        assert not isinstance(refused.value, TransientFailure | RateLimited)
    # Posting is still allowed: the refusal is only about reading.
    await transport.post_alert(
        channel, alert(n=1), thread=thread, idempotency_key="cw2-k", card=None
    )
    assert ours(fake, str(root.thread_id)) == ["cw2-k"]


@pytest.mark.parametrize("status", [403, 404])
async def test_a_refused_thread_is_remembered_per_channel_and_follow_ups_go_in_it(
    fake: FakeDiscord, transport: DiscordTransport, status: int
) -> None:
    channel = fake.channel_ids["alerts"]
    fake.refuse_threads(channel, status)
    first = await transport.post_alert(
        channel, alert("s1", n=1), thread=None, idempotency_key="cw1-a", card=None
    )
    assert first.thread_id is None and first.thread_refused and str(status) in first.thread_refused
    second = await transport.post_alert(
        channel, alert("s2", n=2), thread=None, idempotency_key="cw2-b", card=None
    )
    assert second.thread_id is None and second.thread_refused == first.thread_refused
    no_thread = StoryThread(Channel("discord", channel), "s1", first.message_id, None)
    follow = await transport.post_alert(
        channel, alert("s1", n=3), thread=no_thread, idempotency_key="cw3-c", card=None
    )
    assert follow.thread_id is None
    assert ours(fake, channel) == ["cw1-a", "cw2-b", "cw3-c"]
    asked = [r for r in fake.requests if r.method == "POST" and r.path.endswith("/threads")]
    assert len(asked) == 1, "asked once for the channel, not once per alert"
    # Another channel is asked for itself.
    other = await transport.post_alert(
        fake.channel_ids["general"],
        alert("s4", n=4),
        thread=None,
        idempotency_key="cw4-d",
        card=None,
    )
    assert other.thread_id is not None and other.thread_refused is None


async def test_a_story_root_without_a_thread_gets_one_at_its_next_alert(
    fake: FakeDiscord, transport: DiscordTransport
) -> None:
    """A root found by a look-up (its answer was lost, so no thread was opened) or whose
    thread failed with a 5xx: the next alert opens the thread under it, not a new root."""
    channel = fake.channel_ids["alerts"]
    fake.outage(30, status=503, lands=True)
    with pytest.raises(TransientFailure):
        await transport.post_alert(
            channel, alert(n=1), thread=None, idempotency_key="cw1-root", card=None
        )
    fake.outage(0)
    found = await transport.find_posted(channel, "cw1-root", thread=None, since=None)
    assert found is not None and found.thread_id is None
    rootless = StoryThread(Channel("discord", channel), "s1", found.message_id, None)
    follow = await transport.post_alert(
        channel, alert(n=2), thread=rootless, idempotency_key="cw2-k", card=None
    )
    assert follow.thread_id == found.message_id  # a thread from a message has its id
    assert ours(fake, channel) == ["cw1-root"] and ours(fake, found.message_id) == ["cw2-k"]


@pytest.mark.parametrize("html", [False, True], ids=["json", "html"])
async def test_5xx_answers_of_any_body_are_transient_on_posts_and_card_edits(
    fake: FakeDiscord, transport: DiscordTransport, html: bool
) -> None:
    channel = fake.channel_ids["alerts"]
    root = await transport.post_alert(
        channel, alert(n=0), thread=None, idempotency_key="cw1-root", card=None
    )
    thread = StoryThread(Channel("discord", channel), "s1", root.message_id, root.thread_id)
    fake.outage(30, status=503, html=html)
    with pytest.raises(TransientFailure, match="503"):
        await transport.post_alert(
            channel, alert(n=1), thread=thread, idempotency_key="cw2-k", card=None
        )
    with pytest.raises(TransientFailure, match="503"):
        await transport.update_card(thread, StoryCard("s1", "Ferry", (), (), 1, NOW))
