"""Message templates of a connected WhatsApp Business account, as Meta holds them.

`components` is kept in Meta's own shape (reference §9.1: HEADER, BODY, FOOTER, BUTTONS) so what we submit,
what a sync pulls and what a send fills in are one and the same document. Status, rejection reason, category
changes and quality arrive by webhook (reference §5.8) and are applied in order of Meta's event time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from softdukan.kit.db import BigId, TenantModel, UTCDateTime, utcnow

# status: Meta's statuses (reference §9.1), plus SUBMITTING while our create call is in flight
SUBMITTING = "SUBMITTING"
PENDING, APPROVED, REJECTED, PAUSED, DISABLED, DELETED = (
    "PENDING", "APPROVED", "REJECTED", "PAUSED", "DISABLED", "DELETED")
STATUSES = frozenset({SUBMITTING, PENDING, APPROVED, REJECTED, PAUSED, DISABLED, DELETED, "IN_APPEAL", "FLAGGED",
                      "REINSTATED", "PENDING_DELETION", "LIMIT_EXCEEDED", "ARCHIVED", "LOCKED", "UNKNOWN"})
CATEGORIES = ("MARKETING", "UTILITY", "AUTHENTICATION")
POSITIONAL, NAMED = "positional", "named"
QUALITIES = frozenset({"GREEN", "YELLOW", "RED", "UNKNOWN"})


class MessageTemplate(TenantModel):
    __tablename__ = "message_templates"
    __table_args__ = (UniqueConstraint("account_id", "name", "language"),
                      Index("ix_message_templates_org_status", "organization_id", "status"))

    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("whatsapp_accounts.id", ondelete="CASCADE"),
                                            index=True)
    meta_template_id: Mapped[str | None] = mapped_column(String(64), index=True)  # Meta's id (hsm_id)
    name: Mapped[str] = mapped_column(String(512))
    language: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(16))  # MARKETING | UTILITY | AUTHENTICATION
    previous_category: Mapped[str | None] = mapped_column(String(16))  # before Meta re-categorized it
    parameter_format: Mapped[str] = mapped_column(String(10), default=POSITIONAL)  # positional | named
    components: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20), default=SUBMITTING)
    rejected_reason: Mapped[str | None] = mapped_column(String(40))  # Meta's reason code, e.g. INVALID_FORMAT
    status_detail: Mapped[str | None] = mapped_column(Text)  # Meta's explanation (rejection_info, pause info)
    quality: Mapped[str] = mapped_column(String(10), default="UNKNOWN")  # GREEN | YELLOW | RED | UNKNOWN
    # Meta's time of the last status/category/quality webhook applied: older ones arriving late are ignored
    status_event_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
