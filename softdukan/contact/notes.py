"""Notes on a contact (author, text, time) and the contact's timeline: its messages, notes, consent changes and
what broadcasts did with it, newest first. Messages and broadcast recipients are read from their domains' tables
only to show them (as conversation/listing.py reads contacts); changes to them go through those services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from softdukan.auth.subject import Subject
from softdukan.contact.models import ContactEvent, ContactNote
from softdukan.contact.repository import ContactRepository, EventRepository, NoteRepository
from softdukan.conversation.models import Message
from softdukan.platform.errors import Invalid, NotFound
from softdukan.platform.uow import UnitOfWork

NOTE_MAX = 5000
TIMELINE_MAX = 100


@dataclass(frozen=True)
class TimelineItem:
    at: datetime
    kind: str  # message | note | event | broadcast
    message: Message | None = None
    note: ContactNote | None = None
    event: ContactEvent | None = None
    broadcast: Any = None  # (Broadcast, BroadcastRecipient): what a broadcast did with this contact


class NoteService:
    async def _check_contact(self, uow: UnitOfWork, subject: Subject, contact_id: int) -> None:
        if await ContactRepository(uow.session).get(subject, contact_id) is None:
            raise NotFound("contact_not_found", "No such contact in this organization.")

    async def add(self, uow: UnitOfWork, subject: Subject, contact_id: int, text: str) -> ContactNote:
        subject.require("contacts:write")
        await self._check_contact(uow, subject, contact_id)
        body = text.strip()
        if not body:
            raise Invalid("invalid_note", "Write the note first.", {"text": "Required."})
        if len(body) > NOTE_MAX:
            raise Invalid("invalid_note", f"A note can be at most {NOTE_MAX} characters long.",
                          {"text": f"At most {NOTE_MAX} characters."})
        note = NoteRepository(uow.session).add(ContactNote(
            organization_id=subject.organization_id, contact_id=contact_id, text=body,
            author_user_id=subject.user_id if subject.kind == "user" else None, author_label=subject.label[:254],
            created_at=uow.clock.now()))
        await uow.flush()
        return note

    async def list(self, uow: UnitOfWork, subject: Subject, contact_id: int) -> list[ContactNote]:
        subject.require("contacts:read")
        await self._check_contact(uow, subject, contact_id)
        return await NoteRepository(uow.session).of_contact(subject, contact_id)

    async def timeline(self, uow: UnitOfWork, subject: Subject, contact_id: int) -> list[TimelineItem]:
        subject.require("contacts:read")
        await self._check_contact(uow, subject, contact_id)
        items = [TimelineItem(n.created_at, "note", note=n)
                 for n in await NoteRepository(uow.session).of_contact(subject, contact_id, TIMELINE_MAX)]
        items += [TimelineItem(e.occurred_at, "event", event=e)
                  for e in await EventRepository(uow.session).of_contact(subject, contact_id, TIMELINE_MAX)]
        # the messages' own page is the conversation; reactions show there, folded into their targets
        messages = (await uow.session.execute(select(Message).where(
            Message.organization_id == subject.organization_id, Message.contact_id == contact_id,
            Message.type != "reaction").order_by(Message.occurred_at.desc(), Message.id.desc())
            .limit(TIMELINE_MAX))).scalars().all()
        items += [TimelineItem(m.occurred_at, "message", message=m) for m in messages]
        items += [TimelineItem(r.sent_at or r.created_at, "broadcast", broadcast=(b, r))
                  for b, r in await _broadcasts_of(uow, subject, contact_id)]
        items.sort(key=lambda i: i.at, reverse=True)
        return items[:TIMELINE_MAX]


async def _broadcasts_of(uow: UnitOfWork, subject: Subject, contact_id: int) -> list[tuple[Any, Any]]:
    from softdukan.broadcast.models import Broadcast, BroadcastRecipient  # broadcasts import contacts

    rows = await uow.session.execute(
        select(Broadcast, BroadcastRecipient).join(Broadcast, Broadcast.id == BroadcastRecipient.broadcast_id)
        .where(BroadcastRecipient.organization_id == subject.organization_id,
               Broadcast.organization_id == subject.organization_id, BroadcastRecipient.contact_id == contact_id)
        .order_by(BroadcastRecipient.id.desc()).limit(TIMELINE_MAX))
    return [(b, r) for b, r in rows.all()]


note_service = NoteService()
