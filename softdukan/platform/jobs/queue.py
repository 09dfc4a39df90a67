"""Claiming and finishing job rows: the statements shared by the embedded runner and Dramatiq workers.

A claim is a guarded UPDATE (status and lease checked in the WHERE clause), so two runners can never
hold the same job: whoever's UPDATE matched the row owns it until the lease expires. A runner that
dies keeps the row 'running' with a lapsed lease; the next claim takes it over and counts an attempt.
"""

from __future__ import annotations

import random
import traceback
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from softdukan.platform.jobs.models import DEAD, DONE, QUEUED, RUNNING, Job


def claimable(now: datetime):  # type: ignore[no-untyped-def]
    return or_(and_(Job.status == QUEUED, Job.run_at <= now),
               and_(Job.status == RUNNING, Job.lease_expires_at < now))


async def candidates(session: AsyncSession, now: datetime, limit: int) -> list[int]:
    rows = await session.execute(select(Job.id).where(claimable(now)).order_by(Job.run_at, Job.id).limit(limit))
    return [row[0] for row in rows]


async def claim(session: AsyncSession, job_id: int, now: datetime, lease: timedelta) -> bool:
    """Take the job for `lease`; True if this caller now owns it. The caller commits."""
    result = await session.execute(
        update(Job).where(Job.id == job_id, claimable(now))
        .values(status=RUNNING, lease_expires_at=now + lease, attempts=Job.attempts + 1)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1  # type: ignore[attr-defined]


async def complete(session: AsyncSession, job_id: int, now: datetime) -> None:
    await session.execute(update(Job).where(Job.id == job_id, Job.status == RUNNING)
                          .values(status=DONE, finished_at=now, lease_expires_at=None, last_error=None)
                          .execution_options(synchronize_session=False))


def backoff(attempts: int) -> timedelta:
    """Exponential with jitter: ~2s, 4s, 8s … capped at one hour."""
    base = min(3600.0, 2.0 ** attempts)
    return timedelta(seconds=base * random.uniform(0.75, 1.25))


async def fail(session: AsyncSession, job: Job, now: datetime, error: BaseException) -> str:
    """Schedule a retry with backoff, or mark dead after the last attempt. Returns the new status."""
    text = "".join(traceback.format_exception(error))[-4000:]
    if job.attempts >= job.max_attempts:
        values = {"status": DEAD, "finished_at": now, "lease_expires_at": None, "last_error": text}
    else:
        values = {"status": QUEUED, "run_at": now + backoff(job.attempts), "lease_expires_at": None,
                  "relayed_at": None, "last_error": text}
    await session.execute(update(Job).where(Job.id == job.id).values(**values)
                          .execution_options(synchronize_session=False))
    return str(values["status"])


async def retry_dead(session: AsyncSession, job_id: int, now: datetime) -> bool:
    """Staff action: give a dead job a fresh set of attempts."""
    result = await session.execute(
        update(Job).where(Job.id == job_id, Job.status == DEAD)
        .values(status=QUEUED, run_at=now, attempts=0, finished_at=None, relayed_at=None)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1  # type: ignore[attr-defined]
