from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, select

from softdukan.audit.models import AuditEvent
from softdukan.auth.subject import Subject
from softdukan.kit.repository import Repository


class AuditRepository(Repository[AuditEvent]):
    model = AuditEvent

    def readable(self, subject: Subject) -> Select[tuple[AuditEvent]]:
        return select(AuditEvent).where(AuditEvent.organization_id == subject.organization_id)

    async def search(self, subject: Subject, *, action: str | None = None, actor: str | None = None,
                     since: datetime | None = None, until: datetime | None = None,
                     before_id: int | None = None, limit: int = 50) -> list[AuditEvent]:
        statement = self.readable(subject)
        if action:
            statement = statement.where(AuditEvent.action.startswith(action, autoescape=True))
        if actor:
            statement = statement.where(AuditEvent.actor_label.icontains(actor, autoescape=True))
        if since:
            statement = statement.where(AuditEvent.created_at >= since)
        if until:
            statement = statement.where(AuditEvent.created_at < until)
        if before_id:
            statement = statement.where(AuditEvent.id < before_id)
        return await self.all(statement.order_by(AuditEvent.id.desc()).limit(limit))
