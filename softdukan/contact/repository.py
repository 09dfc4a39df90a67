"""Every query on contacts. Routing (a system job) passes the organization id it resolved from the phone number."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, and_, or_, select, update

from softdukan.auth.subject import Subject
from softdukan.contact.models import Contact
from softdukan.kit.repository import Repository
from softdukan.kit.upsert import insert_ignore


class ContactRepository(Repository[Contact]):
    model = Contact

    def readable(self, subject: Subject) -> Select[tuple[Contact]]:
        return select(Contact).where(Contact.organization_id == subject.organization_id)

    async def get(self, subject: Subject, contact_id: int) -> Contact | None:
        return await self.one_or_none(self.readable(subject).where(Contact.id == contact_id))

    async def by_wa_id(self, organization_id: int, wa_id: str) -> Contact | None:
        return await self.one_or_none(select(Contact).where(Contact.organization_id == organization_id,
                                                            Contact.wa_id == wa_id))

    async def ensure(self, organization_id: int, wa_id: str, *, seen_at: datetime, now: datetime) -> Contact:
        """The contact for this number, created if new; concurrent routers can't create it twice."""
        contact = await self.by_wa_id(organization_id, wa_id)
        if contact is not None:
            return contact
        phone = "".join(ch for ch in wa_id if ch.isdigit())[:20]
        await self.session.execute(insert_ignore(self.session, Contact, ["organization_id", "wa_id"]), [{
            "organization_id": organization_id, "wa_id": wa_id, "phone": phone, "first_seen_at": seen_at,
            "created_at": now, "updated_at": now}])
        contact = await self.by_wa_id(organization_id, wa_id)
        assert contact is not None
        return contact

    async def record_inbound(self, contact: Contact, *, at: datetime, profile_name: str | None,
                             now: datetime) -> None:
        """Latest inbound time and profile name, by message time: late or shuffled webhooks can't roll them back."""
        newer = or_(Contact.last_inbound_at.is_(None), Contact.last_inbound_at <= at)
        values: dict[str, object] = {"last_inbound_at": at, "updated_at": now}
        if profile_name:
            values["profile_name"] = profile_name[:200]
        await self.session.execute(update(Contact).where(and_(Contact.id == contact.id, newer)).values(**values)
                                   .execution_options(synchronize_session=False))
        # an older message seen after a newer one may still be the first we know of
        await self.session.execute(update(Contact).where(Contact.id == contact.id, Contact.first_seen_at > at)
                                   .values(first_seen_at=at).execution_options(synchronize_session=False))
        await self.session.refresh(contact)
