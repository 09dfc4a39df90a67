"""Leads: a demo request or a contact message sent from the public site (no account), and staff notes on it.
Platform rows, not tenant rows: only staff read them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from softdukan.kit.db import BigId, Model

DEMO, CONTACT = "demo", "contact"
NEW, CONTACTED, SCHEDULED, DONE, SPAM = "new", "contacted", "scheduled", "done", "spam"
STATUSES = (NEW, CONTACTED, SCHEDULED, DONE, SPAM)


class Lead(Model):
    __tablename__ = "leads"
    __table_args__ = (
        CheckConstraint("kind IN ('demo', 'contact')", name="kind_known"),
        CheckConstraint("status IN ('new', 'contacted', 'scheduled', 'done', 'spam')", name="status_known"),
        CheckConstraint("status != 'scheduled' OR scheduled_for IS NOT NULL", name="scheduled_has_time"),
        Index("ix_leads_status_created", "status", "created_at"),
    )

    kind: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(120))
    business: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(20))  # E.164 digits, no "+"
    email: Mapped[str | None] = mapped_column(String(254))
    preferred_time: Mapped[str | None] = mapped_column(String(100))  # as the requester wrote it
    message: Mapped[str | None] = mapped_column(String(2000))
    status: Mapped[str] = mapped_column(String(12), default=NEW)
    scheduled_for: Mapped[datetime | None]
    status_changed_at: Mapped[datetime | None]
    handled_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff_users.id"))
    ip: Mapped[str | None] = mapped_column(String(64))


class LeadNote(Model):
    __tablename__ = "lead_notes"

    lead_id: Mapped[int] = mapped_column(BigId, ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff_users.id"))
    staff_label: Mapped[str] = mapped_column(String(254))
    text: Mapped[str] = mapped_column(String(2000))
