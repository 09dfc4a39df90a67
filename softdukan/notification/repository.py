"""Queries on the e-mail outbox."""

from __future__ import annotations

from sqlalchemy import select

from softdukan.kit.repository import Repository
from softdukan.notification.models import OutboundEmail


class OutboundEmailRepository(Repository[OutboundEmail]):
    """Not tenant-scoped: the outbox serves the whole installation (only the development mailbox reads it)."""

    model = OutboundEmail

    async def newest(self, *, limit: int = 100, before_id: int | None = None) -> list[OutboundEmail]:
        statement = select(OutboundEmail).order_by(OutboundEmail.id.desc()).limit(limit)
        if before_id is not None:
            statement = statement.where(OutboundEmail.id < before_id)
        return await self.all(statement)

    async def by_id(self, email_id: int) -> OutboundEmail | None:
        return await self.session.get(OutboundEmail, email_id)
