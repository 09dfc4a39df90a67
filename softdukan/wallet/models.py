"""Wallet tables: rate cards (Meta's price per category per market, effective-dated), the platform's markup per
plan, one charge row per billable message (its hold, what it was held for and what it cost), and each
organization's wallet settings. Prices are integers in wcc units of ₹0.0001 (README rule 5)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from softdukan.kit.db import BigId, Model

CATEGORIES = ("marketing", "utility", "authentication", "authentication_international", "service")
# charge states of a message
HELD, CHARGED, FREE, RELEASED, EXPIRED, UNCOLLECTED = "held", "charged", "free", "released", "expired", "uncollected"
DEFAULT_LOW_BALANCE_UNITS = 200_000  # ₹20: below the welcome credit, so a new organization starts without an alert


class RateCard(Model):
    """Meta's rates for one market from `effective_from` until `effective_until` (exclusive; open-ended if NULL).
    Rates change on quarter starts; cards of one market never overlap (checked by `rates.add_card`)."""

    __tablename__ = "rate_cards"
    __table_args__ = (
        UniqueConstraint("market", "effective_from"),
        CheckConstraint("marketing >= 0 AND utility >= 0 AND authentication >= 0 "
                        "AND authentication_international >= 0 AND service >= 0", name="non_negative"),
        CheckConstraint("effective_until IS NULL OR effective_until > effective_from", name="dates"),
    )

    market: Mapped[str] = mapped_column(String(8))
    effective_from: Mapped[date] = mapped_column(Date)
    effective_until: Mapped[date | None] = mapped_column(Date)
    marketing: Mapped[int] = mapped_column(BigInteger)
    utility: Mapped[int] = mapped_column(BigInteger)
    authentication: Mapped[int] = mapped_column(BigInteger)
    authentication_international: Mapped[int] = mapped_column(BigInteger)
    service: Mapped[int] = mapped_column(BigInteger, default=0)
    note: Mapped[str] = mapped_column(String(300), default="")
    created_by: Mapped[str] = mapped_column(String(200), default="")


class RateMarkup(Model):
    """The platform's markup on Meta's rate, per plan and category, in wcc units per message."""

    __tablename__ = "rate_markups"
    __table_args__ = (UniqueConstraint("plan", "category"), CheckConstraint("units >= 0", name="non_negative"))

    plan: Mapped[str] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(40))
    units: Mapped[int] = mapped_column(BigInteger)


class MessageCharge(Model):
    """What one billable message holds and costs: written with its hold before the message leaves, resolved by
    the first status that settles it. Usage by month, category and country is summed from these rows (the
    ledger holds the money; `ledger check` and the reconciliation compare both)."""

    __tablename__ = "message_charges"
    __table_args__ = (
        CheckConstraint("held_units >= 0 AND (charged_units IS NULL OR charged_units >= 0)", name="non_negative"),
        Index("ix_message_charges_usage", "organization_id", "charged_at"),
        Index("ix_message_charges_broadcast", "broadcast_id"),
        Index("ix_message_charges_decided", "organization_id", "state", "decision"),
    )

    organization_id: Mapped[int] = mapped_column(BigId, ForeignKey("organizations.id", ondelete="CASCADE"))
    message_id: Mapped[int] = mapped_column(BigId, ForeignKey("messages.id", ondelete="CASCADE"), unique=True)
    hold_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("ledger_holds.id"), unique=True)
    broadcast_id: Mapped[int | None] = mapped_column(BigId)
    market: Mapped[str] = mapped_column(String(8))
    category: Mapped[str] = mapped_column(String(40))  # held for; replaced by the billed category on settlement
    held_units: Mapped[int] = mapped_column(BigInteger)
    charged_units: Mapped[int | None] = mapped_column(BigInteger)
    shortfall_units: Mapped[int] = mapped_column(BigInteger, default=0)  # billed above the hold: not collected
    state: Mapped[str] = mapped_column(String(12), default=HELD)
    pricing_model: Mapped[str | None] = mapped_column(String(8))
    pricing_type: Mapped[str | None] = mapped_column(String(40))
    decision: Mapped[str | None] = mapped_column(String(8))  # charge | free | release: decided, settled in batches
    charged_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]


class WalletSettings(Model):
    """Per organization: the low-balance alert threshold and when it last fired (re-armed by a recharge)."""

    __tablename__ = "wallet_settings"

    organization_id: Mapped[int] = mapped_column(BigId, ForeignKey("organizations.id", ondelete="CASCADE"),
                                                 unique=True)
    low_balance_units: Mapped[int] = mapped_column(BigInteger, default=DEFAULT_LOW_BALANCE_UNITS)
    low_alert_sent_at: Mapped[datetime | None]
    settle_queued: Mapped[bool] = mapped_column(default=False)  # a settlement job is queued for its decided charges


# recharge states
CREATED, PAYING, CREDITED, FAILED = "created", "paying", "credited", "failed"


class Topup(Model):
    """One "Add credits": the amount, its GST, the Razorpay order and payment, the invoice. Credited once, on the
    verified `payment.captured` / `order.paid` webhook or a server-side fetch of the payment, whichever is first
    (a unique ledger key per payment and a guarded state change)."""

    __tablename__ = "wallet_topups"
    __table_args__ = (
        CheckConstraint("taxable_paise > 0 AND total_paise = taxable_paise + cgst_paise + sgst_paise + igst_paise",
                        name="amounts"),
        Index("ix_wallet_topups_org", "organization_id", "id"),
    )

    organization_id: Mapped[int] = mapped_column(BigId, ForeignKey("organizations.id", ondelete="RESTRICT"))
    credits_units: Mapped[int] = mapped_column(BigInteger)  # what the wallet gets (₹0.0001 units)
    taxable_paise: Mapped[int] = mapped_column(BigInteger)
    cgst_paise: Mapped[int] = mapped_column(BigInteger, default=0)
    sgst_paise: Mapped[int] = mapped_column(BigInteger, default=0)
    igst_paise: Mapped[int] = mapped_column(BigInteger, default=0)
    total_paise: Mapped[int] = mapped_column(BigInteger)
    place_of_supply: Mapped[str] = mapped_column(String(2))
    state: Mapped[str] = mapped_column(String(10), default=CREATED)
    razorpay_order_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    razorpay_payment_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    invoice_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("billing_documents.id"))
    created_by: Mapped[str] = mapped_column(String(254), default="")
    failure: Mapped[str | None] = mapped_column(String(500))
    credited_at: Mapped[datetime | None]


class Reconciliation(Model):
    """One run of the scheduled reconciliation: what it found (empty: the books agree). Staff are e-mailed when a
    run finds something the previous run did not."""

    __tablename__ = "ledger_reconciliations"

    findings: Mapped[list[str]] = mapped_column(default=list)
    ok: Mapped[bool] = mapped_column(default=True)
    alerted: Mapped[bool] = mapped_column(default=False)
