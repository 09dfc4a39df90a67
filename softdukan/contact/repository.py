"""Every query on contacts and their tags, attributes, notes and events. Scoped to the acting subject; inbound
routing (a system job) passes the organization id it resolved from the phone number."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ColumnElement, Select, and_, delete, exists, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import JSONB

from softdukan.auth.subject import Subject
from softdukan.contact.models import (
    BOOLEAN,
    NUMBER,
    Contact,
    ContactAttribute,
    ContactEvent,
    ContactNote,
    ContactTag,
    Tag,
)
from softdukan.kit.repository import Repository
from softdukan.kit.upsert import insert_ignore


@dataclass(frozen=True)
class ContactFilter:
    """Search of the contact list: free text (name or number), a tag, an attribute's value."""

    q: str = ""
    tag: str = ""
    attribute: ContactAttribute | None = None
    attribute_value: Any = None  # already coerced to the attribute's type


def like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def attribute_equals(attribute: ContactAttribute, value: Any) -> ColumnElement[bool]:
    element = Contact.attributes[attribute.key]
    if attribute.type == NUMBER:
        return element.as_float() == float(value)
    if attribute.type == BOOLEAN:
        return element.as_boolean() == bool(value)
    return func.lower(element.as_string()) == str(value).lower()


class ContactRepository(Repository[Contact]):
    model = Contact

    def readable(self, subject: Subject) -> Select[tuple[Contact]]:
        return select(Contact).where(Contact.organization_id == subject.organization_id)

    async def get(self, subject: Subject, contact_id: int) -> Contact | None:
        return await self.one_or_none(self.readable(subject).where(Contact.id == contact_id))

    async def by_wa_id(self, organization_id: int, wa_id: str) -> Contact | None:
        return await self.one_or_none(select(Contact).where(Contact.organization_id == organization_id,
                                                            Contact.wa_id == wa_id))

    async def by_number(self, subject: Subject, digits: str) -> Contact | None:
        """The contact with this number as its WhatsApp id or its phone (the duplicate check)."""
        return await self.one_or_none(self.readable(subject).where(or_(Contact.wa_id == digits,
                                                                       Contact.phone == digits)))

    async def by_numbers(self, organization_id: int, digits: Sequence[str]) -> dict[str, Contact]:
        rows = await self.all(select(Contact).where(Contact.organization_id == organization_id,
                                                    Contact.wa_id.in_(list(digits))))
        return {c.wa_id: c for c in rows}

    def filtered(self, subject: Subject, f: ContactFilter) -> Select[tuple[Contact]]:
        statement = self.readable(subject)
        q = f.q.strip()
        if q:
            digits = "".join(ch for ch in q if ch.isdigit())
            pattern = f"%{like_escape(q)}%"
            conditions: list[ColumnElement[bool]] = [Contact.name.ilike(pattern, escape="\\"),
                                                     Contact.profile_name.ilike(pattern, escape="\\")]
            if digits and len(digits) >= max(3, len(q.replace(" ", "").lstrip("+")) - 2):
                conditions.append(Contact.phone.like(f"%{digits}%"))
            statement = statement.where(or_(*conditions))
        if f.tag.strip():
            statement = statement.where(exists(
                select(ContactTag.id).join(Tag, Tag.id == ContactTag.tag_id).where(
                    ContactTag.contact_id == Contact.id, Tag.organization_id == subject.organization_id,
                    Tag.name_key == tag_key(f.tag))))
        if f.attribute is not None and f.attribute_value is not None:
            statement = statement.where(attribute_equals(f.attribute, f.attribute_value))
        return statement

    async def page(self, subject: Subject, f: ContactFilter, *, after_id: int | None, limit: int) -> list[Contact]:
        """Newest first; `after_id` is the last id of the previous page."""
        statement = self.filtered(subject, f)
        if after_id is not None:
            statement = statement.where(Contact.id < after_id)
        return await self.all(statement.order_by(Contact.id.desc()).limit(limit))

    async def count_filtered(self, subject: Subject, f: ContactFilter) -> int:
        return await self.count(self.filtered(subject, f))

    async def count_all(self, subject: Subject) -> int:
        """Every contact of the organization (what the plan's contact limit counts)."""
        return await self.count(self.readable(subject))

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

    async def insert_new(self, rows: list[dict[str, Any]]) -> None:
        """Contacts of an import: rows whose number exists already (a concurrent insert) are skipped."""
        if rows:
            await self.session.execute(insert_ignore(self.session, Contact, ["organization_id", "wa_id"]), rows)

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


def tag_key(name: str) -> str:
    """What makes two tag names the same: Unicode-normalised, spaces collapsed, case-folded."""
    return " ".join(unicodedata.normalize("NFKC", name).split()).casefold()[:60]


class TagRepository(Repository[Tag]):
    model = Tag

    async def all_of(self, subject: Subject) -> list[Tag]:
        return await self.all(select(Tag).where(Tag.organization_id == subject.organization_id).order_by(Tag.name_key))

    async def ensure_many(self, organization_id: int, names: Sequence[str], now: datetime) -> dict[str, Tag]:
        """name_key → tag, created if new (concurrent imports can't create one twice)."""
        wanted = {tag_key(n): " ".join(n.split())[:60] for n in names if n.strip()}
        if not wanted:
            return {}
        await self.session.execute(insert_ignore(self.session, Tag, ["organization_id", "name_key"]), [
            {"organization_id": organization_id, "name": name, "name_key": key, "created_at": now}
            for key, name in wanted.items()])
        tags = await self.all(select(Tag).where(Tag.organization_id == organization_id,
                                                Tag.name_key.in_(list(wanted))))
        return {t.name_key: t for t in tags}

    async def of_contacts(self, organization_id: int, contact_ids: Sequence[int]) -> dict[int, list[Tag]]:
        if not contact_ids:
            return {}
        rows = await self.session.execute(
            select(ContactTag.contact_id, Tag).join(Tag, Tag.id == ContactTag.tag_id)
            .where(ContactTag.organization_id == organization_id, ContactTag.contact_id.in_(list(contact_ids)))
            .order_by(Tag.name_key))
        found: dict[int, list[Tag]] = {}
        for contact_id, tag in rows.all():
            found.setdefault(contact_id, []).append(tag)
        return found

    async def attach(self, organization_id: int, pairs: Sequence[tuple[int, int]], now: datetime) -> None:
        if pairs:
            await self.session.execute(insert_ignore(self.session, ContactTag, ["contact_id", "tag_id"]), [
                {"organization_id": organization_id, "contact_id": c, "tag_id": t, "created_at": now}
                for c, t in pairs])

    async def detach(self, organization_id: int, contact_id: int, tag_ids: Sequence[int]) -> None:
        if tag_ids:
            await self.session.execute(delete(ContactTag).where(
                ContactTag.organization_id == organization_id, ContactTag.contact_id == contact_id,
                ContactTag.tag_id.in_(list(tag_ids))))


class AttributeRepository(Repository[ContactAttribute]):
    model = ContactAttribute

    def readable(self, subject: Subject) -> Select[tuple[ContactAttribute]]:
        return select(ContactAttribute).where(ContactAttribute.organization_id == subject.organization_id)

    async def all_of(self, subject: Subject) -> list[ContactAttribute]:
        return await self.all(self.readable(subject).order_by(ContactAttribute.label, ContactAttribute.id))

    async def of_organization(self, organization_id: int) -> list[ContactAttribute]:
        """For the import job, which acts for the organization that queued it."""
        return await self.all(select(ContactAttribute).where(ContactAttribute.organization_id == organization_id))

    async def get(self, subject: Subject, attribute_id: int) -> ContactAttribute | None:
        return await self.one_or_none(self.readable(subject).where(ContactAttribute.id == attribute_id))

    async def by_key(self, subject: Subject, key: str) -> ContactAttribute | None:
        return await self.one_or_none(self.readable(subject).where(ContactAttribute.key == key))

    async def remove_values(self, subject: Subject, key: str) -> None:
        """Drop `key` from every contact's attributes (a deleted definition; its key may be reused with
        another type). `key` matches KEY_PATTERN, so it is safe inside the JSON path."""
        held = Contact.attributes[key].as_string().is_not(None)  # json_extract / ->> : any type of value
        if self.session.get_bind().dialect.name == "postgresql":
            removed: Any = func.cast(func.cast(Contact.attributes, JSONB).op("-")(key), JSON)
        else:
            removed = func.json_remove(Contact.attributes, f"$.{key}")
        await self.session.execute(update(Contact).where(Contact.organization_id == subject.organization_id, held)
                                   .values(attributes=removed).execution_options(synchronize_session=False))


class NoteRepository(Repository[ContactNote]):
    model = ContactNote

    async def of_contact(self, subject: Subject, contact_id: int, limit: int = 100) -> list[ContactNote]:
        return await self.all(select(ContactNote).where(
            ContactNote.organization_id == subject.organization_id, ContactNote.contact_id == contact_id)
            .order_by(ContactNote.created_at.desc(), ContactNote.id.desc()).limit(limit))


class EventRepository(Repository[ContactEvent]):
    model = ContactEvent

    async def of_contact(self, subject: Subject, contact_id: int, limit: int = 100) -> list[ContactEvent]:
        return await self.all(select(ContactEvent).where(
            ContactEvent.organization_id == subject.organization_id, ContactEvent.contact_id == contact_id)
            .order_by(ContactEvent.occurred_at.desc(), ContactEvent.id.desc()).limit(limit))

    async def insert_many(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(insert(ContactEvent.__table__), rows)  # Core: no ORM bookkeeping
