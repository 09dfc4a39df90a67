"""Running one job: claim it, run its task in its own unit of work, record done, retry or dead."""

from __future__ import annotations

from datetime import timedelta

import structlog

from softdukan.platform.jobs import queue
from softdukan.platform.jobs.models import DONE, Job
from softdukan.platform.jobs.registry import call
from softdukan.platform.runtime import Runtime
from softdukan.platform.uow import UnitOfWork

log = structlog.get_logger(__name__)


async def run_job(runtime: Runtime, job_id: int) -> str | None:
    """Returns the job's new status, or None when someone else holds it (or it is not due)."""
    lease = timedelta(seconds=runtime.settings.job_lease_seconds)
    async with runtime.sessionmaker() as session:
        if not await queue.claim(session, job_id, runtime.clock.now(), lease):
            await session.rollback()
            return None
        await session.commit()

    async with runtime.sessionmaker() as session:
        uow = UnitOfWork(runtime, session)
        job = await session.get(Job, job_id)
        assert job is not None
        name, attempts = job.name, job.attempts
        try:
            await call(uow, job.name, dict(job.args))
            # the task's effects and its completion commit together: done means done
            await queue.complete(session, job_id, attempts, runtime.clock.now())
            await uow.commit()
            return DONE
        except queue.LeaseLost:
            await uow.rollback()
            log.warning("job_lease_lost", job_id=job_id, name=name, attempt=attempts)
            return None
        except Exception as exc:
            await uow.rollback()
            error = exc

    async with runtime.sessionmaker() as session:
        job = await session.get(Job, job_id)
        assert job is not None
        if job.attempts != attempts:  # taken over meanwhile: the new holder decides
            return None
        status = await queue.fail(session, job, runtime.clock.now(), error)
        await session.commit()
    log.warning("job_failed", job_id=job_id, name=name, attempt=attempts, status=status, error=repr(error))
    return status


async def drain(runtime: Runtime, *, limit: int = 10_000) -> int:
    """Run every due job until none is left (tests and CLI); returns how many ran."""
    ran = 0
    while ran < limit:
        async with runtime.sessionmaker() as session:
            await queue.bury_exhausted(session, runtime.clock.now())
            await session.commit()
            ids = await queue.candidates(session, runtime.clock.now(), 100)
        if not ids:
            return ran
        for job_id in ids:
            if await run_job(runtime, job_id) is not None:
                ran += 1
    return ran
