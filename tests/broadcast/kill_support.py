"""Support for the kill test: a standalone sandbox process (the judge, on its own SQLite file), the product server
as a subprocess in its own process group (killed with SIGKILL and started again), and the product-side setup done
through the product's own services against the standalone sandbox over real HTTP."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import httpx
from sqlalchemy import func, insert, select, update

from softdukan.broadcast.models import Broadcast, BroadcastRecipient
from softdukan.config import Settings
from softdukan.contact.models import Contact
from softdukan.kit.crypto import new_token, token_hash
from softdukan.kit.db import make_nullpool_engine
from softdukan.number.models import CONNECTED, SOURCE_NEW, STEP_DONE, PhoneNumber, WhatsAppAccount
from softdukan.number.service import THROUGHPUT_MPS
from softdukan.platform.runtime import Runtime
from softdukan.platform.uow import unit_of_work
from softdukan.sandbox.models import SandboxMessage, SandboxWebhookDelivery
from softdukan.template.models import APPROVED, MessageTemplate
from softdukan.template.service import template_service
from tests.support.factories import OrgFixture
from tests.support.services import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]
THROUGHPUT = "STANDARD"  # 80 messages/s: chunks of 50, so each kill leaves at most 50 attempts in flight


class Process:
    """One command, started again and again (each time its own process group, its output appended to a log)."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], logs: Path) -> None:
        self.name, self.argv, self.env = name, argv, env
        self.log_path = logs / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        self._log = self.log_path.open("ab")
        self._log.write(f"\n===== start {self.starts}\n".encode())
        self._log.flush()
        self.process = subprocess.Popen(self.argv, cwd=ROOT, env=self.env, stdout=self._log,
                                        stderr=subprocess.STDOUT, start_new_session=True)

    def kill(self) -> None:
        """SIGKILL to the whole group: nothing of it gets to finish anything."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self._close()

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=15)
        self.kill()
        self.process = None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def tail(self, chars: int = 6000) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return f"--- {self.name} log (last {chars} chars)\n{text[-chars:]}"

    def _close(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


def child_env(**values: str) -> dict[str, str]:
    """The test's environment without any setting of its own (DATABASE_URL of a PostgreSQL run, REDIS_URL…)."""
    env = {key: value for key, value in os.environ.items() if key.lower() not in Settings.model_fields}
    env.update(PYTHONPATH=str(ROOT), **values)
    return env


@contextlib.contextmanager
def standalone_sandbox(workdir: Path, secret: str) -> Iterator[tuple[str, str, Process]]:
    """`softdukan sandbox` on its own SQLite file (it migrates it); yields (Graph base URL, its database URL)."""
    port = free_port()
    url = f"sqlite+aiosqlite:///{workdir / 'sandbox.db'}"
    process = Process("sandbox", [sys.executable, "-m", "softdukan.cli", "sandbox", "--port", str(port)],
                      child_env(DATABASE_URL=url, SOFTDUKAN_SECRET_KEY=secret, LOG_LEVEL="WARNING",
                                JOB_POLL_INTERVAL="0.05"), workdir)
    process.start()
    try:
        wait_for_port(port, timeout=60)
        yield f"http://127.0.0.1:{port}/sandbox/graph", url, process
    finally:
        process.stop()


async def control(base: str, method: str, path: str, body: Any = None) -> Any:
    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.request(method, f"{base}/_sandbox{path}", json=body)
    assert response.status_code == 200, f"{method} {path}: {response.status_code} {response.text}"
    return response.json()


@dataclass
class Shop:
    org: OrgFixture
    account: WhatsAppAccount
    phone: PhoneNumber


async def connect_number(runtime: Runtime, org: OrgFixture, base: str) -> Shop:
    """What number/provision.py does, with the sandbox in its own process: provisioned through the control API
    (webhooks to the product's BASE_URL, signed with the platform app's secret), stored on the product's side."""
    settings, secrets = runtime.settings, runtime.secrets
    app_id, app_secret = settings.platform_app
    verify_token = new_token(24)
    made = await control(base, "POST", "/provision", {
        "app_id": app_id, "app_secret": app_secret, "callback_url": f"{settings.base_url}/webhooks/whatsapp",
        "verify_token": verify_token, "business_name": "Kirana Kill Test", "verified_name": "Kirana Kill Test"})
    await control(base, "POST", f"/phone-numbers/{made['phone_number_id']}/state",
                  {"messaging_limit_tier": "TIER_UNLIMITED", "throughput_level": THROUGHPUT})
    async with unit_of_work(runtime) as uow:
        now = uow.clock.now()
        account = WhatsAppAccount(
            organization_id=org.org.id, waba_id=made["waba_id"], business_id=made.get("business_id"),
            name="Kirana Kill Test", app_id=app_id, access_token_sealed=secrets.seal(made["access_token"]),
            app_secret_sealed=secrets.seal(app_secret), verify_token_sealed=secrets.seal(verify_token),
            verify_token_hash=token_hash(settings.softdukan_secret_key, verify_token), webhooks_subscribed_at=now,
            messaging_limit_tier="TIER_UNLIMITED", created_at=now)
        uow.session.add(account)
        await uow.flush()
        digits = "".join(ch for ch in str(made["display_phone_number"]) if ch.isdigit())
        phone = PhoneNumber(
            organization_id=org.org.id, account_id=account.id, phone_number_id=made["phone_number_id"],
            display_phone_number=f"+{digits}", wa_number=digits, verified_name="Kirana Kill Test",
            name_status="APPROVED", status=CONNECTED, onboarding_step=STEP_DONE, source=SOURCE_NEW,
            code_verification_status="VERIFIED", quality_rating="GREEN", registered_at=now, is_default=True,
            messaging_limit_tier="TIER_UNLIMITED", throughput_level=THROUGHPUT,
            throughput_mps=THROUGHPUT_MPS[THROUGHPUT], created_at=now)
        uow.session.add(phone)
        await uow.flush()
    return Shop(org, account, phone)


async def approved_template(runtime: Runtime, shop: Shop, base: str, definition: dict[str, Any]) -> int:
    """Submitted by the product's template service to the sandbox over HTTP, approved there by its control API;
    the product records the approval as its webhook would (the server that receives it is not running yet)."""
    async with unit_of_work(runtime) as uow:
        template = await template_service.create(uow, shop.org.subject, definition)
        template_id, meta_id = template.id, template.meta_template_id
    assert meta_id, "the sandbox gave the template no id"
    await control(base, "POST", f"/templates/{meta_id}/status", {"status": APPROVED})
    async with unit_of_work(runtime) as uow:
        await uow.session.execute(update(MessageTemplate).where(MessageTemplate.id == template_id)
                                  .values(status=APPROVED, updated_at=uow.clock.now()))
    return int(template_id)


def number(i: int) -> str:
    return f"9197{i:08d}"


async def add_contacts(runtime: Runtime, org_id: int, start: int, count: int, *, opted_out: datetime | None = None,
                       blocked: datetime | None = None) -> list[str]:
    """`count` contacts in one bulk insert; their wa_ids."""
    async with unit_of_work(runtime) as uow:
        now = uow.clock.now()
        rows = [{"organization_id": org_id, "wa_id": number(i), "phone": number(i), "name": f"Customer {i}",
                 "first_seen_at": now, "source": "api", "attributes": {}, "opted_out_at": opted_out,
                 "blocked_at": blocked, "created_at": now, "updated_at": now} for i in range(start, start + count)]
        await uow.session.execute(insert(Contact), rows)
    return [row["wa_id"] for row in rows]


async def recipient_states(runtime: Runtime, broadcast_id: int) -> dict[str, int]:
    async with runtime.sessionmaker() as session:
        rows = await session.execute(select(BroadcastRecipient.state, BroadcastRecipient.reason, func.count())
                                     .where(BroadcastRecipient.broadcast_id == broadcast_id)
                                     .group_by(BroadcastRecipient.state, BroadcastRecipient.reason))
    return {f"{state}/{reason}" if reason else state: int(n) for state, reason, n in rows}


async def broadcast_row(runtime: Runtime, broadcast_id: int) -> Broadcast:
    async with runtime.sessionmaker() as session:
        found = await session.get(Broadcast, broadcast_id)
    assert found is not None
    return found


async def sandbox_received(database_url: str) -> dict[str, int]:
    """The judge: wa_id → template messages the sandbox accepted, from its own database."""
    engine = make_nullpool_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(select(SandboxMessage.wa_id, func.count())
                                      .where(SandboxMessage.direction == "out", SandboxMessage.type == "template")
                                      .group_by(SandboxMessage.wa_id))
            return {wa_id: int(n) for wa_id, n in rows}
    finally:
        await engine.dispose()


async def duplicate_stories(database_url: str, wa_ids: list[str]) -> str:
    """For each wa_id: every copy the sandbox accepted (our callback data, when) and when the status webhooks that
    carried that callback data were created and delivered (a copy whose first status came after the confirm time
    was resent by design; one whose status came in time points at the engine)."""
    engine = make_nullpool_engine(database_url)
    lines = []
    try:
        async with engine.connect() as conn:
            for wa_id in wa_ids:
                copies = (await conn.execute(select(SandboxMessage.biz_opaque_callback_data, SandboxMessage.created_at)
                                             .where(SandboxMessage.wa_id == wa_id, SandboxMessage.direction == "out")
                                             .order_by(SandboxMessage.id))).all()
                for callback, accepted in copies:
                    hooks = (await conn.execute(
                        select(SandboxWebhookDelivery.created_at, SandboxWebhookDelivery.delivered_at,
                               SandboxWebhookDelivery.attempts, SandboxWebhookDelivery.status)
                        .where(SandboxWebhookDelivery.body.contains(f'"{callback}"')))).all()
                    told = "; ".join(f"webhook created {c:%H:%M:%S.%f} {s} {d:%H:%M:%S.%f} after {n} tries" if d
                                     else f"webhook created {c:%H:%M:%S.%f} {s} after {n} tries"
                                     for c, d, n, s in hooks) or "no webhook yet"
                    lines.append(f"{wa_id} {callback} accepted {accepted:%H:%M:%S.%f}: {told}")
    finally:
        await engine.dispose()
    return "\n".join(lines)
