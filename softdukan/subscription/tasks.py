"""Subscription jobs: the trial sweeper (reminders before the end, expiry after it) and the paid-year sweeper
(renewal reminders, cancellations taking effect, past due and the end of grace; `lifecycle.py`)."""

from __future__ import annotations

from datetime import timedelta

from softdukan.platform.jobs.registry import periodic
from softdukan.platform.uow import UnitOfWork
from softdukan.subscription.lifecycle import sweep_periods
from softdukan.subscription.service import sweep_trials

SWEEP_EVERY = timedelta(minutes=15)


@periodic("subscription.sweep_trials", every=SWEEP_EVERY)
async def sweep(uow: UnitOfWork) -> None:
    for _ in range(20):  # 500 of each a pass; the next run takes the rest
        swept = await sweep_trials(uow)
        if swept.reminded < 500 and swept.expired < 500:
            break
        await uow.release()
    for _ in range(20):
        if not (await sweep_periods(uow)).full:
            return
        await uow.release()
