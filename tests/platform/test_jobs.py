"""The durable jobs table and the embedded runner: the guarantees every task relies on."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from softdukan.config import Settings
from softdukan.kit.clock import FrozenClock
from softdukan.platform.jobs import queue
from softdukan.platform.jobs.execute import drain, run_job
from softdukan.platform.jobs.models import DEAD, DONE, QUEUED, Job
from softdukan.platform.jobs.runner import EmbeddedRunner
from softdukan.platform.runtime import Runtime, build_runtime
from softdukan.platform.uow import unit_of_work
from tests.platform.dramatiq_tasks import count_notes

START = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
async def frozen(runtime: Runtime, settings: Settings, clock: FrozenClock) -> AsyncIterator[Runtime]:
    """A runtime on a clock the test moves (`runtime` is requested first so the tables are wiped)."""
    frozen_runtime = build_runtime(settings, clock=clock)
    yield frozen_runtime
    await frozen_runtime.close()


async def load(runtime: Runtime, job_id: int) -> Job:
    async with runtime.sessionmaker() as session:
        job = await session.get(Job, job_id)
        assert job is not None
        return job


async def notes(runtime: Runtime, note: str) -> int:
    async with runtime.sessionmaker() as session:
        return await count_notes(session, note)


async def job_count(runtime: Runtime) -> int:
    async with runtime.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(Job)) or 0)


async def test_a_job_enqueued_in_a_unit_of_work_runs_on_the_embedded_runner_after_commit(runtime: Runtime) -> None:
    runner = EmbeddedRunner(runtime)
    await runner.start()
    try:
        async with unit_of_work(runtime) as uow:
            job = uow.enqueue("test.record_note", note="after-commit")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while (await load(runtime, job.id)).status != DONE:
            assert loop.time() < deadline, f"the runner did not run the job: {runner.state()}"
            await asyncio.sleep(0.05)
    finally:
        await runner.stop()

    done = await load(runtime, job.id)
    assert (done.attempts, done.last_error) == (1, None)
    assert done.finished_at is not None
    assert await notes(runtime, "after-commit") == 1
    assert runner.state() == {"mode": "embedded", "running": False, "processed": 1, "failed": 0, "last_error": None}


async def test_a_job_from_a_rolled_back_transaction_never_exists_and_never_runs(runtime: Runtime) -> None:
    with pytest.raises(RuntimeError, match="the change failed"):
        async with unit_of_work(runtime) as uow:
            uow.enqueue("test.record_note", note="rolled-back")
            await uow.flush()  # the row was written inside the transaction …
            raise RuntimeError("the change failed")

    assert await job_count(runtime) == 0  # … and went with it
    assert not runtime.job_wakeup.is_set()  # nobody was woken for it
    assert await drain(runtime) == 0
    assert await notes(runtime, "rolled-back") == 0


async def test_a_failing_task_is_retried_with_backoff_then_goes_dead_with_its_error(
        frozen: Runtime, clock: FrozenClock) -> None:
    async with unit_of_work(frozen) as uow:
        job = uow.enqueue("test.always_fail", note="fails")  # max_attempts=3

    assert await drain(frozen) == 1
    first = await load(frozen, job.id)
    assert (first.status, first.attempts) == (QUEUED, 1)
    assert "RuntimeError: boom: fails" in (first.last_error or "")
    assert timedelta(seconds=1.5) <= first.run_at - START <= timedelta(seconds=2.5)  # 2s ± 25% jitter
    assert await drain(frozen) == 0  # backing off: not due yet

    clock.advance(seconds=3)
    assert await drain(frozen) == 1
    second = await load(frozen, job.id)
    assert (second.status, second.attempts) == (QUEUED, 2)
    assert timedelta(seconds=3) <= second.run_at - clock.now() <= timedelta(seconds=5)  # 4s ± 25%

    clock.advance(seconds=6)
    assert await drain(frozen) == 1
    dead = await load(frozen, job.id)
    assert (dead.status, dead.attempts, dead.finished_at) == (DEAD, 3, clock.now())
    assert "RuntimeError: boom: fails" in (dead.last_error or "")

    clock.advance(days=1)
    assert await drain(frozen) == 0  # dead stays dead
    assert await notes(frozen, "fails") == 0  # every failed attempt's effects were rolled back


async def test_a_job_whose_runner_died_is_taken_over_after_its_lease_and_counts_an_attempt(
        frozen: Runtime, clock: FrozenClock) -> None:
    lease = timedelta(seconds=frozen.settings.job_lease_seconds)
    async with unit_of_work(frozen) as uow:
        job = uow.enqueue("test.record_note", note="taken-over")
    async with frozen.sessionmaker() as session:  # a runner claims it and dies before finishing
        assert await queue.claim(session, job.id, clock.now(), lease)
        await session.commit()

    assert await run_job(frozen, job.id) is None  # the lease still protects the (presumed) running attempt
    clock.advance(seconds=lease.total_seconds() - 1)
    assert await drain(frozen) == 0

    clock.advance(seconds=2)
    assert await run_job(frozen, job.id) == DONE
    done = await load(frozen, job.id)
    assert (done.status, done.attempts) == (DONE, 2)
    assert await notes(frozen, "taken-over") == 1


async def test_concurrent_runs_of_one_job_run_it_once(runtime: Runtime, settings: Settings) -> None:
    others = [build_runtime(settings) for _ in range(3)]  # separate engines, as separate processes would have
    try:
        async with unit_of_work(runtime) as uow:
            jobs = [uow.enqueue("test.record_note", note=f"once-{i}") for i in range(10)]
        for job in jobs:
            results = await asyncio.gather(*(run_job(r, job.id) for r in [runtime, *others]))
            assert (results.count(DONE), results.count(None)) == (1, 3)
    finally:
        for other in others:
            await other.close()

    for i, job in enumerate(jobs):
        assert await notes(runtime, f"once-{i}") == 1
        assert (await load(runtime, job.id)).attempts == 1


async def test_a_unique_key_enqueues_a_job_at_most_once(runtime: Runtime) -> None:
    async with unit_of_work(runtime) as uow:
        uow.enqueue("test.record_note", unique_key="welcome:42", note="unique")
    with pytest.raises(IntegrityError):
        async with unit_of_work(runtime) as uow:
            uow.enqueue("test.record_note", unique_key="welcome:42", note="unique")

    assert await job_count(runtime) == 1
    assert await drain(runtime) == 1
    assert await notes(runtime, "unique") == 1


async def test_enqueueing_an_unknown_task_fails_at_the_call_site(runtime: Runtime) -> None:
    async with unit_of_work(runtime) as uow:
        with pytest.raises(LookupError, match=r"no task named 'test\.no_such_task'"):
            uow.enqueue("test.no_such_task")
    assert await job_count(runtime) == 0


async def test_a_runner_whose_lease_was_taken_over_cannot_commit_its_work(frozen: Runtime, clock: FrozenClock) -> None:
    async with unit_of_work(frozen) as uow:
        job = uow.enqueue("test.record_note", note="taken-over")
    lease = timedelta(seconds=frozen.settings.job_lease_seconds)
    async with frozen.sessionmaker() as session:  # runner A claims (attempt 1) ... and stalls past its lease
        assert await queue.claim(session, job.id, clock.now(), lease)
        await session.commit()
    clock.advance(seconds=frozen.settings.job_lease_seconds + 1)
    assert await run_job(frozen, job.id) == DONE  # runner B takes over (attempt 2) and finishes
    async with frozen.sessionmaker() as session:  # runner A wakes up and tries to finish attempt 1
        session.add(Job(name="x", args={}, run_at=clock.now(), created_at=clock.now()))  # stands for A's effects
        with pytest.raises(queue.LeaseLost):
            await queue.complete(session, job.id, 1, clock.now())
        await session.rollback()
        failed = await queue.fail(session, await load(frozen, job.id), clock.now(), RuntimeError("late"))
        assert failed is None  # nor can it send the finished job back for a retry
    finished = await load(frozen, job.id)
    assert (finished.status, finished.attempts) == (DONE, 2)
    assert await notes(frozen, "taken-over") == 1 and await job_count(frozen) == 1


async def test_a_runner_that_dies_on_the_last_attempt_leaves_a_dead_job_not_an_endless_loop(
        frozen: Runtime, clock: FrozenClock) -> None:
    async with unit_of_work(frozen) as uow:
        job = uow.enqueue("test.always_fail", note="dies-last")  # max_attempts=3
    lease = timedelta(seconds=frozen.settings.job_lease_seconds)
    for _ in range(3):  # three runners each die holding it
        async with frozen.sessionmaker() as session:
            assert await queue.claim(session, job.id, clock.now(), lease)
            await session.commit()
        clock.advance(seconds=frozen.settings.job_lease_seconds + 1)
    assert await drain(frozen) == 0
    buried = await load(frozen, job.id)
    assert (buried.status, buried.attempts, buried.last_error) == (DEAD, 3, queue.LEASE_LOST_ERROR)
