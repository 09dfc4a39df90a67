"""Contact rules of the dashboard and /v1: create, edit, search, tag, delete. Numbers are normalised in the
organization's country; a number that exists already is a 409 naming the contact. Services never commit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from softdukan.audit.service import audit_service
from softdukan.auth.subject import Subject
from softdukan.contact.attributes import check_values, merge_values
from softdukan.contact.models import SOURCE_DASHBOARD, Contact, ContactAttribute, Tag
from softdukan.contact.phones import PhoneError, display_phone, normalize_phone
from softdukan.contact.repository import AttributeRepository, ContactFilter, ContactRepository, TagRepository, tag_key
from softdukan.organization.service import organization_service
from softdukan.platform.errors import Conflict, Invalid, NotFound
from softdukan.platform.uow import UnitOfWork

NAME_MAX = 200
TAG_MAX, TAGS_PER_CONTACT = 40, 30
PAGE_MAX = 200
UNSET: Any = object()  # a PATCH field that was not sent


@dataclass(frozen=True)
class ContactView:
    contact: Contact
    tags: list[Tag]


@dataclass(frozen=True)
class ContactPage:
    views: list[ContactView]
    next_cursor: str | None


def clean_tags(names: list[str]) -> list[str]:
    cleaned: dict[str, str] = {}
    for name in names:
        text = " ".join(str(name).split())
        if not text:
            continue
        if len(text) > TAG_MAX:
            raise Invalid("invalid_tag", f"A tag can be at most {TAG_MAX} characters long.",
                          {"tags": f"'{text[:20]}…' is longer than {TAG_MAX} characters."})
        cleaned.setdefault(tag_key(text), text)
    if len(cleaned) > TAGS_PER_CONTACT:
        raise Invalid("invalid_tag", f"A contact can have at most {TAGS_PER_CONTACT} tags.",
                      {"tags": f"At most {TAGS_PER_CONTACT} tags."})
    return list(cleaned.values())


def clean_name(name: str | None) -> str | None:
    text = " ".join((name or "").split())
    if len(text) > NAME_MAX:
        raise Invalid("invalid_name", f"A name can be at most {NAME_MAX} characters long.",
                      {"name": f"At most {NAME_MAX} characters."})
    return text or None


def parse_cursor(cursor: str | None) -> int | None:
    if not cursor:
        return None
    if cursor.isdecimal() and len(cursor) <= 19 and 0 < int(cursor) < 2**63:
        return int(cursor)
    raise Invalid("invalid_cursor", "This page cursor is not one we gave out.", {"cursor": "Invalid."})


class ContactDirectory:
    async def region(self, uow: UnitOfWork, subject: Subject) -> str:
        """Where a number without "+" is read: the organization's country (India by default)."""
        return (await organization_service.get(uow, subject)).country_code or "IN"

    async def normalize(self, uow: UnitOfWork, subject: Subject, raw: str, field: str = "phone") -> str:
        try:
            return normalize_phone(raw, await self.region(uow, subject))
        except PhoneError as exc:
            raise Invalid("invalid_phone_number", f"'{str(raw)[:40]}' is not a valid phone number: {exc}",
                          {field: str(exc)}) from None

    async def _refuse_duplicate(self, uow: UnitOfWork, subject: Subject, digits: str,
                                contact_id: int | None = None) -> None:
        existing = await ContactRepository(uow.session).by_number(subject, digits)
        if existing is not None and existing.id != contact_id:
            raise Conflict("contact_exists", f"{display_phone(digits)} is already the contact "
                                             f"'{existing.display_name}' (id {existing.id}).",
                           {"phone": "Already a contact.", "contact_id": existing.id})

    async def filter(self, uow: UnitOfWork, subject: Subject, *, q: str = "", tag: str = "",
                     attribute_key: str = "", attribute_value: str = "") -> ContactFilter:
        """The search, with the attribute's value read in its type (an unknown key or bad value is a 422)."""
        attribute: ContactAttribute | None = None
        value: Any = None
        if attribute_key.strip():
            attribute = await AttributeRepository(uow.session).by_key(subject, attribute_key.strip())
            if attribute is None:
                raise Invalid("unknown_attribute", f"No contact attribute with the key '{attribute_key[:40]}'.",
                              {"attribute_key": "Unknown attribute."})
            value = check_values([attribute], {attribute.key: attribute_value}).get(attribute.key)
            if value is None:
                raise Invalid("missing_attribute_value", "Give the value to look for.",
                              {"attribute_value": "Required with an attribute."})
        return ContactFilter(q=q[:100], tag=tag[:TAG_MAX], attribute=attribute, attribute_value=value)

    async def search(self, uow: UnitOfWork, subject: Subject, f: ContactFilter, *, cursor: str | None = None,
                     limit: int = 50) -> ContactPage:
        subject.require("contacts:read")
        limit = max(1, min(limit, PAGE_MAX))
        rows = await ContactRepository(uow.session).page(subject, f, after_id=parse_cursor(cursor), limit=limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        tags = await TagRepository(uow.session).of_contacts(subject.organization_id, [c.id for c in rows])
        return ContactPage([ContactView(c, tags.get(c.id, [])) for c in rows],
                           str(rows[-1].id) if more and rows else None)

    async def count(self, uow: UnitOfWork, subject: Subject, f: ContactFilter) -> int:
        subject.require("contacts:read")
        return await ContactRepository(uow.session).count_filtered(subject, f)

    async def get(self, uow: UnitOfWork, subject: Subject, contact_id: int) -> ContactView:
        subject.require("contacts:read")
        contact = await ContactRepository(uow.session).get(subject, contact_id)
        if contact is None:
            raise NotFound("contact_not_found", "No such contact in this organization.")
        tags = await TagRepository(uow.session).of_contacts(subject.organization_id, [contact.id])
        return ContactView(contact, tags.get(contact.id, []))

    async def tags(self, uow: UnitOfWork, subject: Subject) -> list[Tag]:
        subject.require("contacts:read")
        return await TagRepository(uow.session).all_of(subject)

    async def create(self, uow: UnitOfWork, subject: Subject, *, phone: str, name: str | None = None,
                     attributes: dict[str, Any] | None = None, tags: list[str] | None = None,
                     opt_in_source: str | None = None, source: str = SOURCE_DASHBOARD) -> ContactView:
        subject.require("contacts:write")
        digits = await self.normalize(uow, subject, phone)
        clean = clean_name(name)
        tag_names = clean_tags(tags or [])
        values = check_values(await AttributeRepository(uow.session).all_of(subject), attributes or {})
        await self._refuse_duplicate(uow, subject, digits)
        from softdukan.subscription import entitlements

        await entitlements.require_room(uow, subject.organization_id, "contacts",
                                        lambda: ContactRepository(uow.session).count_all(subject))
        now = uow.clock.now()
        contact = ContactRepository(uow.session).add(Contact(
            organization_id=subject.organization_id, wa_id=digits, phone=digits, name=clean, source=source,
            attributes=merge_values({}, values), first_seen_at=now, created_at=now, updated_at=now))
        await uow.flush()
        if opt_in_source:
            from softdukan.contact.consent import consent_service

            await consent_service.opt_in(uow, subject, contact, source=opt_in_source[:40])
        await self._set_tags(uow, subject, contact, tag_names)
        return await self.get(uow, subject, contact.id)

    async def update(self, uow: UnitOfWork, subject: Subject, contact_id: int, *, phone: Any = UNSET,
                     name: Any = UNSET, attributes: dict[str, Any] | None = None,
                     tags: list[str] | None = None) -> ContactView:
        """Only what is given changes: attributes merge (None removes one), tags replace the contact's set."""
        subject.require("contacts:write")
        contact = (await self.get(uow, subject, contact_id)).contact
        if phone is not UNSET:
            digits = await self.normalize(uow, subject, phone or "")
            if digits != contact.phone:
                await self._refuse_duplicate(uow, subject, digits, contact.id)
                # wa_id follows the number: WhatsApp ids are the number's digits (a wa_id WhatsApp gave us that
                # differs from the phone stays, so inbound messages keep finding the contact)
                if contact.wa_id == contact.phone:
                    contact.wa_id = digits
                contact.phone = digits
        if name is not UNSET:
            contact.name = clean_name(name)
        if attributes:
            values = check_values(await AttributeRepository(uow.session).all_of(subject), attributes)
            contact.attributes = merge_values(contact.attributes, values)
        if tags is not None:
            await self._set_tags(uow, subject, contact, clean_tags(tags))
        contact.updated_at = uow.clock.now()
        await uow.flush()
        return await self.get(uow, subject, contact.id)

    async def _set_tags(self, uow: UnitOfWork, subject: Subject, contact: Contact, names: list[str]) -> None:
        repo = TagRepository(uow.session)
        current = (await repo.of_contacts(subject.organization_id, [contact.id])).get(contact.id, [])
        wanted = await repo.ensure_many(subject.organization_id, names, uow.clock.now())
        await repo.detach(subject.organization_id, contact.id,
                          [t.id for t in current if t.name_key not in wanted])
        have = {t.id for t in current}
        await repo.attach(subject.organization_id, [(contact.id, t.id) for t in wanted.values() if t.id not in have],
                          uow.clock.now())

    async def delete(self, uow: UnitOfWork, subject: Subject, contact_id: int) -> None:
        """The contact with its conversations, messages, notes and tags (the database cascades)."""
        subject.require("contacts:write")
        contact = (await self.get(uow, subject, contact_id)).contact
        audit_service.record(uow, "contact.deleted", subject=subject, target=contact,
                             target_label=f"{contact.display_name} (+{contact.phone})")
        await ContactRepository(uow.session).delete(contact)
        await uow.flush()


contact_directory = ContactDirectory()
