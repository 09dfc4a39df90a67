"""Every query on conversations and messages.

Routing is a system job with no acting subject: it passes the organization id it resolved from Meta's phone
number id. Window and counter updates are single guarded UPDATEs (latest time wins, counters add), so
concurrent routing jobs and shuffled webhooks converge on the same row state.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, case, func, literal, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from softdukan.auth.subject import Subject
from softdukan.conversation.models import Conversation, Message
from softdukan.kit.repository import Repository
from softdukan.kit.upsert import insert_ignore


def later(column: Any, value: datetime) -> ColumnElement[Any]:
    """`column` raised to `value` (NULL counts as earliest)."""
    bound = literal(value, column.type)
    return case((or_(column.is_(None), column < bound), bound), else_=column)


def earlier(column: Any, value: datetime) -> ColumnElement[Any]:
    bound = literal(value, column.type)
    return case((or_(column.is_(None), column > bound), bound), else_=column)


class ConversationRepository(Repository[Conversation]):
    model = Conversation

    def readable(self, subject: Subject) -> Select[tuple[Conversation]]:
        return select(Conversation).where(Conversation.organization_id == subject.organization_id)

    async def get(self, subject: Subject, conversation_id: int) -> Conversation | None:
        return await self.one_or_none(self.readable(subject).where(Conversation.id == conversation_id))

    async def by_id(self, organization_id: int, conversation_id: int) -> Conversation | None:
        return await self.one_or_none(select(Conversation).where(Conversation.organization_id == organization_id,
                                                                 Conversation.id == conversation_id))

    async def find(self, organization_id: int, phone_number_id: int, contact_id: int) -> Conversation | None:
        return await self.one_or_none(select(Conversation).where(
            Conversation.organization_id == organization_id, Conversation.phone_number_id == phone_number_id,
            Conversation.contact_id == contact_id))

    async def ensure(self, organization_id: int, phone_number_id: int, contact_id: int, now: datetime
                     ) -> Conversation:
        found = await self.find(organization_id, phone_number_id, contact_id)
        if found is not None:
            return found
        await self.session.execute(insert_ignore(self.session, Conversation, ["phone_number_id", "contact_id"]), [{
            "organization_id": organization_id, "phone_number_id": phone_number_id, "contact_id": contact_id,
            "unread_count": 0, "created_at": now, "updated_at": now}])
        found = await self.find(organization_id, phone_number_id, contact_id)
        assert found is not None
        return found

    async def record_inbound(self, conversation: Conversation, *, at: datetime, user_message: bool,
                             referral: dict[str, Any] | None, csw: timedelta, fep_reply_within: timedelta,
                             now: datetime) -> None:
        """A new inbound message at `at`: every value only moves later, so order of arrival doesn't matter."""
        c = Conversation
        values: dict[str, Any] = {"last_message_at": later(c.last_message_at, at), "updated_at": now}
        if user_message:
            values |= {"last_inbound_at": later(c.last_inbound_at, at),
                       "csw_expires_at": later(c.csw_expires_at, at + csw), "unread_count": c.unread_count + 1}
        if referral is not None:
            newer = or_(c.fep_referral_at.is_(None), c.fep_referral_at < literal(at, c.fep_referral_at.type))
            values |= {"fep_referral_at": later(c.fep_referral_at, at),
                       "fep_referral": case((newer, literal(referral, c.fep_referral.type)), else_=c.fep_referral),
                       "fep_reply_by": later(c.fep_reply_by, at + fep_reply_within)}
        await self.session.execute(update(c).where(c.id == conversation.id).values(**values)
                                   .execution_options(synchronize_session=False))
        await self.session.refresh(conversation)

    async def touch_outbound(self, conversation: Conversation, at: datetime, now: datetime) -> None:
        await self.session.execute(update(Conversation).where(Conversation.id == conversation.id).values(
            last_message_at=later(Conversation.last_message_at, at), updated_at=now)
            .execution_options(synchronize_session=False))
        await self.session.refresh(conversation)


class MessageRepository(Repository[Message]):
    model = Message

    def readable(self, subject: Subject) -> Select[tuple[Message]]:
        return select(Message).where(Message.organization_id == subject.organization_id)

    async def get(self, subject: Subject, message_id: int) -> Message | None:
        return await self.one_or_none(self.readable(subject).where(Message.id == message_id))

    async def by_id(self, organization_id: int, message_id: int) -> Message | None:
        return await self.one_or_none(select(Message).where(Message.organization_id == organization_id,
                                                            Message.id == message_id))

    async def by_wamid(self, organization_id: int, wamid: str) -> Message | None:
        return await self.one_or_none(select(Message).where(Message.organization_id == organization_id,
                                                            Message.wamid == wamid))

    async def of_conversation(self, subject: Subject, conversation_id: int, *, limit: int = 50) -> list[Message]:
        return await self.all(self.readable(subject).where(Message.conversation_id == conversation_id)
                              .order_by(Message.occurred_at.desc(), Message.id.desc()).limit(limit))

    async def insert_once(self, row: dict[str, Any]) -> int | None:
        """Inserts the message unless its wamid exists; the new id, or None for a duplicate."""
        statement = insert_ignore(self.session, Message, ["organization_id", "wamid"]).returning(Message.id)
        result = await self.session.execute(statement, [row])
        return result.scalar_one_or_none()

    async def latest_reaction(self, organization_id: int, target_wamid: str) -> tuple[bool, str | None]:
        """(any reaction seen, the emoji of the latest one by message time; None when it was a removal)."""
        row = (await self.session.execute(
            select(Message.reaction_emoji).where(Message.organization_id == organization_id,
                                                 Message.reaction_to_wamid == target_wamid)
            .order_by(Message.occurred_at.desc(), Message.wamid.desc()).limit(1))).first()
        return (row is not None, row[0] if row else None)

    async def set_reaction(self, message: Message, emoji: str | None) -> None:
        message.reaction_emoji = emoji

    async def advance_status(self, message_id: int, status: str, rank: int) -> bool:
        """Moves the status forward only (a guarded UPDATE); True if it moved."""
        result = await self.session.execute(
            update(Message).where(and_(Message.id == message_id, Message.status_rank < rank))
            .values(status=status, status_rank=rank).execution_options(synchronize_session=False))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def record_status_facts(self, message_id: int, values: dict[str, Any], timestamps: dict[str, datetime],
                                  keep_first: dict[str, Any], now: datetime) -> None:
        """Earliest timestamp per status; first non-null pricing/error facts kept (duplicates carry the same)."""
        m = Message.__table__.c
        update_values: dict[str, Any] = {"updated_at": now, **values}
        for column, at in timestamps.items():
            update_values[column] = earlier(m[column], at)
        for column, value in keep_first.items():
            if value is not None:
                update_values[column] = func.coalesce(m[column], literal(value, m[column].type))
        await self.session.execute(update(Message).where(Message.id == message_id).values(**update_values)
                                   .execution_options(synchronize_session=False))
