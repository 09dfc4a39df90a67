"""Platform staff: not tenant users, with their own sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from softdukan.kit.db import BigId, Model


class StaffUser(Model):
    __tablename__ = "staff_users"

    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(200))
    disabled_at: Mapped[datetime | None]


class StaffSession(Model):
    __tablename__ = "staff_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_user_id: Mapped[int] = mapped_column(BigId, ForeignKey("staff_users.id", ondelete="CASCADE"))
    expires_at: Mapped[datetime]
