"""Broadcast throughput: a broadcast sent by the product's engine (broadcast_service.create/launch, the embedded
job runner's dispatcher) to a standalone sandbox process (`softdukan sandbox`, its own SQLite database) whose
throughput bucket is set to the ceiling (80, then 1,000 messages/s). Reported: achieved messages/s over the
ceiling, first accepted → last accepted and in steady state (the first second left out), measured on the
sandbox's own records, and the 130429 refusals counted by the sandbox (its control API's counters) and by the
product (attempts that came back with 130429).

Product database: a temporary SQLite file, and PostgreSQL when bench/postgres.py can start a cluster.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import uvloop
from sqlalchemy import func, insert, select, update

import softdukan.models  # every table
import softdukan.tasks  # noqa: F401  every task (the dispatcher among them)
from bench.broadcast_sandbox import control, standalone
from bench.postgres import cluster, pg_bin
from softdukan.broadcast import states as s
from softdukan.broadcast.models import Broadcast, BroadcastRecipient
from softdukan.broadcast.service import BroadcastInput, broadcast_service
from softdukan.config import Settings
from softdukan.contact.models import Contact
from softdukan.conversation.models import Message
from softdukan.kit import migrate
from softdukan.kit.crypto import new_token, token_hash
from softdukan.kit.db import make_nullpool_engine
from softdukan.number.models import CONNECTED, SOURCE_NEW, STEP_DONE, PhoneNumber, WhatsAppAccount
from softdukan.platform.jobs.runner import EmbeddedRunner
from softdukan.platform.runtime import Runtime, build_runtime
from softdukan.platform.uow import unit_of_work
from softdukan.sandbox.models import SandboxMessage, SandboxPhoneNumber
from softdukan.template.models import APPROVED, MessageTemplate
from softdukan.template.service import template_service
from tests.support.factories import make_org
from tests.support.plans import subscribe
from tests.wallet.support import fund

CREDIT_UNITS = 5_000_000_000  # ₹5,00,000 of credit: far more than 100,000 marketing messages cost

TITLE = "Broadcast throughput: messages/s accepted by a standalone sandbox at its throughput ceiling"
SECRET_KEY = "bench-broadcast-secret-key-0123456789-abcdefghijklmn"
TEMPLATE = {"name": "bench_offer", "language": "en", "category": "MARKETING", "parameter_format": "NAMED",
            "components": [{"type": "BODY", "text": "Hi {{first_name}}, {{discount}} off all teas this Diwali!",
                            "example": {"body_text_named_params": [{"param_name": "first_name", "example": "Asha"},
                                                                   {"param_name": "discount", "example": "20%"}]}}]}
VARIABLES = {"mapping": {"body.first_name": {"source": "field", "value": "first_name", "fallback": "there"},
                         "body.discount": {"source": "fixed", "value": "20%"}}}


@dataclass
class Run:
    database: str
    ceiling: int
    recipients: int
    accepted: int = 0  # by the sandbox, for this number
    seconds: float = 0.0  # first accepted → last accepted
    steady_rate: float = 0.0  # after the first second
    refused_130429: int = 0  # by the sandbox (its counters)
    product_130429: int = 0  # attempts the product saw refused with 130429
    retried: int = 0  # recipients that waited with reason `retry` at the end (should be 0)
    states: dict[str, int] | None = None
    wall: float = 0.0  # launch → every recipient resolved
    fast_path: int = 0  # sends the sandbox accepted on its fast path (the rest: send_message)

    @property
    def rate(self) -> float:
        return (self.accepted - 1) / self.seconds if self.seconds else 0.0


@dataclass
class Result:
    runs: list[Run]
    note: str = ""

    def markdown(self) -> str:
        rows = [f"| {r.database} | {r.ceiling:,} | {r.recipients:,} | {r.accepted:,} | {r.rate:,.1f} | "
                f"**{r.rate / r.ceiling:.3f}** | {r.steady_rate:,.1f} | **{r.steady_rate / r.ceiling:.3f}** | "
                f"{r.refused_130429} | {r.product_130429} | {r.wall:,.1f} |" for r in self.runs]
        states = [f"{r.database} at {r.ceiling}: {r.states}" for r in self.runs]
        return "\n".join([
            f"## {TITLE}",
            "",
            "The product (embedded job runner on uvloop, one dispatcher) sends one MARKETING template per contact to a "
            "standalone `softdukan sandbox` process on its own SQLite file; portfolio at TIER_UNLIMITED on both "
            "sides; the sandbox's bucket (`throughput_mps`, GCRA with a one-second burst) is the ceiling and the "
            "judge of 130429. Status webhooks are delayed by an hour (`sent_after_seconds`) so their traffic does "
            "not compete.",
            "",
            "| product DB | ceiling (msg/s) | recipients | accepted | msg/s first→last | ratio | msg/s steady "
            "(after 1st s) | ratio steady | 130429 (sandbox) | 130429 (product) | wall s |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
            *rows,
            "",
            "Recipient states at the end: " + "; ".join(states) + ".",
            *(["", self.note] if self.note else []),
            "",
        ])


def _settings(database_url: str, graph: str) -> Settings:
    return Settings(database_url=database_url, softdukan_secret_key=SECRET_KEY, graph_api_url=graph,
                    base_url="http://127.0.0.1:9", run_jobs_in_process=False, scheduler_in_process=False,
                    job_poll_interval=0.05, log_level="WARNING")


async def _connect(runtime: Runtime, org_id: int, graph: str, ceiling: int) -> tuple[WhatsAppAccount, PhoneNumber]:
    """number/provision.py's product half, the sandbox half through the standalone sandbox's control API."""
    settings, box = runtime.settings, runtime.secrets
    app_id, app_secret = settings.platform_app
    verify_token = new_token(24)
    level = "HIGH" if ceiling >= 1000 else "STANDARD"
    async with httpx.AsyncClient(timeout=30) as http:
        made = await control(http, graph, "POST", "/provision", {
            "app_id": app_id, "app_secret": app_secret, "callback_url": f"{settings.base_url}/webhooks/whatsapp",
            "verify_token": verify_token, "business_name": f"Bench {ceiling}", "verified_name": f"Bench {ceiling}"})
        await control(http, graph, "POST", f"/phone-numbers/{made['phone_number_id']}/state",
                      {"messaging_limit_tier": "TIER_UNLIMITED", "throughput_level": level})
    async with unit_of_work(runtime) as uow:
        now = uow.clock.now()
        account = WhatsAppAccount(
            organization_id=org_id, waba_id=made["waba_id"], business_id=made.get("business_id"),
            name=f"Bench {ceiling}", app_id=app_id, access_token_sealed=box.seal(made["access_token"]),
            app_secret_sealed=box.seal(app_secret), verify_token_sealed=box.seal(verify_token),
            verify_token_hash=token_hash(settings.softdukan_secret_key, verify_token), webhooks_subscribed_at=now,
            messaging_limit_tier="TIER_UNLIMITED", created_at=now)
        uow.session.add(account)
        await uow.flush()
        digits = "".join(ch for ch in str(made["display_phone_number"]) if ch.isdigit())
        phone = PhoneNumber(
            organization_id=org_id, account_id=account.id, phone_number_id=made["phone_number_id"],
            display_phone_number=f"+{digits}", wa_number=digits, verified_name=f"Bench {ceiling}",
            name_status="APPROVED", status=CONNECTED, onboarding_step=STEP_DONE, source=SOURCE_NEW,
            code_verification_status="VERIFIED", quality_rating="GREEN", registered_at=now, is_default=True,
            messaging_limit_tier="TIER_UNLIMITED", throughput_level=level, throughput_mps=ceiling, created_at=now)
        uow.session.add(phone)
    return account, phone


async def _template(runtime: Runtime, subject: Any, graph: str) -> int:
    async with unit_of_work(runtime) as uow:
        template = await template_service.create(uow, subject, dict(TEMPLATE))
        template_id, meta_id = template.id, template.meta_template_id
    async with httpx.AsyncClient(timeout=30) as http:
        await control(http, graph, "POST", f"/templates/{meta_id}/status", {"status": APPROVED})
    async with unit_of_work(runtime) as uow:  # as the template webhook would record it
        await uow.session.execute(update(MessageTemplate).where(MessageTemplate.id == template_id)
                                  .values(status=APPROVED, updated_at=uow.clock.now()))
    return int(template_id)


async def add_contacts(runtime: Runtime, org_id: int, count: int, *, prefix: str, batch: int = 5000) -> None:
    """`count` contacts, bulk-inserted `batch` rows per statement."""
    for start in range(0, count, batch):
        async with unit_of_work(runtime) as uow:
            now = uow.clock.now()
            await uow.session.execute(insert(Contact), [
                {"organization_id": org_id, "wa_id": f"{prefix}{i:07d}", "phone": f"{prefix}{i:07d}",
                 "name": f"Customer {i}", "first_seen_at": now, "source": "api", "attributes": {},
                 "created_at": now, "updated_at": now} for i in range(start, min(count, start + batch))])


async def _open(runtime: Runtime, broadcast_id: int) -> dict[str, int]:
    async with runtime.sessionmaker() as session:
        rows = await session.execute(select(BroadcastRecipient.state, BroadcastRecipient.reason, func.count())
                                     .where(BroadcastRecipient.broadcast_id == broadcast_id)
                                     .group_by(BroadcastRecipient.state, BroadcastRecipient.reason))
        return {f"{state}/{reason}" if reason else state: int(n) for state, reason, n in rows}


async def _judge(sandbox_url: str, phone_number_id: str) -> tuple[int, float, float]:
    """From the sandbox's database: (accepted template messages, first→last seconds, steady msgs/s)."""
    engine = make_nullpool_engine(sandbox_url)
    try:
        async with engine.connect() as conn:
            phone_pk = (await conn.execute(select(SandboxPhoneNumber.id).where(
                SandboxPhoneNumber.phone_number_id == phone_number_id))).scalar_one()
            stamps = sorted(row[0] for row in await conn.execute(select(SandboxMessage.created_at).where(
                SandboxMessage.phone_pk == phone_pk, SandboxMessage.direction == "out")))
    finally:
        await engine.dispose()
    if len(stamps) < 2:
        return len(stamps), 0.0, 0.0
    first, last = stamps[0], stamps[-1]
    steady = [t for t in stamps if (t - first).total_seconds() >= 1.0]
    span = (last - steady[0]).total_seconds() if len(steady) > 1 else 0.0
    return len(stamps), (last - first).total_seconds(), ((len(steady) - 1) / span if span else 0.0)


async def _broadcast(run: Run, product_url: str, graph: str, sandbox_url: str) -> Run:
    runtime = build_runtime(_settings(product_url, graph))
    try:
        org = await make_org(runtime, f"Bench {run.ceiling}")
        await subscribe(runtime, org.org.id, "enterprise")
        await fund(runtime, org.org.id, units=CREDIT_UNITS, key=f"bench-{run.ceiling}")  # every message is charged
        _, phone = await _connect(runtime, org.org.id, graph, run.ceiling)
        template_id = await _template(runtime, org.subject, graph)
        await add_contacts(runtime, org.org.id, run.recipients, prefix=f"91{run.ceiling % 100:02d}{len(run.database)}")
        async with httpx.AsyncClient(timeout=30) as http:
            await control(http, graph, "PUT", "/profile", {
                "throughput_mps": run.ceiling, "enforce_throughput": True, "enforce_pair_rate": True,
                "sent_after_seconds": 3600, "template_review_delay_seconds": 3600})
            await control(http, graph, "DELETE", "/counters")
        runner = EmbeddedRunner(runtime, concurrency=4)
        await runner.start()
        started = time.monotonic()
        try:
            async with unit_of_work(runtime) as uow:
                broadcast = await broadcast_service.create(uow, org.subject, BroadcastInput(
                    name=f"Bench {run.ceiling}", template_id=template_id, audience={"kind": "all"},
                    variables=VARIABLES, phone_number_id=phone.id))
                await broadcast_service.launch(uow, org.subject, broadcast.id)
                broadcast_id = broadcast.id
            while True:  # the broadcast's status, not its recipients' states: the observer must not load the database
                await asyncio.sleep(1.0)
                async with runtime.sessionmaker() as session:
                    if await session.scalar(select(Broadcast.status).where(Broadcast.id == broadcast_id)) != s.SENDING:
                        break
            states = await _open(runtime, broadcast_id)
        finally:
            run.wall = time.monotonic() - started
            await runner.stop()
        run.states = states
        async with httpx.AsyncClient(timeout=30) as http:
            counters = await control(http, graph, "GET", "/counters")
        run.refused_130429 = int(counters["refused"].get("130429", 0))
        run.fast_path = int(counters["fast_path"]["sends"])
        async with runtime.sessionmaker() as session:
            run.product_130429 = int(await session.scalar(select(func.count(Message.id)).where(
                Message.organization_id == org.org.id, Message.error_code == 130429)) or 0)
            status = await session.scalar(select(Broadcast.status).where(Broadcast.id == broadcast_id))
        run.states["broadcast"] = status  # type: ignore[assignment]
        run.accepted, run.seconds, run.steady_rate = await _judge(sandbox_url, phone.phone_number_id)
        return run
    finally:
        await runtime.close()


def _side(database: str, product_url: str, ceilings: list[tuple[int, int]]) -> list[Run]:
    migrate.upgrade(product_url)
    runs = []
    with tempfile.TemporaryDirectory(prefix="softdukan-bench-sandbox-") as tmp:
        sandbox_url = f"sqlite+aiosqlite:///{Path(tmp) / 'sandbox.db'}"
        with standalone(sandbox_url) as graph:
            for ceiling, recipients in ceilings:
                # on uvloop, as the product runs under `softdukan serve` (uvicorn) and `softdukan worker`
                runs.append(uvloop.run(_broadcast(Run(database, ceiling, recipients), product_url, graph,
                                                  sandbox_url)))
                print(runs[-1], flush=True)
    return runs


def run(*, recipients: int = 100_000, recipients_80: int = 100_000, postgres: bool = True,
        ceiling: int | None = None, save: Path | None = None, saved: Path | None = None) -> Result:
    """Both ceilings (or only `ceiling`) on SQLite, then PostgreSQL. `save` writes the runs as JSON; `saved` adds
    runs measured earlier (`--save`) for the ceilings not measured now: at 80 msg/s, 100,000 recipients take 21
    minutes per database, and that side is paced, not CPU-bound, so it can run while the machine does other work."""
    ceilings = [(c, n) for c, n in [(1000, recipients), (80, recipients_80)] if ceiling in (None, c)]
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="softdukan-bench-") as tmp:
        runs += _side("SQLite", f"sqlite+aiosqlite:///{Path(tmp) / 'product.db'}", ceilings)
    if postgres and pg_bin() is not None:
        with cluster() as url:
            time.sleep(0.5)
            runs += _side("PostgreSQL", url, ceilings)
    if save is not None:
        save.write_text(json.dumps({"measured_at": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
                                    "runs": [asdict(r) for r in runs]}, indent=1))
    result = Result(runs)
    if saved is not None:
        earlier = json.loads(saved.read_text())
        measured = {r.ceiling for r in runs}
        result.runs += [Run(**r) for r in earlier["runs"] if r["ceiling"] not in measured]
        result.note = (f"Rows at {', '.join(str(c) for c in sorted({r['ceiling'] for r in earlier['runs']}))} msg/s "
                       f"were measured in a separate run at {earlier['measured_at']} on the same machine.")
    result.runs.sort(key=lambda r: (r.database != "SQLite", -r.ceiling))
    return result


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--recipients", type=int, default=100_000, help="recipients at 1,000 msg/s")
    parser.add_argument("--recipients-80", type=int, default=100_000, help="recipients at 80 msg/s")
    parser.add_argument("--ceiling", type=int, choices=[1000, 80], help="measure only this ceiling")
    parser.add_argument("--save", type=Path, help="write the runs as JSON (for bench.run --broadcast-saved)")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        print(run(recipients=args.recipients, recipients_80=args.recipients_80, postgres=not args.no_postgres,
                  ceiling=args.ceiling, save=args.save).markdown())
