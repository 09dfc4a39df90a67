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

LEASE_LOST_ERROR = "the runner holding this job stopped before finishing it (its lease expired)"


class LeaseLost(Exception):
    """The job was taken over by another runner after this one's lease expired; its work must not commit."""


def claimable(now: datetime):  # type: ignore[no-untyped-def]
    # an expired lease on the last attempt is not taken over: bury_exhausted marks it dead instead
    return or_(and_(Job.status == QUEUED, Job.run_at <= now),
               and_(Job.status == RUNNING, Job.lease_expires_at < now, Job.attempts < Job.max_attempts))


async def bury_exhausted(session: AsyncSession, now: datetime) -> int:
    """Jobs whose runner died on their last attempt: dead, not retried forever. The caller commits."""
    result = await session.execute(
        update(Job).where(Job.status == RUNNING, Job.lease_expires_at < now, Job.attempts >= Job.max_attempts)
        .values(status=DEAD, finished_at=now, lease_expires_at=None, last_error=LEASE_LOST_ERROR)
        .execution_options(synchronize_session=False))
    return int(result.rowcount)  # type: ignore[attr-defined]


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


def _still_ours(job_id: int, attempt: int):  # type: ignore[no-untyped-def]
    # the claim's attempt number identifies the claim: a runner whose lease was taken over no longer matches
    return and_(Job.id == job_id, Job.status == RUNNING, Job.attempts == attempt)


async def complete(session: AsyncSession, job_id: int, attempt: int, now: datetime) -> None:
    """Mark done in the task's own transaction; raises LeaseLost (so the task's effects roll back) if taken over."""
    result = await session.execute(update(Job).where(_still_ours(job_id, attempt))
                                   .values(status=DONE, finished_at=now, lease_expires_at=None, last_error=None)
                                   .execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise LeaseLost(f"job {job_id} attempt {attempt} lost its lease")


def backoff(attempts: int) -> timedelta:
    """Exponential with jitter: ~2s, 4s, 8s … capped at one hour."""
    base = min(3600.0, 2.0 ** attempts)
    return timedelta(seconds=base * random.uniform(0.75, 1.25))


async def fail(session: AsyncSession, job: Job, now: datetime, error: BaseException) -> str | None:
    """Schedule a retry with backoff, or mark dead after the last attempt. Returns the new status, or None
    when the job was taken over meanwhile (the new holder decides its fate)."""
    text = "".join(traceback.format_exception(error))[-4000:]
    if job.attempts >= job.max_attempts:
        values = {"status": DEAD, "finished_at": now, "lease_expires_at": None, "last_error": text}
    else:
        values = {"status": QUEUED, "run_at": now + backoff(job.attempts), "lease_expires_at": None,
                  "relayed_at": None, "last_error": text}
    result = await session.execute(update(Job).where(_still_ours(job.id, job.attempts)).values(**values)
                                   .execution_options(synchronize_session=False))
    return str(values["status"]) if result.rowcount == 1 else None  # type: ignore[attr-defined]


async def retry_dead(session: AsyncSession, job_id: int, now: datetime) -> bool:
    """Staff action: give a dead job a fresh set of attempts."""
    result = await session.execute(
        update(Job).where(Job.id == job_id, Job.status == DEAD)
        .values(status=QUEUED, run_at=now, attempts=0, finished_at=None, relayed_at=None)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1  # type: ignore[attr-defined]
