"""``SlackTransport`` (our adapter) with the real slack-sdk client against the fake Slack.

The end-to-end runs are in test_chat_slack; this looks closely at one thing they
cannot reach cheaply: finding an uncertain post in a thread longer than one page.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapters.slack_chat.transport import HISTORY_PAGE, SlackTransport, web_client
from bot.domain.delivery import Channel, StoryThread
from tests.fakes.slack_server import FakeSlack
from tests.test_delivery import alert
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
