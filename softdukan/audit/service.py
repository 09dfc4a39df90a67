"""Records sensitive actions; never fails the action it records (same transaction, no extra commit)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from softdukan.audit.models import AuditEvent
from softdukan.audit.repository import AuditRepository
from softdukan.auth.subject import Subject
from softdukan.platform.uow import UnitOfWork

ACTIONS = (
    "auth.signed_up", "auth.signed_in", "auth.sign_in_failed", "auth.signed_out", "auth.password_reset",
    "auth.password_changed", "member.invited", "member.invitation_revoked", "member.joined",
    "member.removed", "member.role_changed", "organization.ownership_transferred", "organization.updated",
    "team.created", "team.updated", "team.deleted", "team.member_added", "team.member_removed",
    "role.created", "role.updated", "role.deleted", "api_key.created", "api_key.revoked",
    "organization.suspended", "organization.unsuspended", "job.retried", "subscription.trial_extended",
)


class AuditService:
    def record(self, uow: UnitOfWork, action: str, *, subject: Subject | None = None,
               organization_id: int | None = None, actor_type: str | None = None, actor_id: int | None = None,
               actor_label: str | None = None, target: Any = None, target_label: str | None = None,
               ip: str | None = None, **details: Any) -> AuditEvent:
        event = AuditEvent(
            organization_id=subject.organization_id if subject else organization_id,
            action=action,
            actor_type=actor_type or (subject.kind if subject else "anonymous"),
            actor_id=actor_id if actor_id is not None else (subject.actor_id if subject else None),
            actor_label=actor_label or (subject.label if subject else "anonymous"),
            target_type=type(target).__tablename__ if target is not None else None,
            target_id=getattr(target, "id", None),
            target_label=target_label,
            ip=ip or (subject.ip if subject else None),
            details=details,
            created_at=uow.clock.now(),
        )
        uow.session.add(event)
        return event

    async def search(self, uow: UnitOfWork, subject: Subject, *, action: str | None = None,
                     actor: str | None = None, since: datetime | None = None, until: datetime | None = None,
                     before_id: int | None = None, limit: int = 50) -> list[AuditEvent]:
        subject.require("audit:read")
        return await AuditRepository(uow.session).search(
            subject, action=action, actor=actor, since=since, until=until, before_id=before_id,
            limit=max(1, min(limit, 200)))


audit_service = AuditService()
