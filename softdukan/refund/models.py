"""Refund requests (policy clauses 3, 4 and 7): what the customer asked for (the transaction and the reason), what
the policy engine found (the charge's class, the clause, the verified issues it weighed, the policy version in
force), and each step after, as history rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from softdukan.kit.db import BigId, TenantModel

REFUSED, UNDER_REVIEW, APPROVED, REJECTED = "refused", "under_review", "approved", "rejected"
REFUNDING, REFUNDED, FAILED = "refunding", "refunded", "failed"
OPEN = (UNDER_REVIEW, APPROVED, REFUNDING)
CHANNELS = ("dashboard", "api", "email")


class RefundRequest(TenantModel):
    __tablename__ = "refund_requests"
    __table_args__ = (
        CheckConstraint("state IN ('refused', 'under_review', 'approved', 'rejected', 'refunding', 'refunded', "
                        "'failed')", name="state"),
        CheckConstraint("channel IN ('dashboard', 'api', 'email')", name="channel"),
        CheckConstraint("paid_paise > 0", name="paid"),
    )

    transaction_ref: Mapped[str] = mapped_column(String(40))  # as the customer named it: pay_… or an invoice number
    source: Mapped[str] = mapped_column(String(12))  # plan_order | topup
    source_id: Mapped[int] = mapped_column(BigId)
    payment_id: Mapped[str] = mapped_column(String(40), index=True)
    paid_at: Mapped[datetime | None]
    paid_paise: Mapped[int] = mapped_column(BigInteger)
    charge_class: Mapped[str] = mapped_column(String(12))  # plan | credits | addon | integration | setup_fee
    reason: Mapped[str] = mapped_column(String(2000))
    ticket_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)  # the tickets the customer points to
    channel: Mapped[str] = mapped_column(String(10))
    submitted_by: Mapped[str] = mapped_column(String(254), default="")
    state: Mapped[str] = mapped_column(String(12))
    clause: Mapped[str] = mapped_column(String(4))  # the policy clause the engine applied: "3" or "4"
    reasoning: Mapped[str] = mapped_column(String(2000))
    verified_issues: Mapped[list[Any]] = mapped_column(JSON, default=list)  # what clause 4 weighed
    policy_version: Mapped[int] = mapped_column(Integer)  # the refund policy in force at submission
    updated_at: Mapped[datetime | None]


class RefundEvent(TenantModel):
    """A step of a request (submitted, refused, approved, rejected, refunded …) with its reason, who took it and the
    policy version in force then (append-only)."""

    __tablename__ = "refund_events"

    request_id: Mapped[int] = mapped_column(BigId, ForeignKey("refund_requests.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(String(2000), default="")
    actor: Mapped[str] = mapped_column(String(254), default="")
    policy_version: Mapped[int] = mapped_column(Integer)
    amount_paise: Mapped[int | None] = mapped_column(BigInteger)
