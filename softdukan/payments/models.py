"""Payment-provider webhooks as received: one row per event, unique by the provider's event id, so a retried or
replayed delivery adds nothing. Stored before anything acts on it; the processing job reads it back and keeps
its attempts and last error. Not a tenant row: the handlers find the organization from what the event names."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from softdukan.kit.db import Model, UTCDateTime

RAZORPAY = "razorpay"


class PaymentEvent(Model):
    __tablename__ = "payment_events"
    __table_args__ = (UniqueConstraint("provider", "event_id"), Index("ix_payment_events_type", "event_type"))

    provider: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(100))  # X-Razorpay-Event-Id
    event_type: Mapped[str] = mapped_column(String(100))  # payment.captured, order.paid, …
    raw_body: Mapped[str] = mapped_column(Text)  # the exact JSON received (its signature can be checked again)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)  # the last failure (kept for staff), or why it was skipped
