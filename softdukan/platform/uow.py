"""The unit of work: one transaction at the edge; jobs are rows in it, events go out after commit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from softdukan.platform.events import Event
from softdukan.platform.jobs.models import QUEUED, Job
from softdukan.platform.jobs.registry import get_task

if TYPE_CHECKING:
    from softdukan.platform.runtime import Runtime

log = structlog.get_logger(__name__)


class UnitOfWork:
    def __init__(self, runtime: Runtime, session: AsyncSession) -> None:
        self.runtime = runtime
        self.session = session
        self.clock = runtime.clock
        self.settings = runtime.settings
        self._events: list[Event] = []
        self._enqueued = 0
        self._after_commit: list[Any] = []

    def emit(self, event: Event) -> None:
        """Published to the live hub only if and after the transaction commits."""
        self._events.append(event)

    def enqueue(self, name: str, *, run_at: datetime | None = None, unique_key: str | None = None,
                organization_id: int | None = None, **args: Any) -> Job:
        """A job row in this transaction: it exists iff the change commits."""
        definition = get_task(name)  # fail at the call site on a typo, not in the runner
        job = Job(name=name, args=args, status=QUEUED, run_at=run_at or self.clock.now(),
                  max_attempts=definition.max_attempts, unique_key=unique_key,
                  organization_id=organization_id, created_at=self.clock.now())
        self.session.add(job)
        self._enqueued += 1
        return job

    async def enqueue_many(self, name: str, jobs: list[dict[str, Any]]) -> None:
        """Many jobs of one task in one INSERT (no ORM objects): for hot paths such as webhook acknowledgement.
        Each dict holds the task's args plus optional `organization_id` and `run_at`."""
        if not jobs:
            return
        definition = get_task(name)
        now = self.clock.now()
        rows = []
        for job in jobs:
            args = dict(job)
            organization_id, run_at = args.pop("organization_id", None), args.pop("run_at", None)
            rows.append({"name": name, "args": args, "status": QUEUED, "attempts": 0, "run_at": run_at or now,
                         "max_attempts": definition.max_attempts, "unique_key": None,
                         "organization_id": organization_id, "created_at": now})
        await self.session.execute(insert(Job.__table__), rows)  # Core: none of the ORM's per-row bookkeeping
        self._enqueued += len(rows)

    async def flush(self) -> None:
        await self.session.flush()

    async def commit(self) -> None:
        await self.session.commit()
        events, self._events = self._events, []
        enqueued, self._enqueued = self._enqueued, 0
        if enqueued:
            self.runtime.jobs_committed()
        for event in events:
            try:
                await self.runtime.hub.publish(event.envelope())
            except Exception:  # the change is committed; a lost live update must not fail the request
                log.exception("event_publish_failed", type=event.type)

    async def release(self) -> None:
        """End the current transaction before slow outside I/O (SMTP, Meta's API): no database lock or
        connection is held while waiting. What was pending commits now (events publish, jobs wake);
        loaded objects stay usable and later changes go into a new transaction that commits at the edge.
        An outside call is at-least-once either way: a crash after it and before the final commit
        repeats it on retry, with or without this."""
        await self.commit()

    async def rollback(self) -> None:
        await self.session.rollback()
        self._events.clear()
        self._enqueued = 0


@asynccontextmanager
async def unit_of_work(runtime: Runtime) -> AsyncIterator[UnitOfWork]:
    """Commit on success, roll back on any error. For jobs, CLI commands and tests."""
    async with runtime.sessionmaker() as session:
        uow = UnitOfWork(runtime, session)
        try:
            yield uow
        except BaseException:
            await uow.rollback()
            raise
        else:
            await uow.commit()
