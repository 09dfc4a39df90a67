"""Read queries of the conversation pages and /v1: the conversation list, one thread, paging. Always scoped to
the acting subject's organization. Read models join the contact and the number (their tables are read here only to
show them; changes to them go through their services).

Paging is by keyset: a cursor `"<epoch microseconds>.<id>"` names the last row of the previous page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update

from softdukan.auth.subject import Subject
from softdukan.contact.models import Contact
from softdukan.conversation.media.models import MediaFile
from softdukan.conversation.media.repository import MediaRepository
from softdukan.conversation.models import Conversation, Message
from softdukan.conversation.receipts import request_read_receipt
from softdukan.conversation.windows import WindowState, window_state
from softdukan.number.models import PhoneNumber
from softdukan.platform.errors import Invalid, NotFound
from softdukan.platform.uow import UnitOfWork

MAX_PAGE = 200


@dataclass(frozen=True)
class ConversationView:
    conversation: Conversation
    contact: Contact
    phone: PhoneNumber
    last_message: Message | None
    window: WindowState

    @property
    def contact_name(self) -> str:
        return self.contact.profile_name or f"+{self.contact.wa_id}"


@dataclass(frozen=True)
class Thread:
    view: ConversationView
    messages: list[Message]  # oldest first, reactions folded into their targets
    quoted: dict[str, Message]  # context wamid → the message it quotes (when we have it)
    business_reactions: dict[str, str]  # target wamid → the emoji the business reacted with
    older_cursor: str | None
    media: dict[int, MediaFile] = field(default_factory=dict)  # message id → its stored (or pending) file
    charges: dict[int, Any] = field(default_factory=dict)  # message id → its credit charge (wallet.MessageCharge)


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def encode_cursor(at: datetime | None, row_id: int) -> str:
    return f"{((at or EPOCH) - EPOCH) // timedelta(microseconds=1)}.{row_id}"


def decode_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    if not cursor:
        return None
    try:
        micros, row_id = cursor.split(".", 1)
        at = EPOCH + timedelta(microseconds=int(micros))
        value = int(row_id)
        if not 0 < value < 2**63:
            raise ValueError(cursor)
    except (ValueError, OverflowError, OSError):
        raise Invalid("invalid_cursor", "This page cursor is not one we gave out.", {"cursor": "Invalid."}) from None
    return at, value


def _limit(limit: int) -> int:
    return max(1, min(limit, MAX_PAGE))


def _last_message_id(conversation_id: Any) -> Any:
    return (select(Message.id).where(Message.conversation_id == conversation_id, Message.type != "reaction")
            .order_by(Message.occurred_at.desc(), Message.id.desc()).limit(1).scalar_subquery())


async def conversations(uow: UnitOfWork, subject: Subject, *, limit: int = 50, cursor: str | None = None,
                        phone_number_id: int | None = None) -> tuple[list[ConversationView], str | None]:
    """Newest activity first."""
    subject.require("conversations:read")
    limit = _limit(limit)
    sort_at = func.coalesce(Conversation.last_message_at, Conversation.created_at)
    statement = (select(Conversation, Contact, PhoneNumber)
                 .join(Contact, and_(Contact.id == Conversation.contact_id,
                                     Contact.organization_id == Conversation.organization_id))
                 .join(PhoneNumber, and_(PhoneNumber.id == Conversation.phone_number_id,
                                         PhoneNumber.organization_id == Conversation.organization_id))
                 .where(Conversation.organization_id == subject.organization_id))
    if phone_number_id is not None:
        statement = statement.where(Conversation.phone_number_id == phone_number_id)
    if (after := decode_cursor(cursor)) is not None:
        at, row_id = after
        statement = statement.where(or_(sort_at < at, and_(sort_at == at, Conversation.id < row_id)))
    rows = (await uow.session.execute(statement.order_by(sort_at.desc(), Conversation.id.desc())
                                      .limit(limit + 1))).all()
    more = len(rows) > limit
    rows = rows[:limit]
    last_ids = {}
    if rows:
        found = await uow.session.execute(select(Conversation.id, _last_message_id(Conversation.id))
                                          .where(Conversation.id.in_([r[0].id for r in rows])))
        last_ids = {cid: mid for cid, mid in found.all() if mid is not None}
    last = {m.id: m for m in (await uow.session.execute(
        select(Message).where(Message.id.in_(list(last_ids.values()))))).scalars()} if last_ids else {}
    now = uow.clock.now()
    views = [ConversationView(c, contact, phone, last.get(last_ids.get(c.id, 0)), window_state(c, now))
             for c, contact, phone in rows]
    next_cursor = None
    if more and views:
        tail = views[-1].conversation
        next_cursor = encode_cursor(tail.last_message_at or tail.created_at, tail.id)
    return views, next_cursor


async def conversation(uow: UnitOfWork, subject: Subject, conversation_id: int) -> ConversationView:
    subject.require("conversations:read")
    row = (await uow.session.execute(
        select(Conversation, Contact, PhoneNumber)
        .join(Contact, Contact.id == Conversation.contact_id)
        .join(PhoneNumber, PhoneNumber.id == Conversation.phone_number_id)
        .where(Conversation.organization_id == subject.organization_id, Conversation.id == conversation_id,
               Contact.organization_id == subject.organization_id,
               PhoneNumber.organization_id == subject.organization_id))).first()
    if row is None:
        raise NotFound("conversation_not_found", "No such conversation in this organization.")
    c, contact, phone = row
    last_id = (await uow.session.execute(select(_last_message_id(c.id)))).scalar()
    last = await uow.session.get(Message, last_id) if last_id else None
    return ConversationView(c, contact, phone, last, window_state(c, uow.clock.now()))


async def messages(uow: UnitOfWork, subject: Subject, conversation_id: int, *, limit: int = 50,
                   cursor: str | None = None) -> tuple[list[Message], str | None]:
    """Newest first; `next_cursor` pages to older messages."""
    await conversation(uow, subject, conversation_id)  # 404 for another organization's conversation
    limit = _limit(limit)
    statement = select(Message).where(Message.organization_id == subject.organization_id,
                                      Message.conversation_id == conversation_id)
    if (before := decode_cursor(cursor)) is not None:
        at, row_id = before
        statement = statement.where(or_(Message.occurred_at < at,
                                        and_(Message.occurred_at == at, Message.id < row_id)))
    rows = list((await uow.session.execute(statement.order_by(Message.occurred_at.desc(), Message.id.desc())
                                           .limit(limit + 1))).scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, encode_cursor(rows[-1].occurred_at, rows[-1].id) if more and rows else None


async def message(uow: UnitOfWork, subject: Subject, message_id: int, *, conversation_id: int | None = None
                  ) -> Message:
    subject.require("conversations:read")
    statement = select(Message).where(Message.organization_id == subject.organization_id, Message.id == message_id)
    if conversation_id is not None:
        statement = statement.where(Message.conversation_id == conversation_id)
    found = (await uow.session.execute(statement)).scalar_one_or_none()
    if found is None:
        raise NotFound("message_not_found", "No such message in this organization.")
    return found


async def quoted(uow: UnitOfWork, subject: Subject, rows: list[Message]) -> dict[str, Message]:
    wamids = {m.context_wamid for m in rows if m.context_wamid}
    if not wamids:
        return {}
    found = await uow.session.execute(select(Message).where(Message.organization_id == subject.organization_id,
                                                            Message.wamid.in_(wamids)))
    return {m.wamid: m for m in found.scalars() if m.wamid}


async def thread(uow: UnitOfWork, subject: Subject, conversation_id: int, *, cursor: str | None = None,
                 limit: int = 50) -> Thread:
    view = await conversation(uow, subject, conversation_id)
    rows, older = await messages(uow, subject, conversation_id, limit=limit, cursor=cursor)
    rows.reverse()
    # the business's own reactions show on their targets, like the customer's (routing sets those)
    reactions = {str(m.content.get("message_id")): str(m.content.get("emoji") or "")
                 for m in rows if m.type == "reaction" and m.direction == "out" and m.status != "failed"}
    shown = [m for m in rows if m.type != "reaction"]
    return Thread(view, shown, await quoted(uow, subject, shown), {k: v for k, v in reactions.items() if v}, older,
                  await media_of(uow, subject, shown), await charges_of(uow, subject, shown))


async def charges_of(uow: UnitOfWork, subject: Subject, rows: list[Message]) -> dict[int, Any]:
    """The credit charges of these messages' templates (held, charged, free or released)."""
    from softdukan.wallet.usage import charges_for

    return await charges_for(uow, subject.organization_id, [m.id for m in rows if m.type == "template"])


async def media_of(uow: UnitOfWork, subject: Subject, rows: list[Message]) -> dict[int, MediaFile]:
    """The media rows (without their bytes) of these messages: what the bubbles show."""
    return await MediaRepository(uow.session).for_messages(subject.organization_id, [m.id for m in rows])


async def mark_seen(uow: UnitOfWork, subject: Subject, conversation: Conversation) -> None:
    """An agent opened the thread: its unread counter goes back to zero and the customer gets a read receipt
    (blue ticks). The guard `unread_count > 0` lets one of several concurrent openings do it."""
    if conversation.unread_count and subject.can("conversations:write"):
        result = await uow.session.execute(update(Conversation).where(
            Conversation.organization_id == subject.organization_id, Conversation.id == conversation.id,
            Conversation.unread_count > 0)
            .values(unread_count=0).execution_options(synchronize_session=False))
        if getattr(result, "rowcount", 0):
            await request_read_receipt(uow, subject.organization_id, conversation.id)
