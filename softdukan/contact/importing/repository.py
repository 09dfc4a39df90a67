"""Every query on contact imports and their row errors. The import job (a system task) reads by id."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select, update

from softdukan.auth.subject import Subject
from softdukan.contact.importing.models import ContactImport, ContactImportError
from softdukan.kit.repository import Repository
from softdukan.kit.upsert import insert_ignore


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
