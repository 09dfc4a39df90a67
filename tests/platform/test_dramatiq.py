"""The scale-out shape: the jobs table relayed to a real Redis and run by real Dramatiq worker processes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

import httpx
import pytest
import redis
from dramatiq import Message
from sqlalchemy import func, select, update

from softdukan.config import Settings
from softdukan.kit.clock import FrozenClock
from softdukan.notification.models import OutboundEmail
from softdukan.platform.jobs import queue
from softdukan.platform.jobs.models import DEAD, DONE, QUEUED, RUNNING, Job
from softdukan.platform.jobs.relay import LEASE_LOST_ERROR, QUEUE_NAME, DramatiqRelay
from softdukan.platform.runtime import Runtime, build_runtime
from softdukan.platform.uow import unit_of_work
from tests.platform.dramatiq_tasks import count_notes

pytestmark = pytest.mark.redis

ROOT = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 3  # short, so a job whose worker died is sent again within the test
DEADLINE_SECONDS = 60.0
WORKER_SECRET = "dramatiq-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz"


class Workers:
    """Dramatiq worker subprocesses (each its own process group), all stopped at teardown."""

    def __init__(self, database_url: str, redis_url: str, logs: Path) -> None:
        self.env = {key: value for key, value in os.environ.items() if key.lower() not in Settings.model_fields}
        self.env.update(DATABASE_URL=database_url, REDIS_URL=redis_url, JOB_LEASE_SECONDS=str(LEASE_SECONDS),
                        SOFTDUKAN_SECRET_KEY=WORKER_SECRET, PYTHONPATH=str(ROOT))
        self.logs = logs
        self.processes: list[tuple[subprocess.Popen[bytes], IO[bytes]]] = []

    def softdukan_worker(self) -> subprocess.Popen[bytes]:
        """The product's own command, as an operator runs it."""
        return self._start([sys.executable, "-m", "softdukan.cli", "worker", "--processes", "1", "--threads", "2"])

    def with_test_tasks(self) -> subprocess.Popen[bytes]:
        """The Dramatiq CLI importing the test tasks after the worker module."""
        return self._start([sys.executable, "-m", "dramatiq", "softdukan.platform.jobs.worker",
                            "tests.platform.dramatiq_tasks", "--processes", "1", "--threads", "2",
                            "--queues", QUEUE_NAME])

    def _start(self, argv: list[str]) -> subprocess.Popen[bytes]:
        log = (self.logs / f"worker-{len(self.processes)}.log").open("wb")
        process = subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        self.processes.append((process, log))
        return process

    def output(self) -> str:
        return "\n".join(f"--- {path.name}\n{path.read_text(errors='replace')[-4000:]}"
                         for path in sorted(self.logs.glob("worker-*.log")))

    def stop_all(self) -> None:
        for process, _ in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)  # dramatiq forwards it to its worker processes
        for process, log in self.processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=20)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # whatever of the group is left, forks included
            process.wait()
            log.close()


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    client.flushdb()  # no message left over from an earlier test
    yield client
    client.close()


@pytest.fixture
def relay_settings(settings: Settings, redis_url: str) -> Settings:
    return settings.model_copy(update={"redis_url": redis_url, "job_lease_seconds": LEASE_SECONDS})


@pytest.fixture
async def relay_runtime(runtime: Runtime, relay_settings: Settings,
                        redis_client: redis.Redis) -> AsyncIterator[Runtime]:
    """What `softdukan serve` runs with REDIS_URL set (`runtime` first: the tables are wiped)."""
    relay_runtime = build_runtime(relay_settings)
    yield relay_runtime
    await relay_runtime.close()


@pytest.fixture
async def relay(relay_runtime: Runtime) -> AsyncIterator[DramatiqRelay]:
    relay = DramatiqRelay(relay_runtime)
    await relay.start()
    yield relay
    await relay.stop()


@pytest.fixture
def workers(runtime: Runtime, database_url: str, redis_url: str, tmp_path: Path) -> Iterator[Workers]:
    workers = Workers(database_url, redis_url, tmp_path)
    yield workers
    workers.stop_all()


async def eventually(check: Callable[[], Awaitable[bool]], explain: Callable[[], str]) -> None:
    """Poll until `check` holds; fail with `explain()` after a generous deadline (not a timing assertion)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE_SECONDS
    while not await check():
        if loop.time() > deadline:
            raise AssertionError(f"not reached within {DEADLINE_SECONDS}s\n{explain()}")
        await asyncio.sleep(0.1)


async def load(runtime: Runtime, job_id: int) -> Job:
    async with runtime.sessionmaker() as session:
        job = await session.get(Job, job_id)
        assert job is not None
        return job


def job_done(runtime: Runtime, job_id: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return (await load(runtime, job_id)).status == DONE

    return check


def queued_job_ids(client: redis.Redis) -> list[int]:
    """The job ids of the messages waiting in Redis."""
    raw: list[bytes] = client.hvals(f"dramatiq:{QUEUE_NAME}.msgs")  # type: ignore[assignment]
    return sorted(int(Message.decode(data).args[0]) for data in raw)


async def test_a_committed_job_is_relayed_to_and_run_by_a_softdukan_worker(
        relay_runtime: Runtime, relay: DramatiqRelay, workers: Workers) -> None:
    workers.softdukan_worker()
    async with unit_of_work(relay_runtime) as uow:
        email = OutboundEmail(to_address="owner@example.com", subject="Welcome", body_text="Hello",
                              created_at=relay_runtime.clock.now())
        uow.session.add(email)
        await uow.flush()
        job = uow.enqueue("notification.deliver_email", email_id=email.id)

    await eventually(job_done(relay_runtime, job.id), lambda: f"{relay.state()}\n{workers.output()}")

    done = await load(relay_runtime, job.id)
    assert (done.attempts, done.last_error) == (1, None)
    assert done.relayed_at is not None
    async with relay_runtime.sessionmaker() as session:
        delivered = await session.get(OutboundEmail, email.id)
    assert delivered is not None and delivered.status == "mailbox"  # the worker ran the real task (no SMTP set)
    state = relay.state()
    assert (state["mode"], state["running"], state["relayed"], state["last_error"]) == ("dramatiq", True, 1, None)


async def test_a_rolled_back_transaction_sends_nothing_and_runs_nothing(
        relay_runtime: Runtime, relay: DramatiqRelay, workers: Workers) -> None:
    workers.with_test_tasks()
    with pytest.raises(RuntimeError, match="the change failed"):
        async with unit_of_work(relay_runtime) as uow:
            uow.enqueue("test.record_note", note="rolled-back")
            await uow.flush()
            raise RuntimeError("the change failed")
    async with unit_of_work(relay_runtime) as uow:  # committed after it: once this ran, the other would have too
        later = uow.enqueue("test.record_note", note="committed")

    await eventually(job_done(relay_runtime, later.id), lambda: f"{relay.state()}\n{workers.output()}")

    async with relay_runtime.sessionmaker() as session:
        assert await count_notes(session, "rolled-back") == 0
        assert await count_notes(session, "committed") == 1
        assert await session.scalar(select(func.count()).select_from(Job)) == 1
    assert relay.relayed == 1


async def test_a_job_whose_worker_is_killed_mid_run_is_sent_again_and_finished_by_another_worker(
        relay_runtime: Runtime, relay: DramatiqRelay, workers: Workers) -> None:
    first = workers.with_test_tasks()
    async with unit_of_work(relay_runtime) as uow:
        job = uow.enqueue("test.crash_worker_once", unique_key="crash-once", note="crash-once")

    # the task SIGKILLs its worker process on the first attempt; Dramatiq's main process then shuts down
    async def first_worker_gone() -> bool:
        return first.poll() is not None

    await eventually(first_worker_gone, workers.output)
    crashed = await load(relay_runtime, job.id)
    assert crashed.attempts == 1 and crashed.status in (RUNNING, QUEUED)
    async with relay_runtime.sessionmaker() as session:
        assert await count_notes(session, "crash-once") == 0

    workers.with_test_tasks()
    await eventually(job_done(relay_runtime, job.id), lambda: f"{relay.state()}\n{workers.output()}")

    done = await load(relay_runtime, job.id)
    assert (done.status, done.attempts, done.last_error) == (DONE, 2, None)
    async with relay_runtime.sessionmaker() as session:
        assert await count_notes(session, "crash-once") == 1
    assert relay.requeued_expired == 1


# The relay's own rules, step by step on a frozen clock, against the real Redis (no worker consumes).

@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2025, 3, 3, 9, 0, tzinfo=UTC))


@pytest.fixture
async def frozen_runtimes(runtime: Runtime, relay_settings: Settings, clock: FrozenClock,
                          redis_client: redis.Redis) -> AsyncIterator[list[Runtime]]:
    runtimes = [build_runtime(relay_settings, clock=clock) for _ in range(2)]
    yield runtimes
    for frozen in runtimes:
        await frozen.close()


@pytest.fixture
def frozen_relays(frozen_runtimes: list[Runtime]) -> Iterator[list[DramatiqRelay]]:
    """Two relays, as two web processes would run; driven step by step, their loops never started."""
    relays = [DramatiqRelay(frozen) for frozen in frozen_runtimes]
    yield relays
    for relay in relays:
        relay.close()


async def test_two_relays_send_each_due_job_once(frozen_runtimes: list[Runtime], frozen_relays: list[DramatiqRelay],
                                                 redis_client: redis.Redis, clock: FrozenClock) -> None:
    one, other = frozen_relays
    async with unit_of_work(frozen_runtimes[0]) as uow:
        due = [uow.enqueue("test.record_note", note=f"due-{i}") for i in range(5)]
        uow.enqueue("test.record_note", note="later", run_at=clock.now() + timedelta(minutes=5))

    sent = await asyncio.gather(one.relay_batch(), other.relay_batch())
    assert sorted(sent) == [0, 5]
    assert queued_job_ids(redis_client) == sorted(job.id for job in due)
    assert await one.relay_batch() == 0 and await other.relay_batch() == 0  # nothing is sent twice


async def test_the_relay_resends_jobs_of_dead_workers_and_lost_messages_and_buries_exhausted_ones(
        frozen_runtimes: list[Runtime], frozen_relays: list[DramatiqRelay], redis_client: redis.Redis,
        clock: FrozenClock) -> None:
    frozen, relay = frozen_runtimes[0], frozen_relays[0]
    lease = timedelta(seconds=LEASE_SECONDS)
    async with unit_of_work(frozen) as uow:
        orphaned = uow.enqueue("test.record_note", note="worker-died")
        lost = uow.enqueue("test.record_note", note="message-lost")
        exhausted = uow.enqueue("test.crash_worker_once", unique_key="exhausted", note="exhausted")
    assert await relay.relay_batch() == 3
    async with frozen.sessionmaker() as session:  # two are claimed by workers that then die
        assert await queue.claim(session, orphaned.id, clock.now(), lease)
        await session.execute(update(Job).where(Job.id == exhausted.id).values(attempts=2)
                              .execution_options(synchronize_session=False))
        assert await queue.claim(session, exhausted.id, clock.now(), lease)  # its third and last attempt
        await session.commit()
    redis_client.flushdb()  # every message is gone

    clock.advance(seconds=LEASE_SECONDS + 1)
    await relay.recover()
    assert await relay.relay_batch() == 1
    assert queued_job_ids(redis_client) == [orphaned.id]  # the lost message is not presumed lost yet
    requeued = await load(frozen, orphaned.id)
    assert (requeued.status, requeued.relayed_at, requeued.last_error) == (QUEUED, clock.now(), LEASE_LOST_ERROR)
    buried = await load(frozen, exhausted.id)
    assert (buried.status, buried.attempts, buried.last_error) == (DEAD, 3, LEASE_LOST_ERROR)

    clock.advance(seconds=LEASE_SECONDS * 5 + 1)  # long enough for an unclaimed message to count as lost
    redis_client.flushdb()
    await relay.recover()
    assert await relay.relay_batch() == 2
    assert queued_job_ids(redis_client) == sorted([orphaned.id, lost.id])
    state = relay.state()
    assert (state["requeued_expired"], state["rerelayed_lost"], state["dead_expired"]) == (1, 2, 1)


async def test_serve_with_redis_url_relays_instead_of_running_jobs_and_reports_it(
        relay_runtime: Runtime, relay_settings: Settings, redis_client: redis.Redis) -> None:
    from softdukan.main import create_app
    from tests.support.services import LiveServer

    serve_settings = relay_settings.model_copy(update={"run_jobs_in_process": True, "scheduler_in_process": True})
    server = LiveServer(lambda: create_app(serve_settings))
    server.start()
    try:
        async def purge_relayed() -> bool:  # enqueued by the in-process scheduler, handed to Redis by the relay
            async with relay_runtime.sessionmaker() as session:
                return bool(await session.scalar(select(func.count()).select_from(Job).where(
                    Job.name == "platform.purge_finished_jobs", Job.relayed_at.is_not(None))))

        await eventually(purge_relayed, lambda: "the scheduler's job was not relayed")
        async with httpx.AsyncClient(base_url=server.url) as client:
            health = (await client.get("/healthz")).json()
    finally:
        await asyncio.to_thread(server.stop)

    relay_state, scheduler_state = health["jobs"]["DramatiqRelay"], health["jobs"]["Scheduler"]
    assert set(health["jobs"]) == {"DramatiqRelay", "Scheduler"}  # no embedded runner beside the relay
    assert (relay_state["mode"], relay_state["running"], relay_state["last_error"]) == ("dramatiq", True, None)
    assert relay_state["relayed"] >= 1 and scheduler_state["enqueued"] >= 1
    async with relay_runtime.sessionmaker() as session:
        jobs = list(await session.scalars(select(Job)))
    assert {(job.status, job.attempts) for job in jobs} == {(QUEUED, 0)}  # nothing ran in the web process
    purge = next(job for job in jobs if job.name == "platform.purge_finished_jobs")
    assert purge.id in queued_job_ids(redis_client)
