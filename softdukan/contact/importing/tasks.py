"""The import job: one chunk of rows per run, then it enqueues the next chunk.

Each run reads the import and a slice of its file (never the whole file), releases the transaction, parses its
chunk of rows in the helper process (offload.py; no lock held, the server's event loop free), then in a new
transaction claims the chunk with a compare-and-set on `rows_done` and writes the contacts, tags, consent
events, row errors and the new progress together: a run killed anywhere redoes at most its own chunk, and a
second run of the same chunk writes nothing. Duplicates (in the file and with existing contacts) merge on the
number: names and attributes from the file win, tags add up, an opt-out is never overridden.
"""

from __future__ import annotations

import csv
from typing import Any

import structlog
from sqlalchemy import func, select

from softdukan.contact.events import ContactImportProgressed
from softdukan.contact.importing import offload, parse
from softdukan.contact.importing.chunk import Chunk, ChunkPlan, read_chunk
from softdukan.contact.importing.models import CSV, DONE, FAILED, QUEUED, RUNNING, XLSX, ContactImport
from softdukan.contact.importing.repository import ImportRepository, batches
from softdukan.contact.importing.rows import AttributeSpec
from softdukan.contact.importing.service import IMPORT_TASK
from softdukan.contact.models import OPTED_IN, SOURCE_IMPORT, Contact
from softdukan.contact.repository import (
    AttributeRepository,
    ContactRepository,
    EventRepository,
    TagRepository,
    tag_key,
)
from softdukan.platform.jobs.registry import task
from softdukan.platform.uow import UnitOfWork

log = structlog.get_logger(__name__)

CHUNK_ROWS = 1000
WINDOW_BYTES = 256 * 1024  # the slice of the file a chunk reads (grown for a row longer than that)


async def _parse(uow: UnitOfWork, item: ContactImport) -> Chunk:
    """The next chunk, from a slice of the file (a row longer than the slice makes it grow), parsed in the helper
    process with no transaction open (on SQLite any transaction holds the write lock)."""
    imports, size = ImportRepository(uow.session), WINDOW_BYTES
    definitions = await AttributeRepository(uow.session).of_organization(item.organization_id)
    plan = ChunkPlan(organization_id=item.organization_id, import_id=item.id, delimiter=item.delimiter,
                     region=item.region, mapping=dict(item.mapping), first_row_number=item.rows_done + 2,
                     definitions={d.key: AttributeSpec.of(d) for d in definitions})
    while True:
        window = await imports.data_slice(item.id, item.text_offset, size)
        await uow.release()
        at_end = len(window) < size
        chunk = await offload.run(read_chunk, window, at_end, plan, CHUNK_ROWS)
        if chunk.rows_read or at_end:
            return chunk
        size *= 4


async def _fail(uow: UnitOfWork, item: ContactImport, message: str) -> None:
    repo = ImportRepository(uow.session)
    if await repo.advance(item.id, expected_rows_done=item.rows_done, expected_format=item.format, status=FAILED,
                          error=message[:500], finished_at=uow.clock.now(), data=b""):
        _progress(uow, item.organization_id, item.id, FAILED, item.rows_done, item.total_rows, item.error_count)


def _progress(uow: UnitOfWork, organization_id: int, import_id: int, status: str, rows_done: int,
              total: int | None, errors: int) -> None:
    uow.emit(ContactImportProgressed(organization_id=organization_id, import_id=import_id, status=status,
                                     rows_done=rows_done, total_rows=total, error_count=errors))


async def _convert_xlsx(uow: UnitOfWork, item: ContactImport, data: bytes) -> None:
    """Turns the sheet into CSV text once; the following runs import it like any CSV."""
    try:
        stored, head = await offload.run(parse.convert_xlsx, data)
    except parse.FileRefused as exc:
        await _fail(uow, item, str(exc))
        return
    if await ImportRepository(uow.session).advance(
            item.id, expected_rows_done=0, expected_format=XLSX, format=CSV, data=stored,
            delimiter=",", text_offset=head.body_offset, total_rows=head.total_rows, status=RUNNING,
            started_at=item.started_at or uow.clock.now()):
        uow.enqueue(IMPORT_TASK, import_id=item.id, organization_id=item.organization_id,
                    unique_key=f"contact-import:{item.id}:converted")
        _progress(uow, item.organization_id, item.id, RUNNING, 0, head.total_rows, 0)


async def _write(uow: UnitOfWork, item: ContactImport, chunk: Chunk) -> tuple[int, int]:
    """The chunk's contacts, tags and consent events; (contacts created, rows merged into a contact that existed
    or that an earlier row of the file created).

    New numbers are inserted first (a number that exists is skipped by its unique key), then only the numbers
    that were not new are loaded and merged: in a large import they are few, and a lookup of a thousand numbers
    at once can be planned badly by PostgreSQL while the table grows faster than its statistics."""
    now, org_id = uow.clock.now(), item.organization_id
    imports = ImportRepository(uow.session)
    created = await imports.insert_contacts([
        {"organization_id": org_id, "wa_id": wa_id, "phone": wa_id[:20], "name": row.name,
         "attributes": row.attributes, "source": SOURCE_IMPORT, "first_seen_at": now, "created_at": now,
         "updated_at": now, "opt_in_source": SOURCE_IMPORT if item.opt_in else None,
         "opted_in_at": now if item.opt_in else None} for wa_id, row in chunk.rows.items()])
    opted_in: list[int] = list(created.values()) if item.opt_in else []
    known = [wa_id for wa_id in chunk.rows if wa_id not in created]
    existing = await ContactRepository(uow.session).by_numbers(org_id, known) if known else {}
    for wa_id, contact in existing.items():
        row = chunk.rows[wa_id]
        if row.name:
            contact.name = row.name
        if row.attributes:
            contact.attributes = {**(contact.attributes or {}), **row.attributes}
        if item.opt_in and contact.opted_in_at is None and contact.opted_out_at is None:
            contact.opted_in_at, contact.opt_in_source = now, SOURCE_IMPORT
            opted_in.append(contact.id)
        contact.updated_at = now
    ids = {**created, **{w: c.id for w, c in existing.items()}}
    tags = TagRepository(uow.session)
    by_key = await tags.ensure_many(org_id, [t for r in chunk.rows.values() for t in r.tags], now)
    for pairs in batches([(ids[w], by_key[tag_key(t)].id) for w, r in chunk.rows.items() if w in ids
                          for t in r.tags if tag_key(t) in by_key]):
        await tags.attach(org_id, pairs, now)
    await EventRepository(uow.session).insert_many([
        {"organization_id": org_id, "contact_id": cid, "kind": OPTED_IN, "source": SOURCE_IMPORT,
         "actor_label": item.created_by_label, "occurred_at": now, "created_at": now} for cid in opted_in])
    return len(created), chunk.valid_rows - len(created)


async def _within_plan(uow: UnitOfWork, item: ContactImport, chunk: Chunk) -> None:
    """New numbers past the plan's contact limit are not imported: each becomes an error row saying so (the
    limit can be reached in the middle of a file; numbers that exist already are still merged)."""
    from softdukan.subscription import entitlements

    async def count() -> int:
        return int(await uow.session.scalar(select(func.count()).select_from(Contact).where(
            Contact.organization_id == item.organization_id)) or 0)

    usage = await entitlements.usage(uow, item.organization_id, "contacts", count)  # locked until the chunk commits
    ent, allowed, room = usage.entitlements, usage.allowed, usage.room
    if room is None or room >= len(chunk.rows):
        return
    known = await ContactRepository(uow.session).by_numbers(item.organization_id, list(chunk.rows))
    new = [wa_id for wa_id in chunk.rows if wa_id not in known]
    why = (f"Not imported: the {ent.plan_name} plan allows {allowed:,} contacts. Upgrade or add more in Settings → "
           "Plan, then import the file again." if ent.entitled else f"Not imported: {ent.reason or 'no plan'}")
    for wa_id in new[room:]:
        row = chunk.rows.pop(wa_id)
        chunk.valid_rows -= 1
        chunk.errors.append({"organization_id": item.organization_id, "import_id": item.id,
                             "row_number": row.row_number, "message": why[:500],
                             "values": [f"+{wa_id}", (row.name or "")[:200]]})


@task(IMPORT_TASK, max_attempts=8)
async def import_chunk(uow: UnitOfWork, import_id: int) -> None:
    imports = ImportRepository(uow.session)
    item = await imports.by_id(import_id)
    if item is None or item.status not in (QUEUED, RUNNING):
        return
    if item.format == XLSX:
        data = await imports.data_of(import_id)
        await uow.release()  # no lock held while the sheet is converted
        await _convert_xlsx(uow, item, data)
        return
    try:
        chunk = await _parse(uow, item)
    except (UnicodeDecodeError, csv.Error) as exc:
        await _fail(uow, item, f"The file could not be read: {exc}")
        return
    await _within_plan(uow, item, chunk)
    rows_done = item.rows_done + chunk.rows_read
    errors = item.error_count + len(chunk.errors)
    status = DONE if chunk.finished else RUNNING
    values: dict[str, Any] = {"rows_done": rows_done, "text_offset": item.text_offset + chunk.bytes_read,
                              "status": status, "error_count": errors, "started_at": item.started_at or uow.clock.now()}
    if chunk.finished:
        values |= {"finished_at": uow.clock.now(), "data": b"", "total_rows": rows_done}
    if not await imports.advance(item.id, expected_rows_done=item.rows_done, expected_format=CSV, **values):
        log.info("contact_import_chunk_taken", import_id=import_id, rows_done=item.rows_done)
        return  # another run imported this chunk: write nothing
    created, updated = await _write(uow, item, chunk)
    await imports.advance(item.id, expected_rows_done=rows_done, expected_format=CSV,
                          created_count=item.created_count + created, updated_count=item.updated_count + updated)
    await imports.add_errors(chunk.errors)
    if not chunk.finished:
        uow.enqueue(IMPORT_TASK, import_id=item.id, organization_id=item.organization_id,
                    unique_key=f"contact-import:{item.id}:{rows_done}")
    _progress(uow, item.organization_id, item.id, status, rows_done, values.get("total_rows", item.total_rows),
              errors)
