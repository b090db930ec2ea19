"""The fake Slack platform, exercised with the real slack-sdk and slack-bolt clients.

These tests pin down that the fake speaks the protocol the way the clients expect it (body
encodings, the files v2 flow, retries on 429/503, Socket Mode envelopes and acks, request
signing), so that adapter tests built on it fail for the adapter's faults, not the fake's.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from tests.fakes.slack_server import FakeSlack, slack_signature

# A 1×1 PNG; the NUL and high bytes catch any text decoding on the way.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY")


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """slack-sdk routes loopback traffic through HTTP(S)_PROXY and ignores NO_PROXY."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack(channels=("alerts", "general"), admins=("UADMIN",)) as running:
        yield running


@pytest.fixture
def client(fake: FakeSlack) -> AsyncWebClient:
    """The client the bot builds: retries on 429 (twice, for rate_limit(2)) and on 5xx."""
    return AsyncWebClient(
        token=fake.bot_token,
        base_url=fake.api_base,
        retry_handlers=[
            AsyncRateLimitErrorRetryHandler(max_retry_count=2),
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ],
    )


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock


def claimwatch_app(client: AsyncWebClient, signing_secret: str = "") -> AsyncApp:
    """A Bolt app with the shape of the real bot's command: ack at once, answer later."""
    app = AsyncApp(client=client, signing_secret=signing_secret, name="claimwatch-test")

    @app.command("/claimwatch")
    async def claimwatch(ack: AsyncAck, respond: AsyncRespond, command: dict[str, Any]) -> None:
        await ack(f"Looking up {command['text']}…")
        await respond(text=f"Story: {command['text']}", response_type="ephemeral")

    return app


# ------------------------------------------------------------------------------ Web API


async def test_post_update_thread_and_file_upload(fake: FakeSlack, client: AsyncWebClient) -> None:
    alerts = fake.channel_ids["alerts"]
    auth = await client.auth_test()
    assert (auth["user_id"], auth["team_id"]) == (fake.bot_user_id, fake.team_id)

    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*12 dead*"}}]
    posted = await client.chat_postMessage(
        channel=alerts, text="12 dead", blocks=blocks, unfurl_links=False
    )
    updated = await client.chat_update(channel=alerts, ts=posted["ts"], text="14 dead")
    reply = await client.chat_postMessage(channel=alerts, text="source", thread_ts=posted["ts"])
    upload = await client.files_upload_v2(
        channel=alerts,
        thread_ts=posted["ts"],
        content=PNG,
        filename="timeline.png",
        title="Timeline",
        initial_comment="chart",
    )

    assert updated["ts"] == posted["ts"] < reply["ts"]
    assert upload["file"]["name"] == "timeline.png"
    [message] = fake.messages("alerts")
    assert (message.text, message.blocks, message.unfurl_links) == ("14 dead", None, False)
    assert [(e.previous_text, e.text) for e in message.edits] == [("12 dead", "14 dead")]
    assert message.edits[0].previous_blocks == blocks
    assert [r.text for r in message.replies] == ["source", "chart"]
    assert fake.thread(alerts, posted["ts"])[1].subtype == "file_share"
    [uploaded] = fake.files()
    assert uploaded.data == PNG
    assert (uploaded.filename, uploaded.title, uploaded.initial_comment) == (
        "timeline.png",
        "Timeline",
        "chart",
    )
    assert (uploaded.channel, uploaded.thread_ts) == (alerts, posted["ts"])


async def test_reads_users_and_channels(fake: FakeSlack, client: AsyncWebClient) -> None:
    admin = await client.users_info(user="UADMIN")
    other = await client.users_info(user="U1")
    assert (admin["user"]["is_admin"], other["user"]["is_admin"]) == (True, False)
    info = await client.conversations_info(channel=fake.channel_ids["general"])
    assert info["channel"]["name"] == "general"
    await client.chat_postEphemeral(channel="general", user="U1", text="only you")
    assert [(e.user, e.text) for e in fake.ephemerals()] == [("U1", "only you")]


async def test_rate_limited_post_is_retried(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.rate_limit(2, 1)
    started = time.monotonic()
    await client.chat_postMessage(channel="alerts", text="after the limit")
    assert time.monotonic() - started >= 2  # Retry-After was honoured twice
    statuses = [r.status for r in fake.requests if r.method == "chat.postMessage"]
    assert statuses == [429, 429, 200]
    assert [m.text for m in fake.messages("alerts")] == ["after the limit"]


async def test_outage_then_recovery(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.outage(0.2)
    await client.chat_postMessage(channel="alerts", text="after the outage")
    statuses = [c.status for c in fake.calls("chat.postMessage")]
    assert statuses[0] == 503 and statuses[-1] == 200


@pytest.mark.parametrize(
    ("breakage", "error"),
    [
        (FakeSlack.archive_channel, "is_archived"),
        (FakeSlack.remove_bot_from, "not_in_channel"),
        (FakeSlack.delete_channel, "channel_not_found"),
    ],
)
async def test_channel_breakage(
    fake: FakeSlack, client: AsyncWebClient, breakage: Any, error: str
) -> None:
    breakage(fake, fake.channel_ids["alerts"])
    with pytest.raises(SlackApiError) as raised:
        await client.chat_postMessage(channel=fake.channel_ids["alerts"], text="x")
    assert raised.value.response["error"] == error


async def test_wrong_token_and_unknown_ts(fake: FakeSlack, client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError, match="invalid_auth"):
        await AsyncWebClient(token="xoxb-wrong", base_url=fake.api_base).auth_test()
    with pytest.raises(SlackApiError, match="message_not_found"):
        await client.chat_update(channel="alerts", ts="1.000001", text="x")


async def test_incoming_webhook(fake: FakeSlack) -> None:
    webhook = AsyncWebhookClient(fake.webhook_url)
    sent = await webhook.send(text="via hook")
    assert (sent.status_code, sent.body) == (200, "ok")
    fake.rate_limit(1)
    limited = await webhook.send(text="dropped")
    assert limited.status_code == 429
    assert [(m.text, m.via_webhook) for m in fake.messages("alerts")] == [("via hook", True)]


def test_a_bot_in_a_subprocess(fake: FakeSlack) -> None:
    """The fake serves another process while the test blocks in synchronous waits."""
    env = {k: v for k, v in os.environ.items() if k not in PROXY_VARIABLES}
    script = (
        "import sys\nfrom slack_sdk import WebClient\n"
        "WebClient(token=sys.argv[1], base_url=sys.argv[2])"
        ".chat_postMessage(channel='general', text='from a subprocess')\n"
    )
    subprocess.run(
        [sys.executable, "-c", script, fake.bot_token, fake.api_base],
        env=env,
        check=True,
        timeout=30,
    )
    [message] = fake.wait_for_messages("general", 1, timeout=2)
    assert message.text == "from a subprocess"


# ------------------------------------------------------------------------------ Socket Mode


async def test_socket_mode_slash_command(fake: FakeSlack, client: AsyncWebClient) -> None:
    handler = AsyncSocketModeHandler(claimwatch_app(client), fake.app_token, web_client=client)
    await handler.connect_async()
    try:
        await fake.wait_connected_async(timeout=3)
        command = fake.slash("story x")
        ack = await command.wait_acked_async(timeout=3)
        [response] = await command.wait_response_async(timeout=3)

        assert ack == {"text": "Looking up story x…"}
        assert command.ack_seconds is not None and command.ack_seconds < 3
        assert response["text"] == "Story: story x"
        assert response["response_type"] == "ephemeral"

        fake.disconnect_socket()  # Slack rotates connections; the client must reconnect
        assert await fake.wait_connected_async(timeout=3, count=2) == 2
        again = fake.slash("story y", user_id="UADMIN")
        assert await again.wait_acked_async(timeout=3) == {"text": "Looking up story y…"}
    finally:
        await handler.close_async()


async def test_a_restarted_bot_gets_the_next_command(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    for opened in (1, 2):
        handler = AsyncSocketModeHandler(claimwatch_app(client), fake.app_token)
        await handler.connect_async()
        try:
            await fake.wait_connected_async(timeout=3, count=opened)
            command = fake.slash(f"run {opened}")
            assert await command.wait_response_async(timeout=3)
        finally:
            await handler.close_async()
    assert fake.connection_count == 2
    assert len(fake.calls("apps.connections.open")) == 2


# ------------------------------------------------------------------------------ HTTP mode


@pytest.fixture
async def http_bot(fake: FakeSlack, client: AsyncWebClient) -> AsyncIterator[str]:
    """Bolt's aiohttp app served on 127.0.0.1 (``app.start()`` would bind 0.0.0.0)."""
    app = claimwatch_app(client, signing_secret=fake.signing_secret)
    runner = web.AppRunner(app.web_app(path="/slack/events"))
    await runner.setup()
    sock = free_socket()
    await web.SockSite(runner, sock).start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/slack/events"
    finally:
        await runner.cleanup()


async def test_http_mode_slash_command(fake: FakeSlack, http_bot: str) -> None:
    command = fake.slash("story z", via="http", url=http_bot)
    assert await command.wait_acked_async(timeout=3) == {"text": "Looking up story z…"}
    assert command.ack_status == 200
    [response] = await command.wait_response_async(timeout=3)
    assert response["text"] == "Story: story z"


async def test_http_mode_checks_signatures(fake: FakeSlack, http_bot: str) -> None:
    body = fake.prepare_slash("hi").form_body
    stale = int(time.time()) - 6 * 60

    good = await fake.signed_request_async(http_bot, body)
    bad = await fake.signed_request_async(http_bot, body, bad=True)
    old = await fake.signed_request_async(http_bot, body, timestamp=stale)
    blocking = await asyncio.to_thread(
        fake.signed_request, http_bot, body, secret=fake.signing_secret
    )

    assert good[0] == 200 and blocking[0] == 200
    assert (bad[0], old[0]) == (401, 401)


def test_signature_matches_slack_sdk(fake: FakeSlack) -> None:
    from slack_sdk.signature import SignatureVerifier

    body, stamp = b"a=1&b=%C3%A9", int(time.time())
    signature = slack_signature(fake.signing_secret, stamp, body)
    verifier = SignatureVerifier(fake.signing_secret)
    assert verifier.is_valid(body=body, timestamp=str(stamp), signature=signature)
