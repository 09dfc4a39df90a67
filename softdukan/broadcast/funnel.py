"""The funnel of a broadcast: queued → sent → delivered → read → replied, failed and skipped by reason, waiting
for the messaging limit; and the rows of the per-recipient table."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from softdukan.broadcast import states as s
from softdukan.broadcast.models import Broadcast, BroadcastRecipient
from softdukan.broadcast.repository import BroadcastRepository
from softdukan.conversation import status as st

WAIT_LABELS = {s.TIER_LIMIT: "Messaging limit reached", s.RETRY_LATER: "Rate limited, retrying",
               s.NEXT_DAY: "Held back by WhatsApp, next day", s.UNCONFIRMED: "Not confirmed, resending"}


@dataclass
class Funnel:
    total: int = 0
    queued: int = 0  # pending (due now or later)
    waiting: int = 0  # messaging limit
    sending: int = 0
    sent: int = 0  # accepted by WhatsApp, and everything after
    delivered: int = 0
    read: int = 0
    replied: int = 0
    failed: int = 0
    skipped: int = 0
    cancelled: int = 0
    failed_by_reason: dict[str, int] = field(default_factory=dict)
    skipped_by_reason: dict[str, int] = field(default_factory=dict)

    @property
    def done(self) -> int:
        return self.sent + self.failed + self.skipped + self.cancelled

    def percent(self, part: int) -> int:
        return round(100 * part / self.total) if self.total else 0


def failure_label(reason: str | None, code: int | None, detail: str | None) -> str:
    if code is not None:
        title = (detail or "").split(":")[0].strip()
        return f"{code} · {title}" if title else str(code)
    return s.SKIP_LABELS.get(reason or "", (detail or reason or "Failed").split(":")[0][:80])


async def build_funnel(repository: BroadcastRepository, broadcast: Broadcast) -> Funnel:
    funnel = Funnel()
    for state, reason, code, detail, n in await repository.state_counts(broadcast):
        funnel.total += n
        if state == s.PENDING:
            funnel.queued += n
        elif state == s.WAITING:
            funnel.waiting += n
        elif state == s.SENDING_R:
            funnel.sending += n
        elif state == s.SENT:
            funnel.sent += n
        elif state == s.FAILED:
            funnel.failed += n
            label = failure_label(reason, code, detail)
            funnel.failed_by_reason[label] = funnel.failed_by_reason.get(label, 0) + n
        elif state == s.SKIPPED:
            funnel.skipped += n
            label = s.SKIP_LABELS.get(reason or "", reason or "Skipped")
            funnel.skipped_by_reason[label] = funnel.skipped_by_reason.get(label, 0) + n
        elif state == s.CANCELLED_R:
            funnel.cancelled += n
    statuses = await repository.message_status_counts(broadcast)
    funnel.delivered = sum(n for status, n in statuses.items() if st.rank(status) >= st.RANK[st.DELIVERED]
                           and status != st.FAILED)
    funnel.read = sum(n for status, n in statuses.items() if st.rank(status) >= st.RANK[st.READ]
                      and status != st.FAILED)
    funnel.replied = await repository.replied_count(broadcast)
    return funnel


@dataclass
class RecipientRow:
    id: int
    contact_id: int | None
    wa_id: str
    name: str | None
    state: str
    reason: str | None
    reason_label: str | None
    detail: str | None
    error_code: int | None
    message_id: int | None
    message_status: str | None
    attempts: int
    next_attempt_at: datetime | None
    sent_at: datetime | None
    replied_at: datetime | None

    @classmethod
    def of(cls, r: BroadcastRecipient, name: str | None, message_status: str | None) -> RecipientRow:
        label = None
        if r.state == s.FAILED:
            label = failure_label(r.reason, r.error_code, r.detail)
        elif r.reason:
            label = s.SKIP_LABELS.get(r.reason) or WAIT_LABELS.get(r.reason) or r.reason
        return cls(r.id, r.contact_id, r.wa_id, name, r.state, r.reason, label, r.detail, r.error_code, r.message_id,
                   message_status, r.attempts, r.next_attempt_at, r.sent_at, r.replied_at)
