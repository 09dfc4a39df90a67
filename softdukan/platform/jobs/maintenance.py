"""Housekeeping of the jobs table."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from softdukan.platform.jobs.models import DONE, Job
from softdukan.platform.jobs.registry import periodic
from softdukan.platform.uow import UnitOfWork

KEEP_DONE_JOBS = timedelta(days=7)


async def delete_done_jobs(session: AsyncSession, finished_before: datetime) -> int:
    """Dead jobs are kept: they wait for a person to look at them (and retry or dismiss them)."""
    result = await session.execute(delete(Job).where(Job.status == DONE, Job.finished_at < finished_before)
                                   .execution_options(synchronize_session=False))
    return int(result.rowcount)  # type: ignore[attr-defined]


@periodic("platform.purge_finished_jobs", every=timedelta(hours=1))
async def purge_finished_jobs(uow: UnitOfWork) -> None:
    await delete_done_jobs(uow.session, uow.clock.now() - KEEP_DONE_JOBS)
