"""Contacts: the customers an organization talks to on WhatsApp. Minimal for now (issue 4 extends it)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from softdukan.kit.db import TenantModel, UTCDateTime, utcnow


class Contact(TenantModel):
    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("organization_id", "wa_id"),)

    wa_id: Mapped[str] = mapped_column(String(64))  # WhatsApp id: E.164 digits, no "+"
    phone: Mapped[str] = mapped_column(String(20))  # E.164 digits, no "+" (equals wa_id for WhatsApp users)
    profile_name: Mapped[str | None] = mapped_column(String(200))  # the name the customer set in WhatsApp
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # a `user_changed_number` system message: the number the customer moved to
    changed_number_to: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
