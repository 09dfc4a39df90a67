"""Every query of broadcasts and their recipients, scoped to the acting subject's organization."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select

from softdukan.auth.subject import Subject
from softdukan.broadcast import states as s
from softdukan.broadcast.models import Broadcast, BroadcastRecipient
from softdukan.contact.models import Contact
from softdukan.conversation.models import Message
from softdukan.kit.repository import Repository

R = BroadcastRecipient


class BroadcastRepository(Repository[Broadcast]):
    model = Broadcast

    def readable(self, subject: Subject) -> Select[tuple[Broadcast]]:
        return select(Broadcast).where(Broadcast.organization_id == subject.organization_id)

    async def get(self, subject: Subject, broadcast_id: int) -> Broadcast | None:
        return await self.one_or_none(self.readable(subject).where(Broadcast.id == broadcast_id))

    async def page(self, subject: Subject, *, after_id: int | None, limit: int) -> list[Broadcast]:
        statement = self.readable(subject)
        if after_id is not None:
            statement = statement.where(Broadcast.id < after_id)
        return await self.all(statement.order_by(Broadcast.id.desc()).limit(limit))

    async def state_counts(self, broadcast: Broadcast) -> list[tuple[str, str | None, int | None, str | None, int]]:
        """(state, reason, error code, a detail, count) per group."""
        rows = await self.session.execute(
            select(R.state, R.reason, R.error_code, func.min(R.detail), func.count(R.id))
            .where(R.organization_id == broadcast.organization_id, R.broadcast_id == broadcast.id)
            .group_by(R.state, R.reason, R.error_code))
        return [(st, reason, code, detail, int(n)) for st, reason, code, detail, n in rows]

    async def message_status_counts(self, broadcast: Broadcast) -> dict[str, int]:
        rows = await self.session.execute(
            select(Message.status, func.count(R.id)).join(Message, Message.id == R.message_id)
            .where(R.organization_id == broadcast.organization_id, R.broadcast_id == broadcast.id,
                   R.state == s.SENT).group_by(Message.status))
        return {status: int(n) for status, n in rows}

    async def replied_count(self, broadcast: Broadcast) -> int:
        return int(await self.session.scalar(select(func.count(R.id)).where(
            R.organization_id == broadcast.organization_id, R.broadcast_id == broadcast.id,
            R.replied_at.is_not(None))) or 0)

    async def recipients(self, broadcast: Broadcast, *, state: str | None, after_id: int | None, limit: int
                         ) -> list[tuple[BroadcastRecipient, str | None, str | None]]:
        """Recipients in id order with their contact's name and their latest message's status."""
        statement: Select[Any] = (
            select(R, func.coalesce(Contact.name, Contact.profile_name), Message.status)
            .outerjoin(Contact, Contact.id == R.contact_id).outerjoin(Message, Message.id == R.message_id)
            .where(R.organization_id == broadcast.organization_id, R.broadcast_id == broadcast.id))
        if state is not None:
            statement = statement.where(R.state == state)
        if after_id is not None:
            statement = statement.where(R.id > after_id)
        rows = await self.session.execute(statement.order_by(R.id).limit(limit))
        return [(r, name, status) for r, name, status in rows]
