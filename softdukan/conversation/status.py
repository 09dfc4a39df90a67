"""Message status order. Status webhooks arrive late, twice or shuffled (reference §5.3): a status only ever moves
forward, so the final state is the same whatever order they came in. `failed` is terminal and keeps its error."""

from __future__ import annotations

PENDING = "pending"  # outbound, written before the send job calls Meta
ACCEPTED = "accepted"  # Meta answered 200 with a wamid
SENT, DELIVERED, READ, PLAYED, FAILED = "sent", "delivered", "read", "played", "failed"
RECEIVED = "received"  # inbound messages

RANK = {PENDING: 0, RECEIVED: 0, ACCEPTED: 1, SENT: 2, DELIVERED: 3, READ: 4, PLAYED: 5, FAILED: 100}
# the timestamp column each status fills (the earliest seen wins, so duplicates don't move it)
TIMESTAMP_COLUMN = {ACCEPTED: "accepted_at", SENT: "sent_at", DELIVERED: "delivered_at", READ: "read_at",
                    PLAYED: "played_at", FAILED: "failed_at"}
# a later status implies the earlier ones happened: Meta sends no `delivered` when delivery and read coincide
IMPLIES = {READ: ("delivered_at",), PLAYED: ("delivered_at", "read_at")}


def rank(status: str) -> int:
    return RANK.get(status, -1)


def moves_forward(current: str, new: str) -> bool:
    return rank(new) > rank(current) and current != FAILED
