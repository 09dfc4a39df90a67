"""A contact's consent and blocking: opt in (with its source), opt out, block, unblock. Each change is recorded as
a ContactEvent for the timeline and published live; repeating a change is a no-op. Sending refuses blocked contacts,
and marketing templates to opted-out ones (conversation/send.py). Customers opt out and back in themselves by keyword
or a marked button (contact/keywords.py, contact/consent_inbound.py → `customer_opted`). Services never commit."""

from __future__ import annotations

from softdukan.auth.subject import Subject
from softdukan.contact.events import ContactConsentChanged
from softdukan.contact.models import BLOCKED, OPTED_IN, OPTED_OUT, UNBLOCKED, Contact, ContactEvent
from softdukan.contact.repository import ContactRepository, EventRepository
from softdukan.platform.errors import NotFound
from softdukan.platform.uow import UnitOfWork

ACTIONS = (OPTED_IN, OPTED_OUT, BLOCKED, UNBLOCKED)


class ConsentService:
    async def _contact(self, uow: UnitOfWork, subject: Subject, contact_id: int) -> Contact:
        subject.require("contacts:write")
        contact = await ContactRepository(uow.session).get(subject, contact_id)
        if contact is None:
            raise NotFound("contact_not_found", "No such contact in this organization.")
        return contact

    def _record(self, uow: UnitOfWork, contact: Contact, kind: str, source: str, actor: str | None) -> None:
        EventRepository(uow.session).add(ContactEvent(
            organization_id=contact.organization_id, contact_id=contact.id, kind=kind, source=source[:40],
            actor_label=actor, occurred_at=uow.clock.now(), created_at=uow.clock.now()))
        contact.updated_at = uow.clock.now()
        uow.emit(ContactConsentChanged(organization_id=contact.organization_id, contact_id=contact.id, kind=kind,
                                       source=source[:40]))

    async def opt_in(self, uow: UnitOfWork, subject: Subject, contact: Contact, *, source: str) -> bool:
        """Records consent (and clears an opt-out). False when the contact was opted in already."""
        subject.require("contacts:write")
        if contact.opted_in_at is not None and contact.opted_out_at is None:
            return False
        contact.opted_in_at, contact.opt_in_source, contact.opted_out_at = uow.clock.now(), source[:40], None
        self._record(uow, contact, OPTED_IN, source, subject.label)
        return True

    async def apply(self, uow: UnitOfWork, subject: Subject, contact_id: int, action: str, *,
                    source: str) -> Contact:
        """One of ACTIONS by id (dashboard and API buttons)."""
        contact = await self._contact(uow, subject, contact_id)
        now = uow.clock.now()
        if action == OPTED_IN:
            await self.opt_in(uow, subject, contact, source=source)
        elif action == OPTED_OUT and contact.opted_out_at is None:
            contact.opted_out_at = now
            self._record(uow, contact, OPTED_OUT, source, subject.label)
        elif action == BLOCKED and contact.blocked_at is None:
            contact.blocked_at = now
            self._record(uow, contact, BLOCKED, source, subject.label)
        elif action == UNBLOCKED and contact.blocked_at is not None:
            contact.blocked_at = None
            self._record(uow, contact, UNBLOCKED, source, subject.label)
        await uow.flush()
        return contact

    async def customer_opted(self, uow: UnitOfWork, contact: Contact, action: str, *, source: str,
                             actor: str) -> bool:
        """The customer themself opted out or back in (a keyword or a marked button; contact/consent_inbound.py):
        no subject, the customer is the actor. False when nothing changed (already in that state)."""
        now = uow.clock.now()
        if action == OPTED_OUT:
            if contact.opted_out_at is not None:
                return False
            contact.opted_out_at = now
        elif action == OPTED_IN:
            if contact.opted_in_at is not None and contact.opted_out_at is None:
                return False
            contact.opted_in_at, contact.opt_in_source, contact.opted_out_at = now, source[:40], None
        else:
            raise ValueError(f"a customer can only opt out or in, not {action!r}")
        self._record(uow, contact, action, source, actor[:254])
        return True


consent_service = ConsentService()
