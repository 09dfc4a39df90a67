"""Wallet jobs: the hold sweeper (README "Credits": holds nobody settled within 72 hours are released as
expired; a delivery reported later is charged then)."""

from __future__ import annotations

from datetime import timedelta

from softdukan.platform.jobs.registry import periodic, task
from softdukan.platform.uow import UnitOfWork
from softdukan.wallet.charging import SETTLE_TASK, settle_decided, sweep

SWEEP_EVERY = timedelta(minutes=10)


@periodic("wallet.sweep_holds", every=SWEEP_EVERY)
async def sweep_holds(uow: UnitOfWork) -> None:
    for _ in range(20):  # at most 10,000 holds a run; the next run takes the rest
        if await sweep(uow) < 500:
            return
        await uow.release()


@task(SETTLE_TASK, max_attempts=20)
async def settle(uow: UnitOfWork, org_id: int) -> None:
    """Settles the organization's decided charges in batches (charging.settle_decided)."""
    for _ in range(10):
        if await settle_decided(uow, org_id) < 2000:
            return
        await uow.release()
