"""The audit log: append-only record of sensitive actions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from softdukan.kit.db import BigId, Model


class AuditEvent(Model):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_org_created", "organization_id", "created_at"),)

    # None for events outside any organization (a failed sign-in for an unknown e-mail, staff actions)
    organization_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("organizations.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(60), index=True)  # e.g. member.role_changed
    actor_type: Mapped[str] = mapped_column(String(10))  # user | api_key | staff | system | anonymous
    actor_id: Mapped[int | None]
    actor_label: Mapped[str] = mapped_column(String(254))  # e-mail or key prefix at the time
    target_type: Mapped[str | None] = mapped_column(String(40))
    target_id: Mapped[int | None]
    target_label: Mapped[str | None] = mapped_column(String(254))
    ip: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
