"""A contact import and its per-row errors.

The uploaded file is kept on the import row (`data`): CSV as UTF-8 text (decoded once at upload), XLSX as its
bytes until the job converts it to CSV text. Progress (`rows_done`, `text_offset`: where the next row starts, in
bytes of the stored text, so that a chunk reads only its slice) commits in the same transaction as each chunk's
contacts, so a job killed mid-chunk redoes only that chunk.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from softdukan.kit.db import BigId, TenantModel, UTCDateTime, utcnow

# ContactImport.status
MAPPING, QUEUED, RUNNING, DONE, FAILED = "mapping", "queued", "running", "done", "failed"
CSV, XLSX = "csv", "xlsx"

# mapping targets besides "attr:<key>"
PHONE, NAME, TAGS, SKIP = "phone", "name", "tags", ""


class ContactImport(TenantModel):
    __tablename__ = "contact_imports"

    created_by_label: Mapped[str] = mapped_column(String(254))
    filename: Mapped[str] = mapped_column(String(255))
    format: Mapped[str] = mapped_column(String(8))  # csv | xlsx (csv once the job converted it)
    encoding: Mapped[str | None] = mapped_column(String(20))  # what the CSV was decoded from
    delimiter: Mapped[str] = mapped_column(String(1), default=",")
    region: Mapped[str] = mapped_column(String(2), default="IN")  # numbers without "+" are read in this country
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    headers: Mapped[list[str]] = mapped_column(JSON, default=list)
    preview: Mapped[list[Any]] = mapped_column(JSON, default=list)  # the first rows, for the mapping step
    mapping: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # column index (str) → target
    opt_in: Mapped[bool] = mapped_column(default=False)  # the business says these contacts agreed to messages
    status: Mapped[str] = mapped_column(String(10), default=MAPPING)
    total_rows: Mapped[int | None] = mapped_column(Integer)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    text_offset: Mapped[int] = mapped_column(Integer, default=0)
    created_count: Mapped[int] = mapped_column(Integer, default=0)
    updated_count: Mapped[int] = mapped_column(Integer, default=0)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(500))  # why the whole import failed
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def percent(self) -> int:
        if self.status == DONE:
            return 100
        if not self.total_rows:
            return 0
        return min(100, self.rows_done * 100 // self.total_rows)


class ContactImportError(TenantModel):
    """A row that was not imported, with the reason (the downloadable error report)."""

    __tablename__ = "contact_import_errors"
    __table_args__ = (UniqueConstraint("import_id", "row_number"),)  # a redone chunk can't report a row twice

    import_id: Mapped[int] = mapped_column(BigId, ForeignKey("contact_imports.id", ondelete="CASCADE"))
    row_number: Mapped[int] = mapped_column(Integer)  # as a spreadsheet shows it: the header is row 1
    message: Mapped[str] = mapped_column(String(500))
    values: Mapped[list[str]] = mapped_column(JSON, default=list)
