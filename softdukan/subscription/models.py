"""An organization's subscription: one row per organization, moved through the states of the billing reference
(§2): trialing → active (paid, one year) → past_due (renewal unpaid, grace) → canceled; trialing → trial_expired
or trial_canceled; no_trial when the business had its trial already. Entitlements derive from it
(`entitlements.py`).

`TrialClaim` makes "one trial per business" a unique key: the owner's e-mail, the GSTIN and each WhatsApp number
are claimed by the first organization that trials with them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
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
