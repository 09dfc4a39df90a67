"""Refund requests (policy clauses 3, 4 and 7): what the customer asked for (the transaction and the reason), what
the policy engine found (the charge's class, the clause, the verified issues it weighed, the policy version in
force), and each step after, as history rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from softdukan.kit.db import BigId, TenantModel

# the states of the billing reference (§3): submitted → under_review ⇄ needs_info → approved | rejected;
# approved → processing (Razorpay refund created) → refunded | failed; an open request may be withdrawn.
# The policy engine moves a submitted request at once: to rejected citing clause 3, or to under_review (clause 4).
SUBMITTED, NEEDS_INFO, UNDER_REVIEW = "submitted", "needs_info", "under_review"
APPROVED, REJECTED, PROCESSING = "approved", "rejected", "processing"
REFUNDED, FAILED, WITHDRAWN = "refunded", "failed", "withdrawn"
STATES = (SUBMITTED, NEEDS_INFO, UNDER_REVIEW, APPROVED, REJECTED, PROCESSING, REFUNDED, FAILED, WITHDRAWN)
OPEN = (SUBMITTED, NEEDS_INFO, UNDER_REVIEW, APPROVED, PROCESSING)
PAYING_OUT = (APPROVED, PROCESSING, REFUNDED)  # what counts against what is left to refund of a payment
CHANNELS = ("dashboard", "api", "email")


class RefundRequest(TenantModel):
    __tablename__ = "refund_requests"
    __table_args__ = (
        CheckConstraint("state IN ('submitted', 'needs_info', 'under_review', 'approved', 'rejected', "
                        "'processing', 'refunded', 'failed', 'withdrawn')", name="state"),
        CheckConstraint("channel IN ('dashboard', 'api', 'email')", name="channel"),
        CheckConstraint("paid_paise > 0", name="paid"),
        CheckConstraint("approved_paise IS NULL OR (approved_paise > 0 AND approved_paise <= paid_paise)",
                        name="approved_within_paid"),
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
    # the staff decision: who, when, why, under which policy version, and how much (paise, GST included) with the
    # taxable part and tax heads the credit note will carry
    decided_by: Mapped[str | None] = mapped_column(String(254))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(String(2000))
    decision_policy_version: Mapped[int | None] = mapped_column(Integer)
    approved_paise: Mapped[int | None] = mapped_column(BigInteger)
    approved_taxable_paise: Mapped[int | None] = mapped_column(BigInteger)
    approved_tax: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # {"cgst": …, "sgst": …, "igst": …}
    credits_units: Mapped[int | None] = mapped_column(BigInteger)  # wallet credit taken back (top-ups)
    # the payout: attempt n uses X-Refund-Idempotency softdukan-refund-{id}-{n}; the ledger's approval posting
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    approval_transaction_id: Mapped[int | None] = mapped_column(BigId)
    razorpay_refund_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    refunded_at: Mapped[datetime | None]
    credit_note_id: Mapped[int | None] = mapped_column(BigId)
    failure: Mapped[str | None] = mapped_column(String(500))


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
