"""The embedded runner: an asyncio loop in the web process that claims and runs due jobs."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import structlog

from softdukan.platform.jobs import queue
from softdukan.platform.jobs.execute import run_job
from softdukan.platform.runtime import Runtime

log = structlog.get_logger(__name__)


class EmbeddedRunner:
    def __init__(self, runtime: Runtime, *, concurrency: int = 4) -> None:
        self.runtime = runtime
        self.concurrency = concurrency
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self.processed = 0
        self.failed = 0
        self.last_error: str | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="softdukan-job-runner")

    async def stop(self) -> None:
        self._stopping.set()
        self.runtime.job_wakeup.set()
        if self._task:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(self._task, timeout=10)

    def state(self) -> dict[str, Any]:
        running = self._task is not None and not self._task.done()
        return {"mode": "embedded", "running": running, "processed": self.processed, "failed": self.failed,
                "last_error": self.last_error}

    async def run_batch(self) -> int:
        async with self.runtime.sessionmaker() as session:
            if await queue.bury_exhausted(session, self.runtime.clock.now()):
                await session.commit()
            ids = await queue.candidates(session, self.runtime.clock.now(), self.concurrency * 8)
        semaphore = asyncio.Semaphore(self.concurrency)

        async def one(job_id: int) -> None:
            async with semaphore:
                status = await run_job(self.runtime, job_id)
                if status is not None:
                    self.processed += 1
                    if status != "done":
                        self.failed += 1

        await asyncio.gather(*(one(job_id) for job_id in ids))
        return len(ids)

    async def _loop(self) -> None:
        wakeup = self.runtime.job_wakeup
        while not self._stopping.is_set():
            wakeup.clear()  # before the query: a commit during the batch wakes the next pass at once
            try:
                found = await self.run_batch()
            except Exception as exc:  # the loop must survive a database hiccup
                self.last_error = repr(exc)
                log.exception("job_runner_error")
                found = 0
            if found:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wakeup.wait(), timeout=self.runtime.settings.job_poll_interval)
