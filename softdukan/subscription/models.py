"""An organization's subscription: one row per organization, moved through the states of the billing reference
(§2): trialing → active (paid, one year) → past_due (renewal unpaid, grace) → canceled; trialing → trial_expired
or trial_canceled; no_trial when the business had its trial already. Entitlements derive from it
(`entitlements.py`).

`TrialClaim` makes "one trial per business" a unique key: the owner's e-mail, the GSTIN and each WhatsApp number
are claimed by the first organization that trials with them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from softdukan.kit.db import BigId, Model, TenantModel

TRIALING, ACTIVE, PAST_DUE, CANCELED = "trialing", "active", "past_due", "canceled"
TRIAL_EXPIRED, TRIAL_CANCELED, NO_TRIAL = "trial_expired", "trial_canceled", "no_trial"
STATUSES = (TRIALING, ACTIVE, PAST_DUE, CANCELED, TRIAL_EXPIRED, TRIAL_CANCELED, NO_TRIAL)
ENTITLED = (TRIALING, ACTIVE, PAST_DUE)  # past due keeps access through the grace period


class Subscription(TenantModel):
    __tablename__ = "subscriptions"
    __table_args__ = (
        UniqueConstraint("organization_id"),
        CheckConstraint("status IN ('trialing', 'active', 'past_due', 'canceled', 'trial_expired', "
                        "'trial_canceled', 'no_trial')", name="status"),
    )

    plan_id: Mapped[int] = mapped_column(BigId, ForeignKey("plans.id", ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(String(16))
    status_reason: Mapped[str] = mapped_column(String(300), default="")  # why, in words a customer understands
    trial_started_at: Mapped[datetime | None]
    trial_ends_at: Mapped[datetime | None]
    trial_reminded_at: Mapped[datetime | None]  # the "trial ends soon" e-mail, sent once
    current_period_start: Mapped[datetime | None]
    current_period_end: Mapped[datetime | None]
    cancel_at_period_end: Mapped[bool] = mapped_column(Boolean, default=False)
    canceled_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    grace_ends_at: Mapped[datetime | None]
    addons: Mapped[dict[str, Any]] = mapped_column(default=dict)  # add-on code → quantity, for the paid period
    renewal_reminded_at: Mapped[datetime | None]  # the renewal reminders of the current period (lifecycle.py)
    renewal_last_reminder_days: Mapped[int | None] = mapped_column(Integer)  # which reminder went out last
    updated_at: Mapped[datetime | None]


class TrialClaim(Model):
    __tablename__ = "trial_claims"
    __table_args__ = (UniqueConstraint("kind", "value"),
                      CheckConstraint("kind IN ('email', 'gstin', 'phone')", name="kind"))

    kind: Mapped[str] = mapped_column(String(8))
    value: Mapped[str] = mapped_column(String(120))  # normalized: lower-case e-mail, GSTIN, E.164 number
    organization_id: Mapped[int] = mapped_column(BigId, ForeignKey("organizations.id", ondelete="CASCADE"),
                                                 index=True)


class SubscriptionEvent(TenantModel):
    """What happened to the subscription, for the customer's history and staff (append-only)."""

    __tablename__ = "subscription_events"

    kind: Mapped[str] = mapped_column(String(40))  # trial.started, trial.expired, trial.canceled, …
    detail: Mapped[str] = mapped_column(String(300), default="")
    amount_paise: Mapped[int | None] = mapped_column(BigInteger)


ORDER_CREATED, ORDER_PAYING, ORDER_PAID, ORDER_FAILED = "created", "paying", "paid", "failed"
NEW, RENEWAL, UPGRADE, ADDONS = "new", "renewal", "upgrade", "addons"


class PlanOrder(TenantModel):
    """A purchase of a plan year (new or renewal) or a mid-year upgrade, with its add-ons and setup fees: priced
    (lines, GST by place of supply), then a Razorpay order, then — on the verified payment — invoiced and applied,
    once (`purchase.py`)."""

    __tablename__ = "plan_orders"
    __table_args__ = (
        CheckConstraint("state IN ('created', 'paying', 'paid', 'failed')", name="state"),
        CheckConstraint("kind IN ('new', 'renewal', 'upgrade', 'addons')", name="kind"),
        CheckConstraint("total_paise = taxable_paise + cgst_paise + sgst_paise + igst_paise", name="total"),
    )

    plan_id: Mapped[int] = mapped_column(BigId, ForeignKey("plans.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(8))
    lines: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [{code, kind, description, quantity, taxable_paise}]
    addons: Mapped[dict[str, Any]] = mapped_column(default=dict)  # what the period will carry
    taxable_paise: Mapped[int] = mapped_column(BigInteger)
    cgst_paise: Mapped[int] = mapped_column(BigInteger, default=0)
    sgst_paise: Mapped[int] = mapped_column(BigInteger, default=0)
    igst_paise: Mapped[int] = mapped_column(BigInteger, default=0)
    total_paise: Mapped[int] = mapped_column(BigInteger)
    place_of_supply: Mapped[str] = mapped_column(String(2))
    period_start: Mapped[datetime]
    period_end: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(8), default=ORDER_CREATED)
    razorpay_order_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    razorpay_payment_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    invoice_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("billing_documents.id", ondelete="RESTRICT"))
    failure: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[str] = mapped_column(String(254), default="")
    paid_at: Mapped[datetime | None]
