"""Contact rules used by inbound routing and sending. Services never commit."""

from __future__ import annotations

from datetime import datetime

from softdukan.auth.subject import Subject
from softdukan.contact.models import Contact
from softdukan.contact.repository import ContactRepository
from softdukan.platform.uow import UnitOfWork


class ContactService:
    async def upsert_from_inbound(self, uow: UnitOfWork, organization_id: int, wa_id: str, *,
                                  profile_name: str | None, at: datetime, user_message: bool = True) -> Contact:
        """The contact a customer's message came from, with its profile name and last inbound time refreshed."""
        contacts = ContactRepository(uow.session)
        contact = await contacts.ensure(organization_id, wa_id, seen_at=at, now=uow.clock.now())
        if user_message:
            await contacts.record_inbound(contact, at=at, profile_name=profile_name, now=uow.clock.now())
        return contact

    async def ensure(self, uow: UnitOfWork, organization_id: int, wa_id: str) -> Contact:
        """The contact for a number (created if new): for business-initiated sends to a number never seen."""
        return await ContactRepository(uow.session).ensure(organization_id, wa_id, seen_at=uow.clock.now(),
                                                           now=uow.clock.now())

    async def get_in_organization(self, uow: UnitOfWork, subject: Subject, contact_id: int) -> Contact | None:
        """The subject's organization's contact, or None (another organization's id too). Checks NO permission:
        the caller did (sending needs conversations:write, not a contacts permission)."""
        return await ContactRepository(uow.session).get(subject, contact_id)

    async def sync_from_business_app(self, uow: UnitOfWork, organization_id: int, wa_id: str, *,
                                     name: str | None, at: datetime) -> Contact:
        """A contact of the WhatsApp Business app's address book (coexistence `smb_app_state_sync`): created if
        new; its name is kept only while the customer's own profile name is unknown."""
        contacts = ContactRepository(uow.session)
        contact = await contacts.ensure(organization_id, wa_id, seen_at=at, now=uow.clock.now())
        if name and not contact.profile_name:
            contact.profile_name = name[:200]
        return contact

    async def record_number_change(self, uow: UnitOfWork, contact: Contact, new_wa_id: str | None) -> None:
        if new_wa_id and contact.changed_number_to != new_wa_id:
            contact.changed_number_to = new_wa_id[:64]


contact_service = ContactService()
