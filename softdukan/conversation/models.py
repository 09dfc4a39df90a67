"""Conversations (one per business number and contact) and their messages, both directions.

A Message is written by inbound routing (direction "in", idempotent by `wamid`) or by the send path
(direction "out": status "pending" → "accepted" with the wamid Meta returned); status webhooks then move
it forward monotonically (see `conversation.status`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from softdukan.kit.db import BigId, TenantModel, UTCDateTime, utcnow

INBOUND, OUTBOUND = "in", "out"
# Message.origin: None for messages of the Cloud API (webhooks, our sends); coexistence adds these two
ORIGIN_HISTORY = "history"  # imported from the WhatsApp Business app's chat history: never opens the 24-h window
ORIGIN_BUSINESS_APP = "business_app"  # sent by the business from the WhatsApp Business app (smb_message_echoes)
MEDIA_PLACEHOLDER = "media_placeholder"  # a history media message whose content arrives in a later webhook


class Conversation(TenantModel):
    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("phone_number_id", "contact_id"),
                      Index("ix_conversations_org_last", "organization_id", "last_message_at"))

    phone_number_id: Mapped[int] = mapped_column(BigId, ForeignKey("phone_numbers.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(BigId, ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    # Customer service window (reference §7.8): 24 h from the customer's latest message.
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    csw_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Free entry point (§7.9): a message through a Click-to-WhatsApp ad or Page CTA makes the business's reply
    # within 24 h free and opens 72 h of free messages from that reply.
    fep_referral_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # latest referral message
    fep_referral: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    fep_reply_by: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a reply before this opens the FEP window
    fep_opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fep_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unread_count: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Message(TenantModel):
    __tablename__ = "messages"
    # wamids are unique per organization: a tenant replaying someone else's wamid can't block or touch theirs
    __table_args__ = (Index("ix_messages_conversation_time", "conversation_id", "occurred_at"),
                      UniqueConstraint("organization_id", "wamid"))

    conversation_id: Mapped[int] = mapped_column(BigId, ForeignKey("conversations.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(BigId, ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    phone_number_id: Mapped[int] = mapped_column(BigId, ForeignKey("phone_numbers.id", ondelete="CASCADE"),
                                                 index=True)
    direction: Mapped[str] = mapped_column(String(3))  # in | out
    wamid: Mapped[str | None] = mapped_column(String(200))  # None until Meta accepted an outbound one
    type: Mapped[str] = mapped_column(String(20))  # text, image, …, template (outbound), unsupported
    content: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    preview: Mapped[str] = mapped_column(String(300), default="")  # one line for lists and notifications
    # in: received | out: pending < accepted < sent < delivered < read < played; failed is terminal
    status: Mapped[str] = mapped_column(String(12))
    status_rank: Mapped[int] = mapped_column(Integer, default=0)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)  # in: Meta's timestamp; out: when written
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    played_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error_code: Mapped[int | None] = mapped_column(Integer)
    error_title: Mapped[str | None] = mapped_column(String(300))
    error_details: Mapped[str | None] = mapped_column(Text)
    errors: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)  # every error object Meta sent
    context_wamid: Mapped[str | None] = mapped_column(String(200))  # the message this one replies to
    forwarded: Mapped[bool] = mapped_column(Boolean, default=False)
    frequently_forwarded: Mapped[bool] = mapped_column(Boolean, default=False)
    referral: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # a reaction message points at its target; the target shows the customer's latest reaction
    reaction_to_wamid: Mapped[str | None] = mapped_column(String(200), index=True)
    reaction_emoji: Mapped[str | None] = mapped_column(String(32))
    pricing_model: Mapped[str | None] = mapped_column(String(8))
    pricing_type: Mapped[str | None] = mapped_column(String(32))  # regular | free_customer_service | …
    pricing_category: Mapped[str | None] = mapped_column(String(40))
    billable: Mapped[bool | None] = mapped_column(Boolean)
    meta_conversation_id: Mapped[str | None] = mapped_column(String(100))
    biz_opaque_callback_data: Mapped[str | None] = mapped_column(String(512))
    origin: Mapped[str | None] = mapped_column(String(16))  # None | history | business_app
    sender_membership_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("memberships.id", ondelete="SET NULL"))  # outbound: who sent it (None: API, automation)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def imported(self) -> bool:
        """Imported from the WhatsApp Business app's history (coexistence): shown, but it never opened a window."""
        return self.origin == ORIGIN_HISTORY
