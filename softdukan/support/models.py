"""Support tickets (refund policy clauses 4 and 6): a customer's ticket, its conversation with staff, and staff's
verification of a technical issue (its period and impact), which the refund rules rely on.

Each organization numbers its tickets 1, 2, 3 …: the number is taken under a lock on the organization's row and
the database keeps it unique per organization. A verified ticket always carries who verified it, when, the period
(its end open while the issue is ongoing) and the impact; the database refuses any other combination.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from softdukan.kit.db import BigId, TenantModel, UTCDateTime, utcnow

TECHNICAL, BILLING, OTHER = "technical", "billing", "other"
CATEGORIES: dict[str, str] = {TECHNICAL: "Technical issue", BILLING: "Billing", OTHER: "Other"}

OPEN, WAITING_ON_CUSTOMER, WAITING_ON_STAFF = "open", "waiting_on_customer", "waiting_on_staff"
RESOLVED, CLOSED = "resolved", "closed"
STATUSES: dict[str, str] = {OPEN: "Open", WAITING_ON_CUSTOMER: "Waiting on customer",
                            WAITING_ON_STAFF: "Waiting on support", RESOLVED: "Resolved", CLOSED: "Closed"}

CUSTOMER, STAFF = "customer", "staff"

SUBJECT_MAX, BODY_MAX, IMPACT_MAX = 200, 5000, 2000


def _in(column: str, values: Iterable[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class SupportTicket(TenantModel):
    __tablename__ = "support_tickets"
    __table_args__ = (
        UniqueConstraint("organization_id", "number"),
        CheckConstraint(_in("category", CATEGORIES), name="category"),
        CheckConstraint(_in("status", STATUSES), name="status"),
        CheckConstraint("issue_ended_at IS NULL OR issue_ended_at >= issue_started_at", name="issue_period"),
        CheckConstraint("(verified_at IS NULL AND issue_started_at IS NULL AND issue_ended_at IS NULL "
                        "AND impact IS NULL) OR (verified_at IS NOT NULL AND issue_started_at IS NOT NULL "
                        "AND impact IS NOT NULL AND category = 'technical')", name="verification"),
        Index("ix_support_tickets_status_activity", "status", "last_activity_at"),
    )

    number: Mapped[int] = mapped_column(Integer)  # 1, 2, 3 … within the organization
    category: Mapped[str] = mapped_column(String(12))
    subject: Mapped[str] = mapped_column(String(SUBJECT_MAX))
    status: Mapped[str] = mapped_column(String(20), default=OPEN)
    # who opened it: a member (None once the user is deleted, or when an API key opened it) and their label
    opened_by_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"),
                                                          index=True)
    opened_by_label: Mapped[str] = mapped_column(String(254))
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None]
    # clause 4: "continuous technical issues … verified by support"
    verified_at: Mapped[datetime | None]
    verified_by_staff_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff_users.id",
                                                                               ondelete="SET NULL"))
    issue_started_at: Mapped[datetime | None]
    issue_ended_at: Mapped[datetime | None]  # None while the issue is ongoing
    impact: Mapped[str | None] = mapped_column(Text)


class SupportTicketMessage(TenantModel):
    __tablename__ = "support_ticket_messages"
    __table_args__ = (
        CheckConstraint(_in("author_type", (CUSTOMER, STAFF)), name="author_type"),
    )

    ticket_id: Mapped[int] = mapped_column(BigId, ForeignKey("support_tickets.id", ondelete="CASCADE"), index=True)
    author_type: Mapped[str] = mapped_column(String(8))
    author_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    author_staff_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff_users.id", ondelete="SET NULL"))
    author_label: Mapped[str] = mapped_column(String(254))  # the member's e-mail or key prefix; staff's name
    body: Mapped[str] = mapped_column(Text)
