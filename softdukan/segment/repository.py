"""Every query of segments: the segments themselves (scoped to the acting subject) and the audience a segment
compiles to (scoped to the organization: broadcasts snapshot audiences in jobs that act for the organization).

Contacts and attribute definitions are only read here, to count and list a segment's members (tags of a page of
contacts through the contact list's own TagRepository query); changes to them go through the contact domain's
services."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, Select, func, select

from softdukan.auth.subject import Subject
from softdukan.contact.models import Contact, ContactAttribute, Tag
from softdukan.contact.repository import TagRepository
from softdukan.kit.repository import Repository
from softdukan.organization.models import Organization
from softdukan.segment.models import Segment


class SegmentRepository(Repository[Segment]):
    model = Segment

    def readable(self, subject: Subject) -> Select[tuple[Segment]]:
        return select(Segment).where(Segment.organization_id == subject.organization_id)

    async def get(self, subject: Subject, segment_id: int) -> Segment | None:
        return await self.one_or_none(self.readable(subject).where(Segment.id == segment_id))

    async def by_name_key(self, subject: Subject, name_key: str) -> Segment | None:
        return await self.one_or_none(self.readable(subject).where(Segment.name_key == name_key))

    async def page(self, subject: Subject, *, after_id: int | None, limit: int) -> list[Segment]:
        """Newest first; `after_id` is the last id of the previous page."""
        statement = self.readable(subject)
        if after_id is not None:
            statement = statement.where(Segment.id < after_id)
        return await self.all(statement.order_by(Segment.id.desc()).limit(limit))


class AudienceRepository(Repository[Contact]):
    """The contacts a compiled definition selects, always within one organization."""

    model = Contact

    def members(self, organization_id: int, condition: ColumnElement[bool]) -> Select[tuple[Contact]]:
        return select(Contact).where(Contact.organization_id == organization_id, condition)

    async def count_members(self, organization_id: int, condition: ColumnElement[bool]) -> int:
        statement = select(func.count(Contact.id)).where(Contact.organization_id == organization_id, condition)
        return int((await self.session.execute(statement)).scalar_one())

    async def page(self, organization_id: int, condition: ColumnElement[bool], *, after_id: int | None,
                   limit: int) -> list[Contact]:
        """Newest first, like the contact list."""
        statement = self.members(organization_id, condition)
        if after_id is not None:
            statement = statement.where(Contact.id < after_id)
        return await self.all(statement.order_by(Contact.id.desc()).limit(limit))

    async def ids_after(self, organization_id: int, condition: ColumnElement[bool], *, after_id: int,
                        limit: int) -> list[int]:
        """One keyset batch of member ids in ascending order (index on the primary key, no OFFSET)."""
        statement = (select(Contact.id).where(Contact.organization_id == organization_id, condition,
                                              Contact.id > after_id).order_by(Contact.id).limit(limit))
        return list((await self.session.execute(statement)).scalars().all())

    async def tags_of(self, organization_id: int, contact_ids: Sequence[int]) -> dict[int, list[Tag]]:
        return await TagRepository(self.session).of_contacts(organization_id, contact_ids)  # the contact list's own

    async def attributes_of(self, organization_id: int) -> list[ContactAttribute]:
        return list((await self.session.execute(select(ContactAttribute).where(
            ContactAttribute.organization_id == organization_id).order_by(ContactAttribute.label))).scalars().all())

    async def tag_names(self, organization_id: int) -> list[str]:
        return list((await self.session.execute(select(Tag.name).where(
            Tag.organization_id == organization_id).order_by(Tag.name_key))).scalars().all())

    async def timezone_of(self, organization_id: int) -> str:
        tz = (await self.session.execute(select(Organization.timezone).where(
            Organization.id == organization_id))).scalar_one_or_none()
        return tz or "Asia/Kolkata"
