"""Contacts as CSV, streamed: pages of contacts read by keyset, each in its own short transaction (the request's
transaction has ended before the first byte), so a large export holds no lock and little memory."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator

from fastapi.responses import StreamingResponse

from softdukan.audit.service import audit_service
from softdukan.auth.subject import Subject
from softdukan.contact.attribute_values import display
from softdukan.contact.csv_safe import safe_cell
from softdukan.contact.repository import AttributeRepository, ContactFilter, ContactRepository, TagRepository
from softdukan.platform.runtime import Runtime
from softdukan.platform.uow import UnitOfWork

PAGE = 1000
FIELDS = ["phone", "name", "profile_name", "tags", "source", "opt_in_source", "opted_in_at", "opted_out_at",
          "blocked_at", "first_seen_at", "last_inbound_at", "created_at"]


async def export_csv(uow: UnitOfWork, runtime: Runtime, subject: Subject, f: ContactFilter) -> StreamingResponse:
    subject.require("contacts:export")
    definitions = await AttributeRepository(uow.session).all_of(subject)
    keys = [d.key for d in definitions]
    audit_service.record(uow, "contacts.exported", subject=subject, q=f.q, tag=f.tag,
                         attribute=f.attribute.key if f.attribute else None)
    filename = f"contacts-{uow.clock.now():%Y%m%d-%H%M}.csv"

    async def rows() -> AsyncIterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([*FIELDS, *keys])
        after: int | None = None
        while True:
            async with runtime.sessionmaker() as session:
                page = await ContactRepository(session).page(subject, f, after_id=after, limit=PAGE)
                tags = await TagRepository(session).of_contacts(subject.organization_id, [c.id for c in page])
            for c in page:
                values = [f"+{c.phone}", c.name, c.profile_name, ", ".join(t.name for t in tags.get(c.id, [])),
                          c.source, c.opt_in_source, c.opted_in_at, c.opted_out_at, c.blocked_at, c.first_seen_at,
                          c.last_inbound_at, c.created_at]
                attributes = c.attributes or {}
                writer.writerow([safe_cell(v.isoformat() if hasattr(v, "isoformat") else v) for v in values]
                                + [safe_cell(display(attributes.get(k))) for k in keys])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            if len(page) < PAGE:
                return
            after = page[-1].id

    return StreamingResponse(rows(), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{filename}"'})
