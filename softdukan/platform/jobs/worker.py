"""Dramatiq workers (scale-out shape): one actor runs any job by id; retries, backoff and dead jobs live in our table.

`dramatiq softdukan.platform.jobs.worker [more.modules …]` (what `softdukan worker` runs) imports this module, which
sets the Redis broker from REDIS_URL, registers every task and declares the actor. Dramatiq actors run in threads;
the AsyncIO middleware keeps one event loop per worker process in a background thread, and the actor's coroutine
runs there on a Runtime built lazily on that loop (after the fork, so no connection crosses processes).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import dramatiq
from dramatiq.asyncio import get_event_loop_thread
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import AsyncIO, Middleware, default_middleware

import softdukan.models  # every table, so foreign keys (jobs → organizations) resolve
import softdukan.tasks  # noqa: F401  registers every task
from softdukan.config import Settings, get_settings
from softdukan.platform.jobs.execute import run_job
from softdukan.platform.jobs.relay import ACTOR_NAME, QUEUE_NAME, make_broker
from softdukan.platform.runtime import Runtime, build_runtime


class ProcessRuntime(Middleware):
    """The worker process's Runtime: built on first use on the event-loop thread, closed before that loop stops."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._runtime: Runtime | None = None

    def get(self) -> Runtime:
        # only called from coroutines on the process's single event loop, so two threads never race here
        if self._runtime is None:
            self._runtime = build_runtime(self.settings)
        return self._runtime

    def after_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        # runs before AsyncIO's hook (after-hooks run in reverse order), so the loop is still alive
        loop_thread = get_event_loop_thread()
        if self._runtime is not None and loop_thread is not None:
            loop_thread.run_coroutine(self._runtime.close())
        self._runtime = None


class FastLoop(Middleware):
    """uvloop under the worker's event loop, as `softdukan serve` gets it from uvicorn: a broadcast's dispatcher
    spends most of its CPU in the loop's socket I/O. Must come before AsyncIO, whose boot hook makes the loop."""

    def before_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def make_worker_broker(settings: Settings) -> tuple[RedisBroker, ProcessRuntime]:
    if not settings.redis_url:
        raise RuntimeError("REDIS_URL is not set: Dramatiq workers (softdukan worker) need Redis")
    process_runtime = ProcessRuntime(settings)
    middleware: list[Middleware] = [m() for m in default_middleware]
    middleware += [FastLoop(), AsyncIO(), process_runtime]
    return make_broker(settings.redis_url, middleware=middleware), process_runtime


settings = get_settings()
broker, process_runtime = make_worker_broker(settings)
dramatiq.set_broker(broker)


# max_retries=0: a failed attempt is already rescheduled (with backoff) or marked dead by run_job itself.
# time_limit = the lease: past it another worker may take the job over, so this one must stop.
@dramatiq.actor(actor_name=ACTOR_NAME, queue_name=QUEUE_NAME, max_retries=0, broker=broker,
                time_limit=settings.job_lease_seconds * 1000)
async def run_job_message(job_id: int) -> None:
    await run_job(process_runtime.get(), job_id)


def run_worker(processes: int = 1, threads: int = 4, modules: Sequence[str] = ()) -> int:
    """Run the Dramatiq CLI in this process (it forks the workers and forwards signals); returns its exit code."""
    from dramatiq.cli import main, make_argument_parser

    args: Any = make_argument_parser().parse_args(
        [__name__, *modules, "--processes", str(processes), "--threads", str(threads), "--queues", QUEUE_NAME])
    return int(main(args))
