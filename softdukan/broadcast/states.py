"""Broadcast and recipient states, and the reasons a recipient is skipped, waits or fails."""

from __future__ import annotations

# Broadcast.status
DRAFT, SCHEDULED, SENDING, PAUSED, COMPLETED, CANCELLED = (
    "draft", "scheduled", "sending", "paused", "completed", "cancelled")
ACTIVE = frozenset({SCHEDULED, SENDING, PAUSED})  # may still send
EDITABLE = frozenset({DRAFT})

# BroadcastRecipient.state
PENDING, WAITING, SENDING_R, SENT, FAILED, SKIPPED, CANCELLED_R = (
    "pending", "waiting", "sending", "sent", "failed", "skipped", "cancelled")
OPEN_STATES = frozenset({PENDING, WAITING, SENDING_R})  # the broadcast is not done while any is in these

# skip reasons (at snapshot or at send time)
OPTED_OUT, BLOCKED, INVALID, DUPLICATE, MISSING_VARIABLE = (
    "opted_out", "blocked", "invalid_number", "duplicate", "missing_variable")
# wait reasons
TIER_LIMIT = "messaging_limit"  # the portfolio's 24-hour allowance is used up
RETRY_LATER = "retry"  # rate limited (130429, 131056), or Meta hiccup: backoff
NEXT_DAY = "meta_held_back"  # 131049: Meta chose not to deliver; try on a following day
UNCONFIRMED = "unconfirmed"  # an attempt whose answer was lost and no status came within the confirm time
NO_CREDITS = "insufficient_credits"  # the wallet could not hold its price: waits for a recharge (paused)

SKIP_LABELS = {
    OPTED_OUT: "Opted out of marketing",
    BLOCKED: "Blocked",
    INVALID: "Invalid number",
    DUPLICATE: "Duplicate number",
    MISSING_VARIABLE: "Missing variable value",
}

# Broadcast.pause_reason
BY_USER, TEMPLATE_PAUSED, TEMPLATE_DISABLED, TEMPLATE_RECATEGORIZED, NUMBER_DISCONNECTED, TEMPLATE_GONE = (
    "user", "template_paused", "template_disabled", "template_recategorized", "number_disconnected",
    "template_unavailable")
INSUFFICIENT_CREDITS = "insufficient_credits"  # the wallet ran dry; resumes by itself after a recharge
