"""Outgoing e-mail outbox: every message is a row first, sent by a job."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from softdukan.kit.db import Model


class OutboundEmail(Model):
    __tablename__ = "outbound_emails"

    to_address: Mapped[str] = mapped_column(String(254), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="queued")  # queued | sent | mailbox | failed
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
