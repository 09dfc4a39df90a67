"""The Dramatiq relay (scale-out shape): the jobs table is a transactional outbox, relayed to Redis.

A job row is committed with the change that created it; this loop hands every due, committed row to Redis as
one Dramatiq message carrying only the job id. The worker claims the row with the same guarded UPDATE as the
embedded runner, so a duplicate message is harmless and a lost one is sent again:

- a running job whose lease expired (its worker died) is put back to queued and sent again;
- a queued job whose message was sent a few lease periods ago and never claimed is sent again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import redis
import structlog
from dramatiq import Message, Middleware
from dramatiq.brokers.redis import RedisBroker
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from softdukan.platform.jobs import queue
from softdukan.platform.jobs.models import QUEUED, RUNNING, Job
from softdukan.platform.jobs.queue import LEASE_LOST_ERROR
from softdukan.platform.runtime import Runtime

log = structlog.get_logger(__name__)

ACTOR_NAME = "softdukan_run_job"
QUEUE_NAME = "softdukan_jobs"
BATCH_SIZE = 200
# a message still unclaimed after this many lease periods is presumed lost (Redis flushed, worker crashed early)
LOST_AFTER_LEASES = 5


def make_broker(redis_url: str, *, middleware: list[Middleware] | None = None,
                client: redis.Redis | None = None) -> RedisBroker:
    """The broker both sides share: same URL, namespace and queue name."""
    return RedisBroker(url=redis_url, middleware=middleware, client=client)


def job_message(job_id: int) -> Message[Any]:
    return Message(queue_name=QUEUE_NAME, actor_name=ACTOR_NAME, args=(job_id,), kwargs={}, options={})


class DramatiqRelay:
    def __init__(self, runtime: Runtime, *, broker: RedisBroker | None = None) -> None:
        redis_url = runtime.settings.redis_url
        if broker is None and not redis_url:
            raise RuntimeError("the Dramatiq relay needs REDIS_URL")
        self.runtime = runtime
        # timeouts so a hung Redis cannot hold the relay's database transaction open forever
        self.broker = broker or make_broker(str(redis_url), middleware=[], client=redis.Redis.from_url(
            str(redis_url), socket_timeout=10, socket_connect_timeout=5))
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self.relayed = 0
        self.requeued_expired = 0
        self.rerelayed_lost = 0
        self.dead_expired = 0
        self.last_relay_at: datetime | None = None
        self.last_error: str | None = None
        self._next_recover = 0.0

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="softdukan-dramatiq-relay")

    async def stop(self) -> None:
        self._stopping.set()
        self.runtime.job_wakeup.set()
        if self._task:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(self._task, timeout=10)
        self.close()

    def close(self) -> None:
        self.broker.close()
        self.broker.client.close()  # RedisBroker.close() leaves its connection pool open

    def state(self) -> dict[str, Any]:
        running = self._task is not None and not self._task.done()
        return {"mode": "dramatiq", "running": running, "relayed": self.relayed,
                "requeued_expired": self.requeued_expired, "rerelayed_lost": self.rerelayed_lost,
                "dead_expired": self.dead_expired,
                "last_relay_at": self.last_relay_at.isoformat() if self.last_relay_at else None,
                "last_error": self.last_error}

    async def recover(self) -> None:
        """Make jobs whose worker died or whose message was lost eligible to be sent again."""
        now = self.runtime.clock.now()
        lease = timedelta(seconds=self.runtime.settings.job_lease_seconds)
        expired = (Job.status == RUNNING, Job.lease_expires_at < now)
        async with self.runtime.sessionmaker() as session:
            # a job that keeps killing its worker would otherwise be retried forever: its last attempt is spent
            dead = await queue.bury_exhausted(session, now)
            requeued = await _update(session, update(Job).where(*expired).values(
                status=QUEUED, lease_expires_at=None, relayed_at=None, last_error=LEASE_LOST_ERROR))
            lost = await _update(session, update(Job).where(
                Job.status == QUEUED, Job.relayed_at < now - lease * LOST_AFTER_LEASES).values(relayed_at=None))
            await session.commit()
        self.dead_expired += dead
        self.requeued_expired += requeued
        self.rerelayed_lost += lost
        if dead or requeued or lost:
            log.warning("jobs_recovered", dead=dead, requeued=requeued, lost_messages=lost)

    async def relay_batch(self) -> int:
        """Send up to BATCH_SIZE due jobs; returns how many were sent."""
        now = self.runtime.clock.now()
        async with self.runtime.sessionmaker() as session:
            due = (select(Job.id).where(Job.status == QUEUED, Job.run_at <= now, Job.relayed_at.is_(None))
                   .order_by(Job.run_at, Job.id).limit(BATCH_SIZE))
            ids = list(await session.scalars(due))
            if not ids:
                await session.rollback()
                return 0
            # mark, send, then commit: a second relay's guarded UPDATE waits on our row locks, then matches nothing
            marked = await session.execute(
                update(Job).where(Job.id.in_(ids), Job.status == QUEUED, Job.relayed_at.is_(None))
                .values(relayed_at=now).returning(Job.id).execution_options(synchronize_session=False))
            job_ids = sorted(row[0] for row in marked)
            # a crash between send and commit only sends these again later; the worker's claim dedupes them
            await asyncio.to_thread(self._send, job_ids)
            await session.commit()
        self.relayed += len(job_ids)
        self.last_relay_at = now
        return len(job_ids)

    async def relay_once(self) -> int:
        """One pass: recover (a few times per lease period), then send everything due; returns messages sent."""
        loop_now = asyncio.get_running_loop().time()
        if loop_now >= self._next_recover:
            await self.recover()
            self._next_recover = loop_now + max(0.2, self.runtime.settings.job_lease_seconds / 4)
        sent = 0
        while True:
            count = await self.relay_batch()
            sent += count
            if count < BATCH_SIZE or self._stopping.is_set():
                return sent

    def _send(self, job_ids: Sequence[int]) -> None:
        for job_id in job_ids:
            self.broker.enqueue(job_message(job_id))

    async def _loop(self) -> None:
        wakeup = self.runtime.job_wakeup
        while not self._stopping.is_set():
            # cleared before the pass, so a commit that lands during it wakes the next wait at once
            wakeup.clear()
            try:
                await self.relay_once()
            except Exception as exc:  # the loop must survive a database or Redis hiccup
                self.last_error = repr(exc)
                log.exception("job_relay_error")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wakeup.wait(), timeout=self.runtime.settings.job_poll_interval)


async def _update(session: AsyncSession, statement: Any) -> int:
    result = await session.execute(statement.execution_options(synchronize_session=False))
    return int(result.rowcount)  # type: ignore[attr-defined]
