"""Raw inbound webhook events: one row per message, status or other change Meta told us about.

Stored before anything else happens, unique by `dedupe_key`, so a replayed or duplicated delivery adds
nothing; the routing job reads them back. A row that fails routing keeps its attempts and last error.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from softdukan.kit.db import BigId, TenantModel, UTCDateTime

# kind
MESSAGE, STATUS, PAYMENT, ERRORS, CHANGE = "message", "status", "payment", "errors", "change"
# state
PENDING, ROUTED, FAILED = "pending", "routed", "failed"


class InboundEvent(TenantModel):
    __tablename__ = "inbound_events"
    # unique per account: another tenant's webhooks (signed with their own app secret) can never claim a key
    # and so swallow this account's events as "duplicates"
    __table_args__ = (Index("ix_inbound_events_state", "state", "received_at"),
                      UniqueConstraint("account_id", "dedupe_key"))

    # no index of its own: the unique (account_id, dedupe_key) index leads with it (cascade deletes use that one)
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("whatsapp_accounts.id", ondelete="CASCADE"))
    # message: msg:<wamid> · status: st:<wamid>:<status> · payment: pay:<id>:<status>:<ts> · others: hashed
    dedupe_key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(12))
    field: Mapped[str] = mapped_column(String(64))  # Meta's change field: messages, account_update, …
    phone_number_id: Mapped[str | None] = mapped_column(String(64))  # Meta's id (messages field)
    wamid: Mapped[str | None] = mapped_column(String(200), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)  # the item with what routing needs around it
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(10), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(String(300))  # what routing did, in a line
    routed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
