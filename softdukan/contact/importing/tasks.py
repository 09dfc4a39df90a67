"""The import job: one chunk of rows per run, then it enqueues the next chunk.

Each run reads the import and its file, releases the transaction, parses its chunk of rows (no lock held), then in
a new transaction claims the chunk with a compare-and-set on `rows_done` and writes the contacts, tags, consent
events, row errors and the new progress together: a run killed anywhere redoes at most its own chunk, and a
second run of the same chunk writes nothing. Duplicates (in the file and with existing contacts) merge on the
number: names and attributes from the file win, tags add up, an opt-out is never overridden.
"""

from __future__ import annotations

import asyncio
import csv
from dataclasses import dataclass, field
from typing import Any

import structlog

from softdukan.contact.events import ContactImportProgressed
from softdukan.contact.importing import parse
from softdukan.contact.importing.models import CSV, DONE, FAILED, QUEUED, RUNNING, XLSX, ContactImport
from softdukan.contact.importing.repository import ImportRepository
from softdukan.contact.importing.rows import ATTR, ParsedRow, RowError, parse_row
from softdukan.contact.importing.service import IMPORT_TASK
from softdukan.contact.models import OPTED_IN, SOURCE_IMPORT, ContactAttribute
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


@dataclass
class Chunk:
    rows: dict[str, ParsedRow] = field(default_factory=dict)  # wa_id → merged row
    errors: list[dict[str, Any]] = field(default_factory=list)
    rows_read: int = 0
    next_offset: int = 0
    finished: bool = False


def _merge(into: ParsedRow, row: ParsedRow) -> None:
    into.name = row.name or into.name
    into.attributes.update(row.attributes)
    into.tags += [t for t in row.tags if t not in into.tags]


def read_chunk(text: str, item: ContactImport, definitions: dict[str, ContactAttribute], limit: int) -> Chunk:
    mapping = {c: t for c, t in item.mapping.items() if not t.startswith(ATTR) or t[len(ATTR):] in definitions}
    chunk = Chunk(next_offset=item.text_offset)
    rows = parse.iter_rows(text, item.delimiter, item.text_offset, item.rows_done + 2)
    for number, cells, offset in rows:
        chunk.rows_read += 1
        chunk.next_offset = offset
        if any(c.strip() for c in cells):
            try:
                row = parse_row(cells, mapping, definitions, item.region)
            except RowError as exc:
                chunk.errors.append({"organization_id": item.organization_id, "import_id": item.id,
                                     "row_number": number, "message": str(exc)[:500],
                                     "values": [c[:200] for c in cells[:parse.MAX_COLUMNS]]})
            else:
                if row.wa_id in chunk.rows:
                    _merge(chunk.rows[row.wa_id], row)
                else:
                    chunk.rows[row.wa_id] = row
        if chunk.rows_read >= limit:
            break
    else:
        chunk.finished = True
    if not chunk.finished and chunk.next_offset >= len(text):
        chunk.finished = True
    return chunk


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
        text = await asyncio.to_thread(parse.xlsx_to_csv, data)
        head = await asyncio.to_thread(parse.csv_head, text)
    except parse.FileRefused as exc:
        await _fail(uow, item, str(exc))
        return
    if await ImportRepository(uow.session).advance(
            item.id, expected_rows_done=0, expected_format=XLSX, format=CSV, data=text.encode("utf-8"),
            delimiter=",", text_offset=head.body_offset, total_rows=head.total_rows, status=RUNNING,
            started_at=item.started_at or uow.clock.now()):
        uow.enqueue(IMPORT_TASK, import_id=item.id, organization_id=item.organization_id,
                    unique_key=f"contact-import:{item.id}:converted")
        _progress(uow, item.organization_id, item.id, RUNNING, 0, head.total_rows, 0)


async def _write(uow: UnitOfWork, item: ContactImport, chunk: Chunk) -> tuple[int, int]:
    """The chunk's contacts, tags and consent events; (created, updated)."""
    now, org_id = uow.clock.now(), item.organization_id
    contacts = ContactRepository(uow.session)
    existing = await contacts.by_numbers(org_id, list(chunk.rows))
    opted_in: list[int] = []
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
    new = [{"organization_id": org_id, "wa_id": wa_id, "phone": wa_id[:20], "name": row.name,
            "attributes": row.attributes, "source": SOURCE_IMPORT, "first_seen_at": now, "created_at": now,
            "updated_at": now, "opt_in_source": SOURCE_IMPORT if item.opt_in else None,
            "opted_in_at": now if item.opt_in else None}
           for wa_id, row in chunk.rows.items() if wa_id not in existing]
    await uow.flush()
    await contacts.insert_new(new)
    created = await contacts.by_numbers(org_id, [r["wa_id"] for r in new])
    if item.opt_in:
        opted_in += [c.id for c in created.values() if c.opt_in_source == SOURCE_IMPORT and c.opted_in_at == now]
    ids = {**{w: c.id for w, c in existing.items()}, **{w: c.id for w, c in created.items()}}
    tags = TagRepository(uow.session)
    by_key = await tags.ensure_many(org_id, [t for r in chunk.rows.values() for t in r.tags], now)
    await tags.attach(org_id, [(ids[w], by_key[tag_key(t)].id) for w, r in chunk.rows.items() if w in ids
                               for t in r.tags if tag_key(t) in by_key], now)
    await EventRepository(uow.session).insert_many([
        {"organization_id": org_id, "contact_id": cid, "kind": OPTED_IN, "source": SOURCE_IMPORT,
         "actor_label": item.created_by_label, "occurred_at": now, "created_at": now} for cid in opted_in])
    return len(new), len(existing)


@task(IMPORT_TASK, max_attempts=8)
async def import_chunk(uow: UnitOfWork, import_id: int) -> None:
    imports = ImportRepository(uow.session)
    item = await imports.by_id(import_id)
    if item is None or item.status not in (QUEUED, RUNNING):
        return
    data = await imports.data_of(import_id)
    definitions = {d.key: d for d in await AttributeRepository(uow.session).of_organization(item.organization_id)}
    await uow.release()  # no lock held while the file is parsed

    if item.format == XLSX:
        await _convert_xlsx(uow, item, data)
        return
    try:
        chunk = await asyncio.to_thread(read_chunk, data.decode("utf-8"), item, definitions, CHUNK_ROWS)
    except (UnicodeDecodeError, csv.Error) as exc:
        await _fail(uow, item, f"The file could not be read: {exc}")
        return
    rows_done = item.rows_done + chunk.rows_read
    errors = item.error_count + len(chunk.errors)
    status = DONE if chunk.finished else RUNNING
    values: dict[str, Any] = {"rows_done": rows_done, "text_offset": chunk.next_offset, "status": status,
                              "error_count": errors, "started_at": item.started_at or uow.clock.now()}
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
