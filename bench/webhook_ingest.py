"""Webhook ingestion: signed status webhooks per second acknowledged by `POST /webhooks/whatsapp` (signature
checked, raw event stored, routing job enqueued, committed, 200), against a bare endpoint that reads the body and
returns 200 on the same server, in the same run, for SQLite and PostgreSQL. Then p50/p99 acknowledgement latency
with requests paced at 80 % of the measured maximum rate.

The server is the real product app under uvicorn (one process, job runner off: routing is a worker's business);
the load generator (bench/loadgen.py) is a separate process talking raw HTTP/1.1 over keep-alive connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select

import softdukan.models  # noqa: F401  every table
from bench import loadgen
from bench.postgres import cluster
from softdukan.config import Settings
from softdukan.inbound.models import InboundEvent
from softdukan.kit import migrate
from softdukan.kit.crypto import SecretBox, token_hash
from softdukan.number.models import CONNECTED, PhoneNumber, WhatsAppAccount
from softdukan.organization.models import Organization
from softdukan.platform.jobs.models import Job
from softdukan.platform.runtime import build_runtime
from tests.support.services import free_port, wait_for_port

TITLE = "Webhook ingestion: signed status webhooks acknowledged per second"
SECRET_KEY = "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
APP_SECRET = "bench-app-secret-0123456789abcdef"
WABA_ID = "104996122399160"
PHONE_ID = "106540352242922"
CONNECTIONS = 32


@dataclass
class Side:
    database: str
    bare: list[float] = field(default_factory=list)
    webhook: list[float] = field(default_factory=list)
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    paced_rate: float = 0.0
    paced_failed: int = 0
    stored_events: int = 0
    stored_jobs: int = 0
    expected_jobs: int = 0

    @property
    def ratio(self) -> float:
        return statistics.median(self.webhook) / statistics.median(self.bare)


@dataclass
class Result:
    requests: int
    rounds: int
    sides: list[Side]

    def markdown(self) -> str:
        def rounds(values: list[float]) -> str:
            return ", ".join(f"{v:,.0f}" for v in values)

        rows = []
        for s in self.sides:
            rows += [
                f"| {s.database} | bare endpoint, 200 | {statistics.median(s.bare):,.0f} | {rounds(s.bare)} |",
                f"| {s.database} | `POST /webhooks/whatsapp` | {statistics.median(s.webhook):,.0f} | "
                f"{rounds(s.webhook)} |",
                f"| {s.database} | **ratio webhook / bare** | **{s.ratio:.2f}** | |",
            ]
        latency = [f"| {s.database} | {s.paced_rate:,.0f} | {s.p50_ms:.1f} | {s.p99_ms:.1f} | {s.paced_failed} |"
                   for s in self.sides]
        checks = [f"{s.database}: {s.expected_jobs:,} webhooks acknowledged, {s.stored_events:,} raw events stored, "
                  f"{s.stored_jobs:,} routing jobs queued" for s in self.sides]
        return "\n".join([
            f"## {TITLE}",
            "",
            f"{self.requests:,} requests per round, {self.rounds} rounds (median shown), {CONNECTIONS} keep-alive "
            "connections, one status per webhook, one uvicorn process, job runner off.",
            "",
            "| database | endpoint | requests/s (median) | rounds |",
            "|---|---|---:|---|",
            *rows,
            "",
            "Acknowledgement latency of `POST /webhooks/whatsapp`, requests paced at 80 % of its maximum rate:",
            "",
            "| database | paced rate (req/s) | p50 (ms) | p99 (ms) | failed |",
            "|---|---:|---:|---:|---:|",
            *latency,
            "",
            "Sanity: " + "; ".join(checks) + ".",
            "",
        ])


def _sign(body: bytes) -> str:
    return "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()


def status_body(index: int, run: str) -> bytes:
    wamid = f"wamid.BENCH{run}{index:09d}"
    value = {"messaging_product": "whatsapp",
             "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_ID},
             "statuses": [{"id": wamid, "status": "delivered", "timestamp": str(1_764_000_000 + index),
                           "recipient_id": "919812345678",
                           "pricing": {"billable": True, "pricing_model": "PMP", "type": "regular",
                                       "category": "marketing"}}]}
    payload = {"object": "whatsapp_business_account",
               "entry": [{"id": WABA_ID, "changes": [{"field": "messages", "value": value}]}]}
    return json.dumps(payload, separators=(",", ":")).encode()


def webhook_requests(port: int, run: str) -> Callable[[int], bytes]:
    host = f"127.0.0.1:{port}"

    def make(index: int) -> bytes:
        body = status_body(index, run)
        return loadgen.build_request(host, "/webhooks/whatsapp", body, {"X-Hub-Signature-256": _sign(body)})

    return make


def bare_requests(port: int, run: str) -> Callable[[int], bytes]:
    host = f"127.0.0.1:{port}"
    return lambda index: loadgen.build_request(host, "/_bench/bare", status_body(index, run),
                                               {"X-Hub-Signature-256": "sha256=00"})


async def _seed(database_url: str) -> None:
    settings = Settings(database_url=database_url, softdukan_secret_key=SECRET_KEY, run_jobs_in_process=False,
                        scheduler_in_process=False)
    runtime = build_runtime(settings)
    box = SecretBox(SECRET_KEY)
    try:
        async with runtime.sessionmaker() as session:
            org = Organization(name="Bench Dukan")
            session.add(org)
            await session.flush()
            account = WhatsAppAccount(
                organization_id=org.id, waba_id=WABA_ID, name="Bench", access_token_sealed=box.seal("token"),
                app_secret_sealed=box.seal(APP_SECRET), verify_token_sealed=box.seal("verify"),
                verify_token_hash=token_hash(SECRET_KEY, "verify"))
            session.add(account)
            await session.flush()
            session.add(PhoneNumber(organization_id=org.id, account_id=account.id, phone_number_id=PHONE_ID,
                                    display_phone_number="15550783881", wa_number="15550783881",
                                    verified_name="Bench", status=CONNECTED))
            await session.commit()
    finally:
        await runtime.close()


async def _count_stored(database_url: str) -> tuple[int, int]:
    """(raw events stored, routing jobs queued)."""
    runtime = build_runtime(Settings(database_url=database_url, softdukan_secret_key=SECRET_KEY))
    try:
        async with runtime.sessionmaker() as session:
            events = await session.scalar(select(func.count()).select_from(InboundEvent))
            jobs = await session.scalar(select(func.count()).select_from(Job))
            return int(events or 0), int(jobs or 0)
    finally:
        await runtime.close()


@contextlib.contextmanager
def _server(database_url: str) -> Iterator[int]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "SOFTDUKAN_SECRET_KEY": SECRET_KEY, "REDIS_URL": "",
           "LOG_LEVEL": "WARNING"}
    env.pop("REDIS_URL")
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bench.ingest_server:app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--no-access-log", "--log-level", "warning"],
        env=env, cwd=Path(__file__).resolve().parent.parent)
    try:
        wait_for_port(port, timeout=30)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=20)


def _measure(database: str, database_url: str, requests: int, rounds: int) -> Side:
    migrate.upgrade(database_url)
    asyncio.run(_seed(database_url))
    side = Side(database)
    accepted = 0
    with _server(database_url) as port:
        # warm-up: connections, statement caches, the account lookup
        asyncio.run(loadgen.saturate(port, bare_requests(port, "w"), 300, CONNECTIONS))
        warm = asyncio.run(loadgen.saturate(port, webhook_requests(port, "w"), 300, CONNECTIONS))
        accepted += warm.sent - warm.failed
        for round_no in range(rounds):  # interleaved, so drift on the machine hits both sides alike
            bare = asyncio.run(loadgen.saturate(port, bare_requests(port, f"b{round_no}"), requests, CONNECTIONS))
            hook = asyncio.run(loadgen.saturate(port, webhook_requests(port, f"r{round_no}"), requests,
                                                CONNECTIONS))
            if hook.failed or bare.failed:
                raise RuntimeError(f"{database}: failed requests: webhook {hook.statuses}, bare {bare.statuses}")
            accepted += hook.sent
            side.bare.append(bare.rate)
            side.webhook.append(hook.rate)
        target = 0.8 * statistics.median(side.webhook)
        paced = asyncio.run(loadgen.paced(port, webhook_requests(port, "p"), target, seconds=10))
        accepted += paced.sent - paced.failed
        side.paced_rate, side.paced_failed = target, paced.failed
        side.p50_ms, side.p99_ms = paced.percentile(50) * 1000, paced.percentile(99) * 1000
    side.stored_events, side.stored_jobs = asyncio.run(_count_stored(database_url))
    side.expected_jobs = accepted
    return side


def run(*, requests: int = 3000, rounds: int = 3, postgres: bool = True) -> Result:
    sides = []
    with tempfile.TemporaryDirectory(prefix="softdukan-bench-") as tmp:
        sides.append(_measure("SQLite", f"sqlite+aiosqlite:///{Path(tmp) / 'ingest.db'}", requests, rounds))
    if postgres:
        with cluster() as url:
            time.sleep(0.5)
            sides.append(_measure("PostgreSQL", url, requests, rounds))
    return Result(requests, rounds, sides)


if __name__ == "__main__":
    print(run().markdown())
