"""The runner's pool of leased work: nothing it claimed may outlive its close.

A shutdown closes the pool, waits for the work in flight, then hands the leases
back. Work started after that wait would run without a lease, against a closed
HTTP client and database: its result lost, its failure logged after "stopped".
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from bot.service.runner import _Pool


async def test_work_claimed_by_a_refill_during_close_finishes_before_close_returns() -> None:
    claims = 0
    in_refill_claim = asyncio.Event()
    let_refill_claim = asyncio.Event()
    finished: list[int] = []

    async def claim(free: int) -> Sequence[int]:
        nonlocal claims
        claims += 1
        if claims == 1:
            return [1]  # the tick's claim
        if claims == 2:  # the refill after item 1: still inside its query at close
            in_refill_claim.set()
            await let_refill_claim.wait()
            return [2]
        return []

    async def work(item: int) -> None:
        await asyncio.sleep(0.01)
        finished.append(item)

    pool: _Pool[int] = _Pool("test", 5, claim, work)
    await pool.pump()
    await in_refill_claim.wait()

    closing = asyncio.create_task(pool.close(grace=5))
    await asyncio.sleep(0.05)
    assert not closing.done(), "close returned while a claim was still running"
    let_refill_claim.set()
    await closing

    assert finished == [1, 2]
    assert not pool.tasks
    assert claims == 2, "a closed pool claimed again"


async def test_close_cancels_work_that_outlasts_the_grace() -> None:
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def claim(free: int) -> Sequence[int]:
        return [] if started.is_set() else [1]

    async def work(item: int) -> None:
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    pool: _Pool[int] = _Pool("test", 5, claim, work)
    await pool.pump()
    await started.wait()
    await pool.close(grace=0.05)
    assert cancelled.is_set()
    assert not pool.tasks
