"""The sandbox's own "Razorpay": merchants (API keys, webhook settings), orders, payments, refunds and the
webhook deliveries it sends. Not tenant tables: the sandbox stands outside the product. Money in paise."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from softdukan.kit.db import BigId, Model, UTCDateTime


def _retry_schedule() -> list[float]:
    # Razorpay retries non-2xx answers with exponential backoff for 24 hours
    return [10.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0, 14400.0, 28800.0, 28800.0]


class SandboxRzpMerchant(Model):
    """A Razorpay account: its API key pair, its webhook URL and secret (set in Razorpay's dashboard)."""

    __tablename__ = "sandbox_rzp_merchants"

    key_id: Mapped[str] = mapped_column(String(64), unique=True)
    key_secret: Mapped[str] = mapped_column(String(200))
    account_id: Mapped[str] = mapped_column(String(32))  # acc_…, in every webhook body
    name: Mapped[str] = mapped_column(String(200), default="SoftDukan")
    webhook_url: Mapped[str | None] = mapped_column(Text)  # None: no webhooks are sent
    webhook_secret: Mapped[str] = mapped_column(String(200))
    retry_schedule_seconds: Mapped[list[float]] = mapped_column(JSON, default=_retry_schedule)
    webhook_timeout_seconds: Mapped[float] = mapped_column(default=5.0)  # Razorpay wants 2xx within 5 s


class SandboxRzpOrder(Model):
    __tablename__ = "sandbox_rzp_orders"

    order_id: Mapped[str] = mapped_column(String(32), unique=True)  # order_…
    merchant_pk: Mapped[int] = mapped_column(BigId, ForeignKey("sandbox_rzp_merchants.id", ondelete="CASCADE"),
                                             index=True)
    amount: Mapped[int] = mapped_column(Integer)
    amount_paid: Mapped[int] = mapped_column(Integer, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="INR")
    receipt: Mapped[str | None] = mapped_column(String(40))
    notes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="created")  # created | attempted | paid
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class SandboxRzpPayment(Model):
    __tablename__ = "sandbox_rzp_payments"

    payment_id: Mapped[str] = mapped_column(String(32), unique=True)  # pay_…
    order_pk: Mapped[int] = mapped_column(BigId, ForeignKey("sandbox_rzp_orders.id", ondelete="CASCADE"), index=True)
    merchant_pk: Mapped[int] = mapped_column(BigId, ForeignKey("sandbox_rzp_merchants.id", ondelete="CASCADE"),
                                             index=True)
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="INR")
    # created | authorized | captured | refunded | failed
    status: Mapped[str] = mapped_column(String(16), default="created")
    method: Mapped[str] = mapped_column(String(16), default="upi")
    captured: Mapped[bool] = mapped_column(Boolean, default=False)
    amount_refunded: Mapped[int] = mapped_column(Integer, default=0)
    refund_status: Mapped[str | None] = mapped_column(String(16))  # None | partial | full
    fail_refunds: Mapped[bool] = mapped_column(Boolean, default=False)  # control: its refunds fail at the bank
    email: Mapped[str] = mapped_column(String(200), default="customer@example.com")
    contact: Mapped[str] = mapped_column(String(20), default="+919876543210")
    rrn: Mapped[str | None] = mapped_column(String(20))
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_description: Mapped[str | None] = mapped_column(String(300))
    error_reason: Mapped[str | None] = mapped_column(String(64))
    captured_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SandboxRzpRefund(Model):
    __tablename__ = "sandbox_rzp_refunds"
    # X-Refund-Idempotency: the same key (per merchant) returns the same refund
    __table_args__ = (UniqueConstraint("merchant_pk", "idempotency_key"),)

    refund_id: Mapped[str] = mapped_column(String(32), unique=True)  # rfnd_…
    payment_pk: Mapped[int] = mapped_column(BigId, ForeignKey("sandbox_rzp_payments.id", ondelete="CASCADE"),
                                            index=True)
    merchant_pk: Mapped[int] = mapped_column(BigId, ForeignKey("sandbox_rzp_merchants.id", ondelete="CASCADE"))
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="INR")
    receipt: Mapped[str | None] = mapped_column(String(40))
    notes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | processed | failed
    speed_requested: Mapped[str] = mapped_column(String(16), default="normal")
    speed_processed: Mapped[str | None] = mapped_column(String(16))
    arn: Mapped[str | None] = mapped_column(String(32))
    idempotency_key: Mapped[str | None] = mapped_column(String(100))


class SandboxRzpWebhookDelivery(Model):
    """One event POSTed to the merchant's webhook URL; a replay is a new delivery of the same event id and body."""

    __tablename__ = "sandbox_rzp_webhook_deliveries"

    event_id: Mapped[str] = mapped_column(String(32), index=True)  # X-Razorpay-Event-Id
    merchant_pk: Mapped[int] = mapped_column(BigId, ForeignKey("sandbox_rzp_merchants.id", ondelete="CASCADE"),
                                             index=True)
    event: Mapped[str] = mapped_column(String(64))  # payment.captured, …
    entity_id: Mapped[str | None] = mapped_column(String(32), index=True)  # the order, payment or refund it is about
    body: Mapped[str] = mapped_column(Text)  # the exact bytes that are signed
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending | delivered | dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    url: Mapped[str | None] = mapped_column(Text)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
