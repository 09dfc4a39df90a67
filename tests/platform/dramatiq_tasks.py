"""Tasks the job tests enqueue. A Dramatiq worker imports this module from its command line
(`dramatiq softdukan.platform.jobs.worker tests.platform.dramatiq_tasks`), the embedded tests import it directly."""

from __future__ import annotations

import multiprocessing
import os
import signal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from softdukan.notification.models import OutboundEmail
from softdukan.platform.jobs.models import Job
from softdukan.platform.jobs.registry import task
from softdukan.platform.uow import UnitOfWork

NOTE_ADDRESS = "job-notes@softdukan.invalid"


@task("test.record_note")
async def record_note(uow: UnitOfWork, note: str) -> None:
    # deliberately not idempotent: every run adds a row, so tests can count runs
    uow.session.add(OutboundEmail(to_address=NOTE_ADDRESS, subject=note, body_text=note, status="mailbox",
                                  created_at=uow.clock.now()))


@task("test.always_fail", max_attempts=3)
async def always_fail(uow: UnitOfWork, note: str) -> None:
    await record_note(uow, note)  # rolled back with the failure: a failed attempt leaves no effect
    raise RuntimeError(f"boom: {note}")


@task("test.crash_worker_once", max_attempts=3)
async def crash_worker_once(uow: UnitOfWork, note: str) -> None:
    """First attempt: kill the worker process outright, mid-job (as an OOM kill would). Later: record the note."""
    attempts = await uow.session.scalar(select(Job.attempts).where(Job.unique_key == note))
    if attempts == 1:
        if multiprocessing.current_process().name == "MainProcess":
            raise RuntimeError("crash_worker_once only kills Dramatiq worker processes, never the test runner")
        os.kill(os.getpid(), signal.SIGKILL)
    await record_note(uow, note)


async def count_notes(session: AsyncSession, note: str) -> int:
    """How many runs recorded this note."""
    return int(await session.scalar(
        select(func.count()).select_from(OutboundEmail).where(OutboundEmail.subject == note)) or 0)
