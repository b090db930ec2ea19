"""``SlackTransport`` (our adapter) with the real slack-sdk client against the fake Slack.

The end-to-end runs are in test_chat_slack and test_chat_lookup; this looks closely
at what they cannot reach cheaply: finding an uncertain post in a thread longer
than one page, every shape of error body, and each way Slack refuses a look-up.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapters.slack_chat.transport import HISTORY_PAGE, SlackTransport, web_client
from bot.domain.delivery import Channel, StoryCard, StoryThread
from bot.ports import ChannelGone, DeliveryError, RateLimited, TransientFailure
from tests.fakes.slack_server import FakeSlack, OutageBody
from tests.test_delivery import NOW, alert
from tests.test_fake_slack import no_proxy  # noqa: F401 - autouse: slack-sdk ignores NO_PROXY


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack(channels=("alerts",)) as running:
        yield running


async def test_an_uncertain_post_is_found_on_the_last_page_of_a_long_thread(
    fake: FakeSlack,
) -> None:
    channel = fake.channel_ids["alerts"]
    transport = SlackTransport(web_client(fake.bot_token, fake.api_base))
    root = await transport.post_alert(
        channel, alert(n=0), thread=None, idempotency_key="cw0-root", card=None
    )
    thread = StoryThread(Channel("slack", channel), "s1", root.message_id, root.thread_id)
    replies = HISTORY_PAGE + 50  # the parent and 250 replies: two pages, newest on the second
    posted = [
        await transport.post_alert(
            channel, alert(n=n), thread=thread, idempotency_key=f"cw{n}-k", card=None
        )
        for n in range(1, replies + 1)
    ]
    found = await transport.find_posted(channel, f"cw{replies}-k", thread=thread)
    assert found is not None and found.message_id == posted[-1].message_id
    assert len(fake.calls("conversations.replies")) == 2  # it had to turn the page
    assert await transport.find_posted(channel, "cw-never-sent", thread=thread) is None
    found_root = await transport.find_posted(channel, "cw0-root", thread=None)
    assert found_root is not None and found_root.message_id == root.message_id


@pytest.mark.parametrize(
    ("body", "status"), [("html", 503), ("empty", 503), ("text", 503), ("json", 503), ("html", 200)]
)
async def test_every_error_body_is_translated_and_a_5xx_post_is_not_repeated_by_the_client(
    fake: FakeSlack, body: OutageBody, status: int
) -> None:
    """A proxy's HTML page, an empty body or plain text is a 5xx like Slack's own JSON:
    translated (never an AttributeError), named by its kind, and left to the outbox."""
    channel = fake.channel_ids["alerts"]
    transport = SlackTransport(web_client(fake.bot_token, fake.api_base))
    root = await transport.post_alert(
        channel, alert(n=0), thread=None, idempotency_key="cw0-root", card=None
    )
    thread = StoryThread(Channel("slack", channel), "s1", root.message_id, root.thread_id)
    fake.outage(30, status=status, body=body, lands=True)
    with pytest.raises(TransientFailure) as failed:
        await transport.post_alert(
            channel, alert(n=1), thread=thread, idempotency_key="cw1-k", card=None
        )
    kind = {"html": "HTML body", "empty": "empty", "text": "text body", "json": "unavailable"}
    assert str(status) in str(failed.value) and kind[body] in str(failed.value), failed.value
    # The post landed although its answer was an error; the client did not post it again.
    assert len(fake.calls("chat.postMessage")) == 2
    assert len(fake.thread(channel, root.message_id)) == 1
    card = StoryCard("s1", "Ferry", (), (), 1, NOW)
    with pytest.raises(TransientFailure):
        await transport.update_card(thread, card)
    # Reads are not faulted: the look-up finds the post that landed.
    found = await transport.find_posted(channel, "cw1-k", thread=thread, since=NOW)
    assert found is not None


@pytest.mark.parametrize("error", ["missing_scope", "not_in_channel", "unknown_method"])
async def test_a_refused_lookup_is_a_refusal_not_a_gone_channel_nor_a_retry(
    fake: FakeSlack, error: str
) -> None:
    channel = fake.channel_ids["alerts"]
    transport = SlackTransport(web_client(fake.bot_token, fake.api_base))
    root = await transport.post_alert(
        channel, alert(n=0), thread=None, idempotency_key="cw0-root", card=None
    )
    thread = StoryThread(Channel("slack", channel), "s1", root.message_id, root.thread_id)
    fake.refuse_history(error)
    for where in (thread, None):
        with pytest.raises(DeliveryError) as refused:
            await transport.find_posted(channel, "cw0-root", thread=where)
        assert error in str(refused.value)
        assert not isinstance(refused.value, TransientFailure | RateLimited | ChannelGone)
