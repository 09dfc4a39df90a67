"""The webhook acknowledgement's write: a batch of raw events and one routing job per new event, atomically, in as
few driver calls as each database allows.

Through the ORM session this transaction cost about 2 ms of CPU whatever the batch size (SQLAlchemy's
per-statement machinery, greenlet switches, a dozen driver calls) — most of an acknowledgement's cost under load
(bench/REPORT.md). Here the batch goes straight to the pooled driver connection:

- PostgreSQL: one statement, its own transaction. A data-modifying CTE inserts the events from arrays
  (`ON CONFLICT DO NOTHING`), inserts a routing job for each row it inserted, and returns the new rows. One
  round trip, and no BEGIN/COMMIT round trips.
- SQLite: `BEGIN IMMEDIATE`, one `INSERT … SELECT … FROM json_each(?) … RETURNING` for the events, one for the
  jobs, `COMMIT`: four calls to aiosqlite's thread instead of a dozen.

The columns written are exactly those `InboundEventRepository.insert_new` and `UnitOfWork.enqueue_many` write;
tests/inbound/test_batch_write.py compares the rows of both paths, so a new NOT NULL column on either table
fails there first.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncEngine

from softdukan.inbound.models import InboundEvent
from softdukan.platform.jobs.models import QUEUED
from softdukan.platform.runtime import Runtime

# (event id, organization id, account id, dedupe key) of each row that was new
NewRow = tuple[int, int, int, str]

_EVENT_COLUMNS = ("organization_id, account_id, dedupe_key, kind, field, phone_number_id, wamid, payload, "
                  "received_at, state, attempts, created_at")
_JOB_COLUMNS = "name, args, status, attempts, run_at, max_attempts, unique_key, organization_id, created_at"

_POSTGRES = f"""
WITH new AS (
    INSERT INTO inbound_events ({_EVENT_COLUMNS})
    SELECT o, a, k, kind, f, p, w, payload, r, s, 0, r
    FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                $8::json[], $9::timestamptz[], $10::text[]) AS t(o, a, k, kind, f, p, w, payload, r, s)
    ON CONFLICT (account_id, dedupe_key) DO NOTHING
    RETURNING id, organization_id, account_id, dedupe_key
), queued AS (
    INSERT INTO jobs ({_JOB_COLUMNS})
    SELECT $11, json_build_object('event_id', id), '{QUEUED}', 0, $12, $13, NULL, organization_id, $12 FROM new
)
SELECT id, organization_id, account_id, dedupe_key FROM new
"""

# json_each over one JSON array of row arrays; `WHERE true` keeps SQLite from reading ON CONFLICT as a join clause
_SQLITE_EVENTS = f"""
INSERT INTO inbound_events ({_EVENT_COLUMNS})
SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7, value->>8,
       value->>9, 0, value->>8
FROM json_each(?) WHERE true
ON CONFLICT (account_id, dedupe_key) DO NOTHING
RETURNING id, organization_id, account_id, dedupe_key
"""
_SQLITE_JOBS = f"""
INSERT INTO jobs ({_JOB_COLUMNS})
SELECT ?, json_object('event_id', value->>0), '{QUEUED}', 0, ?, ?, NULL, value->>1, ? FROM json_each(?)
"""


def _payload(value: dict[str, Any]) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()  # as kit.db's JSON codec writes it


def _sqlite_time(engine: AsyncEngine) -> Callable[[datetime], str]:
    processor = InboundEvent.__table__.c.received_at.type.dialect_impl(engine.dialect).bind_processor(engine.dialect)
    assert processor is not None
    return processor  # the exact text SQLAlchemy stores, so ORDER BY and comparisons keep working


async def write_events_and_jobs(runtime: Runtime, rows: list[dict[str, Any]], *, task: str, max_attempts: int,
                                now: datetime) -> list[NewRow]:
    """Inserts the rows that are new and a `task` job (`{"event_id": id}`) for each, in one transaction. Rows must
    be unique by (account_id, dedupe_key) and carry InboundEvent's columns as `event_rows` builds them."""
    if not rows:
        return []
    engine = runtime.hot_engine()
    async with engine.connect() as connection:
        driver = (await connection.get_raw_connection()).driver_connection
        try:
            if engine.dialect.name == "postgresql":
                return await _postgres(driver, rows, task, max_attempts, now)
            return await _sqlite(driver, _sqlite_time(engine), rows, task, max_attempts, now)
        except BaseException:
            await connection.invalidate()  # unknown state (or a dead server): never back into the pool
            raise


async def _postgres(driver: Any, rows: list[dict[str, Any]], task: str, max_attempts: int,
                    now: datetime) -> list[NewRow]:
    columns: list[list[Any]] = [[] for _ in range(10)]
    for row in rows:
        for column, value in zip(columns, (
                row["organization_id"], row["account_id"], row["dedupe_key"], row["kind"], row["field"],
                row["phone_number_id"], row["wamid"], _payload(row["payload"]), row["received_at"], row["state"]),
                strict=True):
            column.append(value)
    records = await driver.fetch(_POSTGRES, *columns, task, now.astimezone(UTC), max_attempts)
    return [(r[0], r[1], r[2], r[3]) for r in records]


async def _sqlite(driver: Any, stamp: Callable[[datetime], str], rows: list[dict[str, Any]], task: str,
                  max_attempts: int, now: datetime) -> list[NewRow]:
    events = orjson.dumps([[row["organization_id"], row["account_id"], row["dedupe_key"], row["kind"], row["field"],
                            row["phone_number_id"], row["wamid"], _payload(row["payload"]),
                            stamp(row["received_at"]), row["state"]] for row in rows]).decode()
    await driver.execute("BEGIN IMMEDIATE")
    try:
        new = [(r[0], r[1], r[2], r[3]) for r in await driver.execute_fetchall(_SQLITE_EVENTS, (events,))]
        if new:
            jobs = orjson.dumps([[event_id, organization_id] for event_id, organization_id, _, _ in new]).decode()
            await driver.execute(_SQLITE_JOBS, (task, stamp(now), max_attempts, stamp(now), jobs))
        await driver.execute("COMMIT")
    except BaseException:
        await driver.execute("ROLLBACK")
        raise
    return new
