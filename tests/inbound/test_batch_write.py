"""The webhook acknowledgement writes through the driver (inbound/batch_write.py), not the ORM. It must write
exactly what the ORM path writes (`store_many`: InboundEventRepository.insert_new + UnitOfWork.enqueue_many),
byte for byte where the database keeps text, and be all-or-nothing."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from sqlalchemy import text

from softdukan.inbound.batch_write import write_events_and_jobs
from softdukan.inbound.ingest import ROUTE_TASK, _group, store_many
from softdukan.platform.jobs.registry import get_task
from softdukan.platform.uow import unit_of_work
from tests.support.whatsapp import make_whatsapp

PAYLOAD = {"waba_id": "1", "metadata": {"phone_number_id": "2"},
           "statuses": [{"id": "wamid.X", "status": "delivered", "timestamp": "1764000000",
                         "pricing": {"billable": True, "pricing_model": "PMP"}, "rate": 1.5, "note": "नमस्ते \"ok\""}]}


def _row(wa: Any, key: str, now: Any, **overrides: Any) -> dict[str, Any]:
    row = {"organization_id": wa.org.org.id, "account_id": wa.account.id, "dedupe_key": key, "kind": "status",
           "field": "messages", "phone_number_id": wa.phone_number_id, "wamid": "wamid.X", "payload": PAYLOAD,
           "received_at": now, "state": "pending", "attempts": 0, "created_at": now}
    return row | overrides


async def _table(runtime: Any, sql: str) -> list[dict[str, Any]]:
    async with runtime.engine.connect() as connection:  # raw values: SQLite's stored text as it is
        return [dict(r) for r in (await connection.execute(text(sql))).mappings().all()]


async def _write(runtime: Any, rows: list[dict[str, Any]]) -> list[tuple[int, int, int, str]]:
    return await write_events_and_jobs(runtime, rows, task=ROUTE_TASK, max_attempts=get_task(ROUTE_TASK).max_attempts,
                                       now=runtime.clock.now())


async def test_the_driver_path_writes_what_the_orm_path_writes(runtime, clock) -> None:  # type: ignore[no-untyped-def]
    wa = await make_whatsapp(runtime)
    now = runtime.clock.now()
    async with unit_of_work(runtime) as uow:
        await store_many(uow, [[_row(wa, "st:orm", now, phone_number_id=None)]])
    new = await _write(runtime, [_row(wa, "st:raw", now, phone_number_id=None)])

    events = await _table(runtime, "SELECT * FROM inbound_events ORDER BY id")
    assert [e["dedupe_key"] for e in events] == ["st:orm", "st:raw"]
    assert new == [(events[1]["id"], wa.org.org.id, wa.account.id, "st:raw")]
    orm_event, raw_event = ({k: v for k, v in e.items() if k not in ("id", "dedupe_key")} for e in events)
    assert raw_event == orm_event

    jobs = await _table(runtime, f"SELECT * FROM jobs WHERE name = '{ROUTE_TASK}' ORDER BY id")
    args = [orjson.loads(j["args"]) if isinstance(j["args"], str) else j["args"] for j in jobs]
    assert args == [{"event_id": e["id"]} for e in events]
    orm_job, raw_job = ({k: v for k, v in j.items() if k not in ("id", "args")} for j in jobs)
    assert raw_job == orm_job


async def test_only_new_rows_are_stored_and_routed(runtime, clock) -> None:  # type: ignore[no-untyped-def]
    wa = await make_whatsapp(runtime)
    now = runtime.clock.now()
    first = await _write(runtime, [_row(wa, "st:a", now), _row(wa, "st:b", now)])
    second = await _write(runtime, [_row(wa, "st:b", now), _row(wa, "st:c", now)])

    assert [key for *_, key in first] == ["st:a", "st:b"] and [key for *_, key in second] == ["st:c"]
    jobs = await _table(runtime, f"SELECT args FROM jobs WHERE name = '{ROUTE_TASK}'")
    routed = sorted(orjson.loads(j["args"])["event_id"] if isinstance(j["args"], str) else j["args"]["event_id"]
                    for j in jobs)
    assert routed == sorted(event_id for event_id, *_ in first + second)


async def test_a_failing_batch_writes_nothing_and_the_next_one_works(runtime, clock) -> None:  # type: ignore[no-untyped-def]
    wa = await make_whatsapp(runtime)
    now = runtime.clock.now()
    with pytest.raises(Exception, match=r"(?i)foreign key"):  # the second row's organization does not exist
        await _write(runtime, [_row(wa, "st:kept-out", now), _row(wa, "st:orphan", now, organization_id=987654)])
    assert await _table(runtime, "SELECT id FROM inbound_events") == []
    assert await _table(runtime, f"SELECT id FROM jobs WHERE name = '{ROUTE_TASK}'") == []

    assert len(await _write(runtime, [_row(wa, "st:after", now)])) == 1


async def test_the_group_commit_counts_each_requests_new_rows(runtime, clock) -> None:  # type: ignore[no-untyped-def]
    """Requests batched together: a key two of them carry is new for the first one only."""
    wa = await make_whatsapp(runtime)
    now = runtime.clock.now()
    results = await _group(runtime).write([[_row(wa, "st:1", now), _row(wa, "st:2", now)], [_row(wa, "st:2", now)],
                                           [_row(wa, "st:1", now), _row(wa, "st:3", now)]])
    assert [(r.stored, r.duplicates) for r in results] == [(2, 0), (0, 1), (1, 1)]
