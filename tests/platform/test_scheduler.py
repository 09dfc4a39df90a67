"""The periodic scheduler (one job per slot, however many schedulers run) and the job-table purge."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from softdukan.config import Settings
from softdukan.kit.clock import FrozenClock
from softdukan.platform.jobs.execute import drain
from softdukan.platform.jobs.models import DEAD, DONE, QUEUED, Job
from softdukan.platform.jobs.registry import PERIODIC
from softdukan.platform.jobs.scheduler import Scheduler
from softdukan.platform.runtime import Runtime, build_runtime
from softdukan.platform.uow import unit_of_work

ROOT = Path(__file__).resolve().parents[2]
PURGE = "platform.purge_finished_jobs"


async def keys_of(runtime: Runtime, name: str) -> list[str | None]:
    async with runtime.sessionmaker() as session:
        return list(await session.scalars(select(Job.unique_key).where(Job.name == name).order_by(Job.id)))


async def test_two_schedulers_on_one_slot_enqueue_each_periodic_task_once(runtime: Runtime, settings: Settings) -> None:
    clock = FrozenClock(datetime(2025, 3, 3, 9, 17, 42, tzinfo=UTC))
    first, second = build_runtime(settings, clock=clock), build_runtime(settings, clock=clock)
    try:
        one, other = Scheduler(first), Scheduler(second)
        added = await asyncio.gather(one.enqueue_due(), other.enqueue_due())

        assert sum(added) == len(PERIODIC)  # each slot went to exactly one of them …
        assert one.already_enqueued + other.already_enqueued == len(PERIODIC)  # … the other lost the race quietly
        assert await keys_of(runtime, PURGE) == [f"periodic:{PURGE}:2025-03-03T09:00:00+00:00"]

        clock.advance(seconds=10)  # 09:17:52, every task's same slot: a third scheduler, knowing nothing, adds nothing
        latecomer = Scheduler(first)
        assert await latecomer.enqueue_due() == 0
        assert latecomer.state()["already_enqueued"] == len(PERIODIC)

        clock.advance(minutes=44, seconds=50)  # 10:02:42, the next hourly slot
        await one.enqueue_due()
        await other.enqueue_due()
        assert await keys_of(runtime, PURGE) == [f"periodic:{PURGE}:2025-03-03T09:00:00+00:00",
                                                 f"periodic:{PURGE}:2025-03-03T10:00:00+00:00"]
    finally:
        await first.close()
        await second.close()


async def test_the_scheduler_loop_enqueues_and_reports_its_state(runtime: Runtime) -> None:
    scheduler = Scheduler(runtime, tick_seconds=0.05)
    await scheduler.start()
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while not await keys_of(runtime, PURGE):
            assert loop.time() < deadline, f"nothing enqueued: {scheduler.state()}"
            await asyncio.sleep(0.05)
        state = scheduler.state()
        assert state["running"] is True and PURGE in state["periodic_tasks"] and state["last_error"] is None
    finally:
        await scheduler.stop()
    assert scheduler.state()["running"] is False
    assert len(await keys_of(runtime, PURGE)) == 1  # many ticks, one slot, one job


async def test_purge_deletes_only_done_jobs_finished_more_than_seven_days_ago(
        runtime: Runtime, settings: Settings) -> None:
    now = datetime(2025, 3, 20, 12, 0, tzinfo=UTC)
    clock_runtime = build_runtime(settings, clock=FrozenClock(now))
    try:
        def job(key: str, status: str, age: timedelta, run_at: datetime | None = None) -> Job:
            finished = now - age if status in (DONE, DEAD) else None
            return Job(name="test.record_note", args={"note": key}, status=status, unique_key=key,
                       run_at=run_at or now - age, finished_at=finished, created_at=now - age - timedelta(minutes=1))

        async with clock_runtime.sessionmaker() as session:
            session.add_all([
                job("done-8-days-ago", DONE, timedelta(days=8)),
                job("done-7-days-and-a-minute-ago", DONE, timedelta(days=7, minutes=1)),
                job("done-6-days-ago", DONE, timedelta(days=6)),
                job("dead-30-days-ago", DEAD, timedelta(days=30)),
                job("queued-for-tomorrow", QUEUED, timedelta(days=30), run_at=now + timedelta(days=1)),
            ])
            await session.commit()
        async with unit_of_work(clock_runtime) as uow:
            uow.enqueue(PURGE)
        assert await drain(clock_runtime) == 1

        async with clock_runtime.sessionmaker() as session:
            left = {key: status for key, status in await session.execute(select(Job.unique_key, Job.status))}
    finally:
        await clock_runtime.close()
    assert left == {"done-6-days-ago": DONE, "dead-30-days-ago": DEAD, "queued-for-tomorrow": QUEUED,
                    None: DONE}  # None: the purge job itself, just finished


async def test_softdukan_scheduler_runs_standalone_until_sigterm(
        runtime: Runtime, database_url: str, tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key.lower() not in Settings.model_fields}
    env.update(DATABASE_URL=database_url, PYTHONPATH=str(ROOT))
    log_path = tmp_path / "scheduler.log"
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(sys.executable, "-m", "softdukan.cli", "scheduler", cwd=ROOT,
                                                       env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        while not await keys_of(runtime, PURGE):
            assert process.returncode is None, log_path.read_text()
            assert loop.time() < deadline, log_path.read_text()
            await asyncio.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        exit_code = await asyncio.wait_for(process.wait(), timeout=30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert exit_code == 0, log_path.read_text()
    assert len(await keys_of(runtime, PURGE)) == 1
