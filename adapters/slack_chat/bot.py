"""The Slack bot: ``/claimwatch …`` through slack-bolt's ``AsyncApp``; listeners parse and delegate.

Socket Mode by default (the bot dials out; no public URL), or HTTP mode where
Slack calls ``/slack/events`` and Bolt verifies every request's signature
(401 for a bad or stale one). Slash commands are acknowledged first — Slack gives
3 seconds — then answered through ``respond()``; a timeline chart is uploaded to
the channel with the files v2 flow.

Admin commands are for workspace admins and owners (``users.info``, cached for a
few minutes) or the user ids in ``CLAIMWATCH_SLACK_ADMIN_USERS``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from adapters.slack_chat.render import reply_message
from adapters.slack_chat.transport import SlackTransport, web_client
from bot.commands.handlers import Commands
from bot.commands.model import CommandRequest, Reply
from bot.commands.parse import CommandError, parse_command

log = logging.getLogger(__name__)

PLATFORM = "slack"
ADMIN_CACHE_S = 300.0

Ack = Callable[..., Awaitable[None]]
Respond = Callable[..., Awaitable[Any]]


class SlackBot:
    """A ``Service`` for the runner: Socket Mode connection or HTTP listener, plus commands."""

    def __init__(
        self,
        commands: Commands,
        *,
        bot_token: str,
        api_base: str,
        mode: str = "socket",
        app_token: str | None = None,
        signing_secret: str | None = None,
        host: str = "127.0.0.1",
        port: int = 3000,
        admin_users: Sequence[str] = (),
        admin_channel: str | None = None,
    ) -> None:
        self._commands = commands
        self._mode = mode
        self._app_token = app_token
        self._host = host
        self._port = port
        self._admin_users = {u.strip() for u in admin_users if u.strip()}
        self._admin_cache: dict[str, tuple[float, bool]] = {}
        self.client = web_client(bot_token, api_base)
        self.app = AsyncApp(
            client=self.client,
            # Socket Mode envelopes are authenticated by the app token's connection;
            # HTTP requests must carry Slack's signature.
            signing_secret=signing_secret or "",
            request_verification_enabled=mode == "http",
        )
        self.app.command("/claimwatch")(self._on_command)
        self.transport = SlackTransport(self.client, admin_channel=admin_channel)
        self._socket: AsyncSocketModeHandler | None = None
        self._runner: web.AppRunner | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port: int | None = None

    def start(self) -> None:
        task = asyncio.get_running_loop().create_task(self._start(), name="slack")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _start(self) -> None:
        try:
            await self.client.auth_test()
        except SlackApiError as exc:
            log.error("Slack refused the bot token: %s", exc.response.get("error"))
            return
        except Exception:
            log.exception("Slack is unreachable at start; delivery retries on its own")
        if self._mode == "http":
            self._runner = web.AppRunner(self.app.web_app(path="/slack/events"))
            await self._runner.setup()
            site = web.TCPSite(self._runner, self._host, self._port)
            await site.start()
            server = getattr(site, "_server", None)
            sockets = getattr(server, "sockets", None) or []
            self.port = sockets[0].getsockname()[1] if sockets else self._port
            log.info("slack http mode on %s:%s/slack/events", self._host, self.port)
        else:
            self._socket = AsyncSocketModeHandler(self.app, self._app_token)
            await self._socket.connect_async()  # type: ignore[no-untyped-call]

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[no-untyped-call]
        if self._runner is not None:
            await self._runner.cleanup()

    async def _is_admin(self, user_id: str) -> bool:
        if user_id in self._admin_users:
            return True
        cached = self._admin_cache.get(user_id)
        if cached is not None and time.monotonic() - cached[0] < ADMIN_CACHE_S:
            return cached[1]
        try:
            info = await self.client.users_info(user=user_id)
        except Exception:
            log.warning("users.info failed for %s: treated as not an admin", user_id)
            return False
        user = info.get("user") or {}
        admin = bool(user.get("is_admin") or user.get("is_owner"))
        self._admin_cache[user_id] = (time.monotonic(), admin)
        return admin

    async def _on_command(self, ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        await ack()  # first: Slack shows an error if nothing comes back within 3 seconds
        try:
            name, args = parse_command(str(command.get("text") or "help"))
        except CommandError as exc:
            await self._reply(command, respond, Reply.fail(str(exc)))
            return
        user = str(command.get("user_id") or "")
        request = CommandRequest(
            command=name,
            args=args,
            user=user,
            channel=str(command.get("channel_id") or ""),
            is_admin=await self._is_admin(user),
            platform=PLATFORM,
        )
        try:
            reply = await self._commands.handle(request)
        except Exception:
            log.exception("command %s failed", name)
            reply = Reply.fail("something went wrong on our side; it has been logged")
        await self._reply(command, respond, reply)

    async def _reply(self, command: dict[str, Any], respond: Respond, reply: Reply) -> None:
        text, blocks = reply_message(reply)
        if reply.image is not None:
            try:
                await self.client.files_upload_v2(
                    channel=str(command.get("channel_id") or ""),
                    file=reply.image,
                    filename=reply.image_name or "chart.png",
                    title=reply.image_name or "chart",
                    initial_comment=text,
                )
                return
            except SlackApiError as exc:
                log.warning("chart upload failed: %s", exc.response.get("error"))
                reply = Reply.fail(f"could not upload the chart ({exc.response.get('error')})")
                text, blocks = reply_message(reply)
        await respond(
            text=text,
            blocks=blocks,
            response_type="ephemeral" if reply.ephemeral else "in_channel",
        )
