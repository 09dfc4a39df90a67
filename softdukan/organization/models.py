"""Organizations, their memberships and invitations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from softdukan.kit.db import BigId, Model, TenantModel


class Organization(Model):
    __tablename__ = "organizations"

    name: Mapped[str] = mapped_column(String(120))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Kolkata")
    country_code: Mapped[str] = mapped_column(String(2), default="IN")
    suspended_at: Mapped[datetime | None]
    suspended_reason: Mapped[str | None] = mapped_column(String(300))


class Membership(TenantModel):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("organization_id", "user_id"),)

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role_id: Mapped[int] = mapped_column(BigId, ForeignKey("roles.id"), index=True)
    is_owner: Mapped[bool] = mapped_column(default=False)


class Invitation(TenantModel):
    __tablename__ = "invitations"

    email: Mapped[str] = mapped_column(String(254))
    role_id: Mapped[int] = mapped_column(BigId, ForeignKey("roles.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
