"""The periodic-task scheduler: enqueues each @periodic task once per time slot.

Every scheduler enqueues the current slot's job under the same unique key, so running it in every web process
(embedded shape) or as one or more `softdukan scheduler` processes (scale-out) still yields one job per slot.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import signal
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy.exc import IntegrityError

from softdukan.config import Settings
from softdukan.platform.jobs.registry import PERIODIC, PeriodicDef
from softdukan.platform.runtime import Runtime, build_runtime
from softdukan.platform.uow import unit_of_work

log = structlog.get_logger(__name__)

TICK_SECONDS = 5.0


def slot_start(definition: PeriodicDef, now: datetime) -> datetime:
    """The start of the `every`-long slot holding `now`, aligned to the Unix epoch (UTC)."""
    every = definition.every.total_seconds()
    return datetime.fromtimestamp(math.floor(now.timestamp() / every) * every, UTC)


def slot_key(definition: PeriodicDef, now: datetime) -> str:
    return f"periodic:{definition.name}:{slot_start(definition, now).isoformat()}"


class Scheduler:
    def __init__(self, runtime: Runtime, *, tick_seconds: float = TICK_SECONDS) -> None:
        self.runtime = runtime
        self.tick_seconds = tick_seconds
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        # the last slot known to be enqueued per task, to skip a pointless insert every tick
        self._enqueued_slots: dict[str, str] = {}
        self.enqueued = 0
        self.already_enqueued = 0
        self.last_tick_at: datetime | None = None
        self.last_error: str | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="softdukan-scheduler")

    async def stop(self) -> None:
        self._stopping.set()
        if self._task:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(self._task, timeout=10)

    def state(self) -> dict[str, Any]:
        running = self._task is not None and not self._task.done()
        return {"mode": "scheduler", "running": running, "periodic_tasks": sorted(PERIODIC),
                "enqueued": self.enqueued, "already_enqueued": self.already_enqueued,
                "last_tick_at": self.last_tick_at.isoformat() if self.last_tick_at else None,
                "last_error": self.last_error}

    async def enqueue_due(self) -> int:
        """Enqueue the current slot of every periodic task not yet enqueued; returns how many this call added."""
        now = self.runtime.clock.now()
        added = 0
        for definition in list(PERIODIC.values()):
            key = slot_key(definition, now)
            if self._enqueued_slots.get(definition.name) == key:
                continue
            try:
                async with unit_of_work(self.runtime) as uow:
                    uow.enqueue(definition.name, unique_key=key)
                    await uow.flush()  # the unique key is checked here, inside the unit of work, which rolls back
            except IntegrityError:  # another scheduler enqueued this slot first
                self.already_enqueued += 1
            else:
                added += 1
                self.enqueued += 1
            self._enqueued_slots[definition.name] = key
        self.last_tick_at = now
        return added

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.enqueue_due()
            except Exception as exc:  # a database hiccup must not stop periodic work for good
                self.last_error = repr(exc)
                log.exception("scheduler_error")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self.tick_seconds)


async def run_standalone(settings: Settings) -> None:
    """`softdukan scheduler`: run the scheduler alone until SIGTERM or SIGINT."""
    import softdukan.models  # every table, so foreign keys (jobs → organizations) resolve
    import softdukan.tasks  # noqa: F401  registers every periodic task

    runtime = build_runtime(settings)
    scheduler = Scheduler(runtime)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await scheduler.start()
    log.info("scheduler_started", periodic_tasks=sorted(PERIODIC))
    try:
        await stop.wait()
    finally:
        await scheduler.stop()
        await runtime.close()
        log.info("scheduler_stopped")
