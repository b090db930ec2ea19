"""The chat gateways run in one process only: the one holding the gateway lease.

Every ``--role gateway`` (or ``all``) process starts a :class:`GatewayGuard`; the one
that gets the lease starts the chat services (Discord gateway, Slack Socket Mode or
HTTP listener), the others stand by and try again every ``retry``. A holder that
loses its lease (its database connection dropped) stops its services at once, so
two processes never answer the same command.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Protocol

from bot.service.runner import Service

log = logging.getLogger(__name__)


class GatewayLease(Protocol):
    async def try_acquire(self) -> bool:
        """Take the lease if it is free (True if this process holds it now)."""

    async def still_held(self) -> bool: ...

    async def release(self) -> None: ...


class GatewayGuard:
    """A ``Service`` that runs ``services`` only while this process holds the lease."""

    def __init__(
        self,
        services: Sequence[Service],
        lease: GatewayLease,
        *,
        retry: timedelta = timedelta(seconds=5),
    ) -> None:
        self._services = list(services)
        self._lease = lease
        self._retry = retry.total_seconds()
        self._task: asyncio.Task[None] | None = None
        self.holding = False
        self.changed = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._watch(), name="gateway-guard")

    async def _watch(self) -> None:
        announced_standby = False
        while True:
            try:
                if not self.holding:
                    if await self._lease.try_acquire():
                        log.info("gateway: this process holds the chat connections")
                        for service in self._services:
                            service.start()
                        self._set(True)
                    elif not announced_standby:
                        log.info("gateway: another process holds the chat connections; standing by")
                        announced_standby = True
                elif not await self._lease.still_held():
                    log.warning("gateway: lease lost; stopping the chat connections")
                    await self._stop_services()
                    self._set(False)
            except Exception:
                log.exception("gateway: lease check failed; retrying")
            await asyncio.sleep(self._retry)

    def _set(self, holding: bool) -> None:
        self.holding = holding
        self.changed.set()
        self.changed = asyncio.Event()

    async def _stop_services(self) -> None:
        for service in reversed(self._services):
            with contextlib.suppress(Exception):
                await service.stop()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self.holding:
            await self._stop_services()
            self.holding = False
        await self._lease.release()
