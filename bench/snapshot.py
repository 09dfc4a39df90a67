"""Audience snapshot: recipients written per second when a broadcast to every contact of an organization freezes
its audience (the dispatcher's `_snapshot`: `audience.snapshot_batch` INSERT … SELECT batches, one transaction
each, then the counts), against the raw bulk insert path of the same driver in the same run: the same rows
(contact id, wa_id, state, timestamps) inserted into broadcast_recipients with the driver's `executemany`, one
plain INSERT per row, batches of SNAPSHOT_BATCH rows per transaction, from contacts already read into memory.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

import softdukan.models  # every table
from bench.broadcast import VARIABLES, _connect, _settings, _template, add_contacts
from bench.broadcast_sandbox import standalone
from bench.postgres import cluster, pg_bin
from softdukan.broadcast import dispatch
from softdukan.broadcast.audience import SNAPSHOT_BATCH
from softdukan.broadcast.models import BroadcastRecipient
from softdukan.broadcast.service import BroadcastInput, broadcast_service
from softdukan.contact.models import Contact
from softdukan.kit import migrate
from softdukan.platform.runtime import Runtime, build_runtime
from softdukan.platform.uow import unit_of_work
from softdukan.template.models import MessageTemplate
from tests.support.factories import make_org

TITLE = "Audience snapshot: recipients written per second"
COLUMNS = ("organization_id", "broadcast_id", "contact_id", "wa_id", "state", "reason", "attempts", "deferrals",
           "next_attempt_at", "created_at", "updated_at")


@dataclass
class Side:
    database: str
    contacts: int
    snapshot_rows: int = 0
    snapshot_seconds: float = 0.0
    raw_rows: int = 0
    raw_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return (self.snapshot_rows / self.snapshot_seconds) / (self.raw_rows / self.raw_seconds)


@dataclass
class Result:
    sides: list[Side]

    def markdown(self) -> str:
        rows = []
        for s in self.sides:
            rows += [f"| {s.database} | raw driver `executemany` INSERT, {SNAPSHOT_BATCH:,} rows/transaction | "
                     f"{s.raw_rows:,} | {s.raw_seconds:.1f} | {s.raw_rows / s.raw_seconds:,.0f} |",
                     f"| {s.database} | product snapshot (`dispatch._snapshot`) | {s.snapshot_rows:,} | "
                     f"{s.snapshot_seconds:.1f} | {s.snapshot_rows / s.snapshot_seconds:,.0f} |",
                     f"| {s.database} | **ratio snapshot / raw** | | | **{s.ratio:.2f}** |"]
        return "\n".join([
            f"## {TITLE}",
            "",
            f"{self.sides[0].contacts:,} contacts in one organization (bulk-inserted), audience `all`, a MARKETING "
            "template with a contact-field variable (so the missing-variable and opt-out checks run).",
            "",
            "| database | path | rows | seconds | rows/s |",
            "|---|---|---:|---:|---:|",
            *rows,
            "",
        ])


async def _raw(runtime: Runtime, org_id: int, broadcast_id: int, contacts: list[tuple[int, str]]) -> float:
    """The same rows through the pooled driver connection: executemany of a plain INSERT, committed per batch."""
    engine = runtime.engine
    now = runtime.clock.now()
    postgres = engine.dialect.name == "postgresql"
    if postgres:
        sql = (f"INSERT INTO broadcast_recipients ({', '.join(COLUMNS)}) VALUES "
               f"({', '.join(f'${i + 1}' for i in range(len(COLUMNS)))})")
        stamp: Any = now
    else:
        sql = f"INSERT INTO broadcast_recipients ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
        processor = BroadcastRecipient.__table__.c.created_at.type.dialect_impl(engine.dialect).bind_processor(
            engine.dialect)
        stamp = processor(now) if processor else now
    started = time.perf_counter()
    async with engine.connect() as connection:
        driver = (await connection.get_raw_connection()).driver_connection
        for start in range(0, len(contacts), SNAPSHOT_BATCH):
            rows = [(org_id, broadcast_id, cid, wa_id, "pending", None, 0, 0, stamp, stamp, stamp)
                    for cid, wa_id in contacts[start:start + SNAPSHOT_BATCH]]
            if postgres:
                async with driver.transaction():
                    await driver.executemany(sql, rows)
            else:
                await driver.execute("BEGIN IMMEDIATE")
                await driver.executemany(sql, rows)
                await driver.execute("COMMIT")
    return time.perf_counter() - started


async def _measure(database: str, url: str, contacts: int, graph: str) -> Side:
    side = Side(database, contacts)
    runtime = build_runtime(_settings(url, graph))
    try:
        org = await make_org(runtime, "Snapshot Bench")
        await add_contacts(runtime, org.org.id, contacts, prefix="9198", batch=10_000)
        _, phone = await _connect(runtime, org.org.id, graph, 1000)
        template_id = await _template(runtime, org.subject, graph)
        async with unit_of_work(runtime) as uow:
            made = []
            for name in ("raw", "snapshot"):
                broadcast = await broadcast_service.create(uow, org.subject, BroadcastInput(
                    name=name, template_id=template_id, audience={"kind": "all"}, variables=VARIABLES,
                    phone_number_id=phone.id))
                made.append(broadcast.id)
        raw_id, snapshot_id = made
        async with runtime.sessionmaker() as session:
            rows = (await session.execute(select(Contact.id, Contact.wa_id).where(
                Contact.organization_id == org.org.id).order_by(Contact.id))).all()
        side.raw_seconds = await _raw(runtime, org.org.id, raw_id, [(r[0], r[1]) for r in rows])
        async with unit_of_work(runtime) as uow:
            broadcast = await broadcast_service.get(uow, org.subject, snapshot_id)
            template_row = await uow.session.get(MessageTemplate, broadcast.template_id)
            assert template_row is not None
            started = time.perf_counter()
            await dispatch._snapshot(uow, broadcast, template_row)  # the dispatcher's own path
            side.snapshot_seconds = time.perf_counter() - started
        async with runtime.sessionmaker() as session:
            for broadcast_id, attr in ((raw_id, "raw_rows"), (snapshot_id, "snapshot_rows")):
                setattr(side, attr, int(await session.scalar(select(func.count(BroadcastRecipient.id)).where(
                    BroadcastRecipient.broadcast_id == broadcast_id)) or 0))
        return side
    finally:
        await runtime.close()


def run(*, contacts: int = 1_000_000, postgres: bool = True) -> Result:
    sides = []
    with tempfile.TemporaryDirectory(prefix="softdukan-bench-") as tmp, \
            standalone(f"sqlite+aiosqlite:///{Path(tmp) / 'sandbox.db'}") as graph:  # templates are submitted there
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'snapshot.db'}"
        migrate.upgrade(url)
        sides.append(asyncio.run(_measure("SQLite", url, contacts, graph)))
        if postgres and pg_bin() is not None:
            with cluster() as pg_url:
                time.sleep(0.5)
                migrate.upgrade(pg_url)
                sides.append(asyncio.run(_measure("PostgreSQL", pg_url, contacts, graph)))
    return Result(sides)


__all__ = ["run", "softdukan"]  # softdukan.models: every table

if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    print(run(contacts=args.contacts, postgres=not args.no_postgres).markdown())
