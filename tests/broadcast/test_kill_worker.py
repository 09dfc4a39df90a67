"""Exactly once under SIGKILL: the product server (web + the embedded job runner that dispatches the broadcast and
routes the sandbox's status webhooks) is killed at random moments during a broadcast of a few thousand recipients
and started again, several times. The standalone sandbox process (playing Meta, on its own database) survives it
all and is the judge: every eligible recipient was accepted exactly once, no opted-out or blocked one at all.

Real processes and real HTTP both ways. The sandbox always runs on a SQLite file of its own; the product's database
is the suite's (SQLite, or PostgreSQL in the PostgreSQL run). Leases are short so a killed dispatcher's job is taken
over within seconds, and an attempt whose answer died with the server is resolved by its status webhook (our id in
`biz_opaque_callback_data`), which the sandbox sends 0.2 s after accepting and retries every few seconds while the
server is down, inside the confirm time after which an attempt with no word from WhatsApp is sent again.
On failure: the seed (KILL_TEST_SEED repeats the kill moments), the recipients' states after each kill, and for the
first duplicates the story of each copy (when the sandbox accepted it, when its status webhook was delivered).
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from softdukan.broadcast import states as s
from softdukan.broadcast.models import BroadcastRecipient
from softdukan.broadcast.service import BroadcastInput, broadcast_service
from softdukan.config import Settings
from softdukan.platform.runtime import Runtime, build_runtime
from softdukan.platform.uow import unit_of_work
from tests.broadcast.engine_support import MAPPING
from tests.broadcast.kill_support import (
    Process,
    Shop,
    add_contacts,
    approved_template,
    broadcast_row,
    child_env,
    connect_number,
    control,
    duplicate_stories,
    recipient_states,
    sandbox_received,
    standalone_sandbox,
)
from tests.conversation.template_send_support import offer
from tests.support.factories import make_org
from tests.support.services import free_port, wait_for_port

ELIGIBLE = 2000
OPTED_OUT = 6
BLOCKED = 4
KILLS = 5
JOB_LEASE_SECONDS = 5  # a killed run's job is taken over this long after it was claimed
# An attempt with no answer and no status this long after its claim was never sent: it is sent again. It must be
# longer than the slowest status webhook of an attempt that was sent: the sandbox's embedded runner delivers only a
# few webhooks a second on a busy 2-core machine, so the first statuses of the kill phase arrive up to ~80 s late.
CONFIRM_SECONDS = 120
RETRIES = [1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 4.0, 4.0] + [5.0] * 40  # the sandbox's webhook retries while we are down
DEADLINE_SECONDS = 240.0  # generous: a stall, not a slow machine, should fail the test


@pytest.fixture
def sandbox(settings: Settings, tmp_path: Path) -> Iterator[tuple[str, str, Process]]:
    with standalone_sandbox(tmp_path, settings.softdukan_secret_key) as running:
        yield running


@pytest.fixture
async def product(runtime: Runtime, settings: Settings, sandbox: tuple[str, str, Process]
                  ) -> AsyncIterator[tuple[Runtime, int]]:
    """The test's own view of the product database (`runtime` first: the tables are wiped), speaking to the
    standalone sandbox, with the port the product server will listen on; yields (runtime, port)."""
    port = free_port()
    own = build_runtime(settings.model_copy(update={"graph_api_url": sandbox[0],
                                                    "base_url": f"http://127.0.0.1:{port}"}))
    yield own, port
    await own.close()


def server(settings: Settings, graph: str, port: int, logs: Path) -> Process:
    """`softdukan serve`: the web app and, embedded, the job runner and scheduler: the broadcast's worker."""
    env = child_env(DATABASE_URL=settings.database_url, SOFTDUKAN_SECRET_KEY=settings.softdukan_secret_key,
                    BASE_URL=f"http://127.0.0.1:{port}", GRAPH_API_URL=graph, JOB_LEASE_SECONDS=str(JOB_LEASE_SECONDS),
                    BROADCAST_CONFIRM_SECONDS=str(CONFIRM_SECONDS), JOB_POLL_INTERVAL="0.05", LOG_LEVEL="WARNING")
    return Process("server", [sys.executable, "-m", "softdukan.cli", "serve", "--port", str(port)], env, logs)


async def setup(runtime: Runtime, graph: str) -> tuple[Shop, int, set[str], dict[str, str]]:
    """An organization with a connected number, an approved marketing template, the contacts (some opted out or
    blocked) and a launched broadcast to all of them; (shop, broadcast id, eligible wa_ids, skipped wa_id → reason)."""
    await control(graph, "PUT", "/profile", {
        "sent_after_seconds": 0.2, "delivery_ratio": 0.0, "read_ratio": 0.0,
        "enforce_throughput": False, "enforce_pair_rate": False, "template_review_delay_seconds": 3600,
        "retry_schedule_seconds": RETRIES})
    org = await make_org(runtime, "Kirana Kill Test")
    shop = await connect_number(runtime, org, graph)
    template_id = await approved_template(runtime, shop, graph, offer("kill_test_offer"))
    now = runtime.clock.now()
    eligible = set(await add_contacts(runtime, org.org.id, 0, ELIGIBLE))
    skipped = dict.fromkeys(await add_contacts(runtime, org.org.id, ELIGIBLE, OPTED_OUT, opted_out=now), s.OPTED_OUT)
    skipped |= dict.fromkeys(await add_contacts(runtime, org.org.id, ELIGIBLE + OPTED_OUT, BLOCKED, blocked=now),
                             s.BLOCKED)
    async with unit_of_work(runtime) as uow:
        broadcast = await broadcast_service.create(uow, org.subject, BroadcastInput(
            name="Kill test", template_id=template_id, audience={"kind": "all"}, variables=MAPPING))
        await broadcast_service.launch(uow, org.subject, broadcast.id)
        broadcast_id = broadcast.id
    return shop, broadcast_id, eligible, skipped


async def dispatching_since(runtime: Runtime, broadcast_id: int, before: object, seconds: float) -> bool:
    """Wait (at most `seconds`) until a dispatcher of this server life took the broadcast."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = await broadcast_row(runtime, broadcast_id)
        if found.dispatch_lease_until != before or found.status != s.SENDING:
            return True
        await asyncio.sleep(0.1)
    return False


async def test_killing_the_worker_at_random_moments_sends_every_recipient_exactly_once(
        product: tuple[Runtime, int], settings: Settings, sandbox: tuple[str, str, Process], tmp_path: Path) -> None:
    runtime, port = product
    graph, sandbox_db, sandbox_process = sandbox
    seed = int(os.environ.get("KILL_TEST_SEED") or random.SystemRandom().randrange(1_000_000))
    rng = random.Random(seed)
    print(f"kill test seed {seed} (KILL_TEST_SEED={seed} repeats it)")
    _, broadcast_id, eligible, skipped = await setup(runtime, graph)
    worker = server(settings, graph, port, tmp_path)
    started = time.monotonic()
    timeline: list[str] = []

    def explain(extra: str = "") -> str:
        return "\n".join([f"seed {seed}", *timeline, extra, worker.tail(), sandbox_process.tail(3000)])

    try:
        for kill in range(1, KILLS + 1):
            before = (await broadcast_row(runtime, broadcast_id)).dispatch_lease_until
            worker.start()
            wait_for_port(port, timeout=60)
            ready = time.monotonic()
            delay = rng.uniform(0.3, 2.5)
            # from the moment it serves; if no dispatcher of this life has started by then, from when one does
            await asyncio.sleep(delay)
            if not await dispatching_since(runtime, broadcast_id, before, 10.0):
                timeline.append(f"kill {kill}: no dispatcher started within 10 s of the delay")
            worker.kill()
            states = await recipient_states(runtime, broadcast_id)
            timeline.append(f"kill {kill}: {time.monotonic() - ready:.2f} s after serving "
                            f"(delay {delay:.2f}); recipients {states}")
        worker.start()
        wait_for_port(port, timeout=60)
        while (found := await broadcast_row(runtime, broadcast_id)).status == s.SENDING:
            assert worker.alive(), explain("the server died by itself")
            if time.monotonic() - started > DEADLINE_SECONDS:
                raise AssertionError(explain(f"not completed within {DEADLINE_SECONDS:.0f} s: "
                                             f"{await recipient_states(runtime, broadcast_id)}"))
            await asyncio.sleep(0.5)
        timeline.append(f"{found.status} {time.monotonic() - started:.1f} s after the first start")
    finally:
        worker.stop()
    print("\n".join(timeline))

    received = await sandbox_received(sandbox_db)
    states = await recipient_states(runtime, broadcast_id)
    duplicates = {wa_id: n for wa_id, n in received.items() if n > 1}
    missing = sorted(eligible - set(received))
    wrongly_sent = sorted(set(received) & set(skipped))
    strangers = sorted(set(received) - eligible - set(skipped))
    stories = await duplicate_stories(sandbox_db, sorted(duplicates)[:5]) if duplicates else ""
    some = sorted(duplicates)[:50]
    report = explain(f"states {states}\nduplicates ({len(duplicates)}) {some}\n{stories}\n"
                     f"missing ({len(missing)}) {missing[:50]}\nsent to skipped {wrongly_sent}\nunknown {strangers}")
    assert found.status == s.COMPLETED, report
    assert not duplicates and not missing and not wrongly_sent and not strangers, report
    assert all(received[wa_id] == 1 for wa_id in eligible), report

    async with runtime.sessionmaker() as session:
        recipients = (await session.execute(select(BroadcastRecipient).where(
            BroadcastRecipient.broadcast_id == broadcast_id))).scalars().all()
    by_number = {r.wa_id: r for r in recipients}
    assert {wa_id for wa_id, r in by_number.items() if r.state == s.SENT} == eligible, report
    assert {wa_id: r.reason for wa_id, r in by_number.items() if r.state == s.SKIPPED} == skipped, report
    resent = Counter(r.attempts for r in recipients if r.state == s.SENT)
    print(f"attempts per sent recipient: {dict(sorted(resent.items()))}")

