"""``SlackTransport`` (our adapter) with the real slack-sdk client against the fake Slack.

The end-to-end runs are in test_chat_slack; this looks closely at one thing they
cannot reach cheaply: finding an uncertain post in a thread longer than one page.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from adapters.slack_chat.transport import HISTORY_PAGE, SlackTransport, web_client
from bot.domain.alerts import Alert, AlertType, Severity
from bot.domain.delivery import Channel, StoryThread
from tests.fakes.slack_server import FakeSlack
from tests.test_fake_slack import PROXY_VARIABLES

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack(channels=("alerts",)) as running:
        yield running


def alert(n: int) -> Alert:
    return Alert(
        type=AlertType.FIGURE_RISE,
        severity=Severity.HIGH,
        story_id="s1",
        story_title="Flooding in the delta",
        article_id=f"a{n}",
        url="https://news.example/a",
        outlet="Wire",
        published=NOW,
        summary=f"Killed: {n}",
        sentence=f"At least {n} people died.",
        value=float(n),
    )


async def test_an_uncertain_post_is_found_on_the_last_page_of_a_long_thread(
    fake: FakeSlack,
) -> None:
    channel = fake.channel_ids["alerts"]
    transport = SlackTransport(web_client(fake.bot_token, fake.api_base))
    root = await transport.post_alert(
        channel, alert(0), thread=None, idempotency_key="cw0-root", card=None
    )
    thread = StoryThread(Channel("slack", channel), "s1", root.message_id, root.thread_id)
    replies = HISTORY_PAGE + 50  # the parent and 250 replies: two pages, newest on the second
    posted = [
        await transport.post_alert(
            channel, alert(n), thread=thread, idempotency_key=f"cw{n}-k", card=None
        )
        for n in range(1, replies + 1)
    ]
    found = await transport.find_posted(channel, f"cw{replies}-k", thread=thread)
    assert found is not None and found.message_id == posted[-1].message_id
    assert len(fake.calls("conversations.replies")) == 2  # it had to turn the page
    assert await transport.find_posted(channel, "cw-never-sent", thread=thread) is None
    found_root = await transport.find_posted(channel, "cw0-root", thread=None)
    assert found_root is not None and found_root.message_id == root.message_id
