"""Every query on contact imports, their row errors and the contact rows an import inserts. The import job (a system
task) reads by id; the organization id it writes under comes from the import row."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeVar

from sqlalchemy import Select, func, select, update

from softdukan.auth.subject import Subject
from softdukan.contact.importing.models import ContactImport, ContactImportError
from softdukan.contact.models import Contact
from softdukan.kit.repository import Repository
from softdukan.kit.upsert import insert_ignore

T = TypeVar("T")

WRITE_BATCH = 250  # rows per statement: preparing a statement's rows holds the event loop, a few ms per batch


def batches(rows: list[T]) -> Iterator[list[T]]:
    return (rows[i:i + WRITE_BATCH] for i in range(0, len(rows), WRITE_BATCH))


class ImportRepository(Repository[ContactImport]):
    model = ContactImport

    def readable(self, subject: Subject) -> Select[tuple[ContactImport]]:
        return select(ContactImport).where(ContactImport.organization_id == subject.organization_id)

    async def get(self, subject: Subject, import_id: int) -> ContactImport | None:
        return await self.one_or_none(self.readable(subject).where(ContactImport.id == import_id))

    async def by_id(self, import_id: int) -> ContactImport | None:
        """For the import job only (it was enqueued for this organization's import)."""
        return await self.one_or_none(select(ContactImport).where(ContactImport.id == import_id)
                                      .execution_options(populate_existing=True))

    async def recent(self, subject: Subject, limit: int = 10) -> list[ContactImport]:
        return await self.all(self.readable(subject).order_by(ContactImport.id.desc()).limit(limit))

    async def data_slice(self, import_id: int, offset: int, length: int) -> bytes:
        """`length` bytes of the stored file from byte `offset` (fewer at its end): a chunk never reads it whole."""
        return bytes((await self.session.execute(select(func.substr(ContactImport.data, offset + 1, length)).where(
            ContactImport.id == import_id))).scalar_one() or b"")

    async def data_of(self, import_id: int) -> bytes:
        return bytes((await self.session.execute(select(ContactImport.data).where(
            ContactImport.id == import_id))).scalar_one())

    async def advance(self, import_id: int, *, expected_rows_done: int, expected_format: str,
                      **values: Any) -> bool:
        """Compare-and-set of the import's progress: False when another run moved it first (this run then
        writes nothing)."""
        result = await self.session.execute(
            update(ContactImport).where(ContactImport.id == import_id,
                                        ContactImport.rows_done == expected_rows_done,
                                        ContactImport.format == expected_format)
            .values(**values).execution_options(synchronize_session=False))
        return bool(getattr(result, "rowcount", 0))

    async def insert_contacts(self, rows: list[dict[str, Any]]) -> dict[str, int]:
        """An import's new contacts; wa_id → id of those inserted (a number that exists is left out)."""
        statement = insert_ignore(self.session, Contact, ["organization_id", "wa_id"]).returning(
            Contact.__table__.c.wa_id, Contact.__table__.c.id)
        inserted: dict[str, int] = {}
        for batch in batches(rows):
            inserted |= {wa_id: id_ for wa_id, id_ in (await self.session.execute(statement, batch)).all()}
        return inserted

    async def add_errors(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(insert_ignore(self.session, ContactImportError, ["import_id", "row_number"]),
                                       rows)

    async def errors_page(self, subject: Subject, import_id: int, *, after_row: int,
                          limit: int) -> list[ContactImportError]:
        return list((await self.session.execute(select(ContactImportError).where(
            ContactImportError.organization_id == subject.organization_id, ContactImportError.import_id == import_id,
            ContactImportError.row_number > after_row).order_by(ContactImportError.row_number).limit(limit)
        )).scalars().all())
