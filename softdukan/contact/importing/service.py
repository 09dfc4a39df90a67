"""Contact imports: upload (the file is read and checked at once; a refused file writes nothing), the column
mapping, and the start of the background job. The error report streams as CSV. Services never commit."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import ClassVar

from softdukan.auth.subject import Subject
from softdukan.contact.csv_safe import safe_cell
from softdukan.contact.importing import offload, parse
from softdukan.contact.importing.models import CSV, MAPPING, QUEUED, ContactImport
from softdukan.contact.importing.repository import ImportRepository
from softdukan.contact.importing.rows import check_mapping
from softdukan.contact.repository import AttributeRepository
from softdukan.organization.service import organization_service
from softdukan.platform.errors import Conflict, DomainError, Invalid, NotFound
from softdukan.platform.runtime import Runtime
from softdukan.platform.uow import UnitOfWork

IMPORT_TASK = "contact.import_chunk"
ERROR_PAGE = 1000


class FileTooLarge(DomainError):
    status: ClassVar[int] = 413
    default_code: ClassVar[str] = "file_too_large"


def refused(message: str) -> Invalid:
    return Invalid("file_refused", message, {"file": message})


class ImportService:
    async def upload(self, uow: UnitOfWork, subject: Subject, *, filename: str, data: bytes) -> ContactImport:
        subject.require("contact_imports:write")
        if len(data) > parse.MAX_BYTES:
            raise FileTooLarge(message=f"The file is larger than {parse.MAX_BYTES // (1024 * 1024)} MB; split it "
                                       "into smaller files.", details={"file": "Too large."})
        name = (filename or "contacts.csv").replace("\\", "/").rsplit("/", 1)[-1][:255] or "contacts.csv"
        try:
            fmt = parse.detect_format(name, data)
            if fmt == CSV:  # read in the helper process: a 20 MB file must not stall the other requests
                stored, encoding, head = await offload.run(parse.read_csv, data)
                total: int | None = head.total_rows
            else:
                encoding = None
                head = await offload.run(parse.xlsx_head, data)
                stored, total = data, None
        except parse.FileRefused as exc:
            raise refused(str(exc)) from None
        org = await organization_service.get(uow, subject)
        job = ImportRepository(uow.session).add(ContactImport(
            organization_id=subject.organization_id, created_by_label=subject.label[:254], filename=name,
            format=fmt, encoding=encoding, delimiter=head.delimiter, region=org.country_code or "IN",
            size=len(data), data=stored, headers=head.headers, preview=head.preview, total_rows=total,
            text_offset=head.body_offset, status=MAPPING, created_at=uow.clock.now(), updated_at=uow.clock.now()))
        await uow.flush()
        return job

    async def get(self, uow: UnitOfWork, subject: Subject, import_id: int) -> ContactImport:
        subject.require("contact_imports:write")
        found = await ImportRepository(uow.session).get(subject, import_id)
        if found is None:
            raise NotFound("import_not_found", "No such contact import in this organization.")
        return found

    async def recent(self, uow: UnitOfWork, subject: Subject) -> list[ContactImport]:
        subject.require("contact_imports:write")
        return await ImportRepository(uow.session).recent(subject)

    async def start(self, uow: UnitOfWork, subject: Subject, import_id: int, *, mapping: dict[str, str],
                    opt_in: bool) -> ContactImport:
        """Checks the mapping (a phone column is required) and queues the job."""
        found = await self.get(uow, subject, import_id)
        if found.status != MAPPING:
            raise Conflict("import_started", "This import has started already.")
        from softdukan.contact.repository import ContactRepository
        from softdukan.subscription import entitlements

        await entitlements.require_room(uow, subject.organization_id, "contacts",
                                        lambda: ContactRepository(uow.session).count_all(subject))
        definitions = await AttributeRepository(uow.session).all_of(subject)
        found.mapping = check_mapping(mapping, found.headers, definitions)
        found.opt_in = opt_in
        found.status = QUEUED
        uow.enqueue(IMPORT_TASK, import_id=found.id, organization_id=subject.organization_id,
                    unique_key=f"contact-import:{found.id}:start")
        await uow.flush()
        return found

    async def error_report(self, uow: UnitOfWork, runtime: Runtime, subject: Subject,
                           import_id: int) -> AsyncIterator[str]:
        """The rows that were not imported, as CSV: row number, reason, then the row's own cells under the
        file's headers (fix them and import the report again). The pages stream after the request's transaction
        ended, each read in its own short transaction."""
        headers = list((await self.get(uow, subject, import_id)).headers)
        buffer = io.StringIO()
        writer = csv.writer(buffer)

        def flush() -> str:
            text = buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            return text

        async def rows() -> AsyncIterator[str]:
            writer.writerow(["row", "error", *map(safe_cell, headers)])
            yield flush()
            after = 0
            while True:
                async with runtime.sessionmaker() as session:
                    page = await ImportRepository(session).errors_page(subject, import_id, after_row=after,
                                                                       limit=ERROR_PAGE)
                if not page:
                    return
                for error in page:
                    writer.writerow([error.row_number, safe_cell(error.message), *map(safe_cell, error.values)])
                after = page[-1].row_number
                yield flush()

        return rows()


import_service = ImportService()
