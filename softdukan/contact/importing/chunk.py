"""One chunk of an import's rows parsed: numbers normalised, attributes coerced, duplicates in the chunk merged,
refused rows kept with their reason. Pure and made of plain data (no database, no ORM objects) so that it can run
in the helper process (offload.py) without touching the event loop."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from softdukan.contact.importing import parse
from softdukan.contact.importing.rows import ATTR, AttributeSpec, ParsedRow, RowError, parse_row


@dataclass(frozen=True)
class ChunkPlan:
    organization_id: int
    import_id: int
    delimiter: str
    region: str
    mapping: dict[str, str]  # column index → target
    definitions: dict[str, AttributeSpec]  # the organization's attributes, by key
    first_row_number: int  # of the window's first row, as a spreadsheet shows it


@dataclass
class Chunk:
    rows: dict[str, ParsedRow] = field(default_factory=dict)  # wa_id → merged row
    errors: list[dict[str, Any]] = field(default_factory=list)
    rows_read: int = 0
    valid_rows: int = 0  # rows that gave a contact (before merging on the number)
    bytes_read: int = 0
    finished: bool = False


def _merge(into: ParsedRow, row: ParsedRow) -> None:
    into.name = row.name or into.name
    into.attributes.update(row.attributes)
    into.tags += [t for t in row.tags if t not in into.tags]


def read_chunk(window: bytes, at_end: bool, plan: ChunkPlan, limit: int) -> Chunk:
    """Up to `limit` rows of `window` (the stored file from where the chunk starts), parsed."""
    definitions = plan.definitions
    mapping = {c: t for c, t in plan.mapping.items() if not t.startswith(ATTR) or t[len(ATTR):] in definitions}
    chunk = Chunk()
    for number, cells, bytes_read in parse.window_rows(window, at_end, plan.delimiter, plan.first_row_number):
        chunk.rows_read += 1
        chunk.bytes_read = bytes_read
        if any(c.strip() for c in cells):
            try:
                row = parse_row(cells, mapping, definitions, plan.region)
            except RowError as exc:
                chunk.errors.append({"organization_id": plan.organization_id, "import_id": plan.import_id,
                                     "row_number": number, "message": str(exc)[:500],
                                     "values": [c[:200] for c in cells[:parse.MAX_COLUMNS]]})
            else:
                chunk.valid_rows += 1
                if row.wa_id in chunk.rows:
                    _merge(chunk.rows[row.wa_id], row)
                else:
                    row.row_number = number
                    chunk.rows[row.wa_id] = row
        if chunk.rows_read >= limit:
            break
    chunk.finished = at_end and chunk.bytes_read >= len(window)
    return chunk
