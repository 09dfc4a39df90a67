"""Broadcasts: one approved template sent to an audience, each recipient a small state machine (DESIGN §5).

A broadcast is written as a draft (audience, template, variable mapping), then launched now or at a time. At
launch its audience is snapshotted into `broadcast_recipients`: one row per WhatsApp number (unique per broadcast,
so a number is never queued twice), with contacts who can't receive it already `skipped` with the reason.

Recipient states (softdukan/broadcast/states.py):

    pending ──claim (lease)──▶ sending ──200 + wamid──▶ sent
       ▲  ▲                      │  ├──refused (permanent)──▶ failed (reason)
       │  └──rate limit, 131049──┘  └──answer lost──▶ stays `sending` until the status webhook (our message id in
       │                                               biz_opaque_callback_data) or the confirm timeout resolves it
    waiting (messaging-limit tier: the portfolio's 24-hour allowance is used up; due again when it frees)
    skipped (opted out, blocked, invalid, duplicate, missing variable) · cancelled (the broadcast was cancelled)

Each send is a `messages` row (so it shows in the inbox and its status webhooks move it like any message);
`message_id` points at the latest attempt.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from softdukan.kit.db import BigId, TenantModel, UTCDateTime, utcnow


class Broadcast(TenantModel):
    __tablename__ = "broadcasts"
    __table_args__ = (Index("ix_broadcasts_org_created", "organization_id", "created_at"),)

    name: Mapped[str] = mapped_column(String(120))
    phone_number_id: Mapped[int] = mapped_column(BigId, ForeignKey("phone_numbers.id", ondelete="CASCADE"))
    template_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("message_templates.id", ondelete="SET NULL"),
                                                    index=True)
    template_name: Mapped[str] = mapped_column(String(512))  # kept if the template is deleted later
    template_language: Mapped[str] = mapped_column(String(16))
    template_category: Mapped[str] = mapped_column(String(16))  # when launched; a re-categorization pauses it
    # {"values": {"body.1": "…"}, "mapping": {"body.2": {"source", "value", "fallback"}}}: template/sending.py
    variables: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # {"kind": "segment", "segment_id": 3} | {"kind": "tags", "tags": ["vip"], "match": "any"|"all"}
    # | {"kind": "list", "numbers": ["+9198…", …]} | {"kind": "outcome", …} (see broadcast/audience.py)
    audience: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(12), default="draft")
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # UTC; shown in the organization's zone
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Kolkata")  # the zone it was scheduled in
    launched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    snapshot_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # audience frozen (recipients written)
    snapshot_cursor: Mapped[int] = mapped_column(BigId, default=0)  # last contact id snapshotted (resumable)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # completed or cancelled
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pause_reason: Mapped[str | None] = mapped_column(String(40))  # user | template_paused | template_recategorized …
    notice: Mapped[str | None] = mapped_column(Text)  # what the dashboard says about the latest pause or stop
    breakdown: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # snapshot counts by state and reason
    estimate_units: Mapped[int] = mapped_column(Integer, default=0)  # 1/10,000 rupee, at launch
    retry_days_131049: Mapped[int] = mapped_column(Integer, default=2)  # Meta held it back: try again next day(s)
    # the single dispatcher: whoever set this lease (a guarded UPDATE) sends; others leave
    dispatch_lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_membership_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("memberships.id", ondelete="SET NULL"))
    created_by_label: Mapped[str] = mapped_column(String(254), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class BroadcastRecipient(TenantModel):
    __tablename__ = "broadcast_recipients"
    __table_args__ = (UniqueConstraint("broadcast_id", "wa_id"),
                      # organization first, and no index on organization_id alone: a planner without statistics
                      # (SQLite; PostgreSQL before it analyzes a freshly snapshotted audience) chose that one for
                      # the per-chunk reads and walked every recipient of the organization
                      Index("ix_broadcast_recipients_due", "organization_id", "broadcast_id", "state",
                            "next_attempt_at"),
                      Index("ix_broadcast_recipients_contact", "contact_id"))

    organization_id: Mapped[int] = mapped_column(  # indexed by ix_broadcast_recipients_due's first column
        BigId, ForeignKey("organizations.id", ondelete="CASCADE"))
    broadcast_id: Mapped[int] = mapped_column(BigId, ForeignKey("broadcasts.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("contacts.id", ondelete="SET NULL"))
    wa_id: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(String(40))  # skip / fail / wait reason code (states.py)
    detail: Mapped[str | None] = mapped_column(String(500))  # Meta's title and details, or ours
    error_code: Mapped[int | None] = mapped_column(Integer)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # sends tried (a claim counts one)
    deferrals: Mapped[int] = mapped_column(Integer, default=0)  # 131049 next-day retries used
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # due from (pending/waiting)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # sending: the claim's lease
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # sending: when the attempt began
    message_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("messages.id", ondelete="SET NULL"),
                                                   index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
