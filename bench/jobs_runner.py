"""Embedded job runner throughput: no-op jobs per second through `EmbeddedRunner`, against a raw loop issuing the
same claim and complete statements directly on one session, both measured in the same run on the same database.

The ratio (runner / raw) is the result: what the runner's own machinery (candidate queries, a unit of work per job,
task lookup, concurrency) costs on top of the statements every job needs anyway.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import delete, func, insert, select

import softdukan.models  # every table, so foreign keys (jobs → organizations) resolve
from softdukan.config import Settings
from softdukan.kit import migrate
from softdukan.platform.jobs import queue
from softdukan.platform.jobs.models import DONE, QUEUED, Job
from softdukan.platform.jobs.registry import task
from softdukan.platform.jobs.runner import EmbeddedRunner
from softdukan.platform.runtime import Runtime, build_runtime
from softdukan.platform.uow import UnitOfWork

TITLE = "Embedded job runner: no-op jobs per second"
NOOP = "bench.noop"
assert softdukan.models  # imported for its side effect


@task(NOOP)
async def noop(uow: UnitOfWork) -> None:
    """Does nothing: the benchmark measures the runner, not a task."""


@dataclass
class Result:
    jobs: int
    rounds: int
    concurrency: int
    raw_per_second: list[float]
    runner_per_second: list[float]

    @property
    def raw(self) -> float:
        return statistics.median(self.raw_per_second)

    @property
    def runner(self) -> float:
        return statistics.median(self.runner_per_second)

    @property
    def ratio(self) -> float:
        return self.runner / self.raw

    def markdown(self) -> str:
        def rounds(values: list[float]) -> str:
            return ", ".join(f"{v:,.0f}" for v in values)

        return "\n".join([
            f"## {TITLE}",
            "",
            f"{self.jobs:,} no-op jobs per round, {self.rounds} rounds (median shown), fresh migrated SQLite file "
            f"(WAL), runner concurrency {self.concurrency}.",
            "",
            "| | jobs/s (median) | rounds |",
            "|---|---:|---|",
            f"| raw loop: `queue.claim` + commit + `queue.complete` + commit per job | {self.raw:,.0f} | "
            f"{rounds(self.raw_per_second)} |",
            f"| `EmbeddedRunner` draining the same number of jobs | {self.runner:,.0f} | "
            f"{rounds(self.runner_per_second)} |",
            f"| **ratio runner / raw** | **{self.ratio:.2f}** | |",
            "",
        ])


async def _insert_jobs(runtime: Runtime, count: int) -> list[int]:
    now = runtime.clock.now()
    rows = [{"name": NOOP, "args": {}, "status": QUEUED, "attempts": 0, "max_attempts": 5, "run_at": now,
             "created_at": now} for _ in range(count)]
    async with runtime.sessionmaker() as session:
        await session.execute(delete(Job))
        await session.execute(insert(Job), rows)
        await session.commit()
        return list(await session.scalars(select(Job.id).order_by(Job.id)))


async def _assert_all_done(runtime: Runtime, count: int) -> None:
    async with runtime.sessionmaker() as session:
        done = await session.scalar(select(func.count()).select_from(Job).where(Job.status == DONE))
    if done != count:
        raise RuntimeError(f"expected {count} done jobs, found {done}")


async def raw_loop(runtime: Runtime, count: int) -> float:
    """The baseline: the statements every job needs, with nothing around them."""
    ids = await _insert_jobs(runtime, count)
    lease = timedelta(seconds=runtime.settings.job_lease_seconds)
    started = time.perf_counter()
    async with runtime.sessionmaker() as session:
        for job_id in ids:
            now = runtime.clock.now()
            if not await queue.claim(session, job_id, now, lease):
                raise RuntimeError(f"job {job_id} could not be claimed")
            await session.commit()
            await queue.complete(session, job_id, 1, now)  # first attempt of a fresh job
            await session.commit()
    elapsed = time.perf_counter() - started
    await _assert_all_done(runtime, count)
    return count / elapsed


async def embedded_runner(runtime: Runtime, count: int, concurrency: int) -> float:
    await _insert_jobs(runtime, count)
    runner = EmbeddedRunner(runtime, concurrency=concurrency)
    started = time.perf_counter()
    await runner.start()
    while runner.processed < count:
        if runner.last_error:
            raise RuntimeError(f"runner error: {runner.last_error}")
        await asyncio.sleep(0.002)
    elapsed = time.perf_counter() - started
    await runner.stop()
    await _assert_all_done(runtime, count)
    return count / elapsed


async def _measure(database_url: str, jobs: int, rounds: int, concurrency: int) -> Result:
    settings = Settings(database_url=database_url, redis_url=None, run_jobs_in_process=False,
                        scheduler_in_process=False, job_poll_interval=0.05)
    runtime = build_runtime(settings)
    try:
        await raw_loop(runtime, min(jobs, 200))  # warm-up: connections, statement caches
        await embedded_runner(runtime, min(jobs, 200), concurrency)
        raw: list[float] = []
        measured: list[float] = []
        for _ in range(rounds):  # interleaved, so drift on the machine hits both sides alike
            raw.append(await raw_loop(runtime, jobs))
            measured.append(await embedded_runner(runtime, jobs, concurrency))
    finally:
        await runtime.close()
    return Result(jobs, rounds, concurrency, raw, measured)


def run(*, jobs: int = 2000, rounds: int = 3, concurrency: int = 4) -> Result:
    with tempfile.TemporaryDirectory(prefix="softdukan-bench-") as tmp:
        database_url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        migrate.upgrade(database_url)  # outside any event loop: Alembic's env runs its own
        return asyncio.run(_measure(database_url, jobs, rounds, concurrency))


if __name__ == "__main__":
    print(run().markdown())
