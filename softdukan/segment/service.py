"""Segment rules: create, rename, redefine, delete; count, preview and list the contacts a definition selects.
Services never commit.

A saved definition is checked again whenever it is compiled: a contact attribute it names may have been deleted
since. Counting such a segment reports the problems instead of a number; listing or snapshotting it is a 422.
"""

from __future__ import annotations

import unicodedata
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement

from softdukan.auth.service import clean_name
from softdukan.auth.subject import Subject
from softdukan.contact.directory import ContactView, parse_cursor
from softdukan.contact.models import Contact, ContactAttribute
from softdukan.platform.errors import Conflict, Invalid, NotFound
from softdukan.platform.uow import UnitOfWork
from softdukan.segment.compile import Context, compile_definition
from softdukan.segment.definition import Group, parse_definition
from softdukan.segment.models import Segment
from softdukan.segment.repository import AudienceRepository, SegmentRepository

NAME_MAX = 100
PAGE_MAX = 200
PREVIEW_CONTACTS = 10
BATCH = 1000


@dataclass(frozen=True)
class Count:
    """A segment's size now, or why it can't be counted (a condition names a deleted attribute)."""

    value: int | None
    problems: dict[str, str] | None = None


@dataclass(frozen=True)
class Preview:
    count: int
    contacts: list[ContactView]


@dataclass(frozen=True)
class MemberPage:
    views: list[ContactView]
    next_cursor: str | None


def name_key(name: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", name).split()).casefold()[:NAME_MAX]


async def parse_for(uow: UnitOfWork, organization_id: int, raw: Any) -> Group:
    """The definition checked against the organization's attribute definitions (422 naming each broken path)."""
    return parse_definition(raw, await AudienceRepository(uow.session).attributes_of(organization_id))


async def condition_for(uow: UnitOfWork, organization_id: int, raw: Any) -> ColumnElement[bool]:
    group = await parse_for(uow, organization_id, raw)
    audience = AudienceRepository(uow.session)
    ctx = Context(organization_id, uow.clock.now(), await audience.timezone_of(organization_id))
    return compile_definition(group, ctx)


class SegmentService:
    async def list(self, uow: UnitOfWork, subject: Subject, *, after_id: int | None = None,
                   limit: int = 50) -> list[Segment]:
        subject.require("segments:read")
        return await SegmentRepository(uow.session).page(subject, after_id=after_id, limit=limit)

    async def get(self, uow: UnitOfWork, subject: Subject, segment_id: int) -> Segment:
        subject.require("segments:read")
        segment = await SegmentRepository(uow.session).get(subject, segment_id)
        if segment is None:
            raise NotFound("segment_not_found", "No such segment in this organization.")
        return segment

    async def _refuse_taken(self, uow: UnitOfWork, subject: Subject, name: str, segment_id: int | None = None
                            ) -> None:
        existing = await SegmentRepository(uow.session).by_name_key(subject, name_key(name))
        if existing is not None and existing.id != segment_id:
            raise Conflict("segment_name_taken", f"A segment named '{existing.name}' exists already.",
                           {"name": "Taken.", "segment_id": existing.id})

    async def create(self, uow: UnitOfWork, subject: Subject, *, name: str, definition: Any) -> Segment:
        subject.require("segments:write")
        clean = clean_name(name, "name", "The segment name", max_length=NAME_MAX)
        group = await parse_for(uow, subject.organization_id, definition)
        await self._refuse_taken(uow, subject, clean)
        now = uow.clock.now()
        segment = SegmentRepository(uow.session).add(Segment(
            organization_id=subject.organization_id, name=clean, name_key=name_key(clean),
            definition=group.to_json(), created_by_user_id=subject.user_id, created_by_label=subject.label[:254],
            created_at=now, updated_at=now))
        await uow.flush()
        return segment

    async def update(self, uow: UnitOfWork, subject: Subject, segment_id: int, *, name: str | None = None,
                     definition: Any = None) -> Segment:
        """Only what is given changes."""
        subject.require("segments:write")
        segment = await self.get(uow, subject, segment_id)
        if name is not None:
            clean = clean_name(name, "name", "The segment name", max_length=NAME_MAX)
            await self._refuse_taken(uow, subject, clean, segment.id)
            segment.name, segment.name_key = clean, name_key(clean)
        if definition is not None:
            segment.definition = (await parse_for(uow, subject.organization_id, definition)).to_json()
        segment.updated_at = uow.clock.now()
        await uow.flush()
        return segment

    async def delete(self, uow: UnitOfWork, subject: Subject, segment_id: int) -> None:
        subject.require("segments:write")
        await SegmentRepository(uow.session).delete(await self.get(uow, subject, segment_id))
        await uow.flush()

    async def count(self, uow: UnitOfWork, subject: Subject, segment: Segment) -> Count:
        subject.require("segments:read")
        try:
            condition = await condition_for(uow, subject.organization_id, segment.definition)
        except Invalid as exc:
            return Count(None, exc.details if isinstance(exc.details, dict) else {"definition": exc.message})
        return Count(await AudienceRepository(uow.session).count_members(subject.organization_id, condition))

    async def preview(self, uow: UnitOfWork, subject: Subject, definition: Any, *,
                      first: int = PREVIEW_CONTACTS) -> Preview:
        """Count and first contacts of an unsaved definition (the builder's live count)."""
        subject.require("segments:read")
        condition = await condition_for(uow, subject.organization_id, definition)
        audience = AudienceRepository(uow.session)
        total = await audience.count_members(subject.organization_id, condition)
        rows = await audience.page(subject.organization_id, condition, after_id=None, limit=first)
        return Preview(total, await _contact_views(uow, subject.organization_id, rows))

    async def members(self, uow: UnitOfWork, subject: Subject, segment: Segment, *, cursor: str | None = None,
                      limit: int = 50) -> MemberPage:
        subject.require("contacts:read")
        limit = max(1, min(limit, PAGE_MAX))
        condition = await condition_for(uow, subject.organization_id, segment.definition)
        rows = await AudienceRepository(uow.session).page(subject.organization_id, condition,
                                                          after_id=parse_cursor(cursor), limit=limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        return MemberPage(await _contact_views(uow, subject.organization_id, rows),
                          str(rows[-1].id) if more and rows else None)

    async def builder_choices(self, uow: UnitOfWork, subject: Subject
                              ) -> tuple[Sequence[ContactAttribute], Sequence[str]]:
        """The attribute definitions and tag names the condition builder offers."""
        subject.require("segments:read")
        audience = AudienceRepository(uow.session)
        return (await audience.attributes_of(subject.organization_id),
                await audience.tag_names(subject.organization_id))


async def _contact_views(uow: UnitOfWork, organization_id: int, rows: Sequence[Contact]) -> list[ContactView]:
    tags = await AudienceRepository(uow.session).tags_of(organization_id, [c.id for c in rows])
    return [ContactView(c, tags.get(c.id, [])) for c in rows]


segment_service = SegmentService()


async def segment_contact_ids(uow: UnitOfWork, subject_or_org: Subject | int, segment: Segment, *,
                              batch_size: int = BATCH) -> AsyncIterator[list[int]]:
    """The segment's contact ids in ascending batches (keyset on the id), for a broadcast's audience snapshot.

    A Subject must be able to read the segment; an organization id is a system job acting for that organization
    (the segment must be one of its own). The definition is compiled once, against one instant, so "window open"
    or "wrote within N days" mean the same for the whole snapshot. Contacts created while iterating may or may not
    be included; none is yielded twice. Invalid (422) if the definition no longer checks out."""
    if isinstance(subject_or_org, Subject):
        subject_or_org.require("segments:read")
        organization_id = subject_or_org.organization_id
    else:
        organization_id = subject_or_org
    if segment.organization_id != organization_id:
        raise NotFound("segment_not_found", "No such segment in this organization.")
    condition = await condition_for(uow, organization_id, segment.definition)
    audience = AudienceRepository(uow.session)
    last = 0
    while True:
        ids = await audience.ids_after(organization_id, condition, after_id=last, limit=max(1, batch_size))
        if not ids:
            return
        yield ids
        last = ids[-1]

