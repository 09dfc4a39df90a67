"""Live events of broadcasts (published after commit). Progress is throttled per process: the funnel page
re-reads its counts on each one, so one a second per broadcast is plenty."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import ClassVar

from softdukan.platform.events import Event
from softdukan.platform.uow import UnitOfWork

THROTTLE_SECONDS = 1.0
_last: dict[int, float] = {}


@dataclass(frozen=True, kw_only=True)
class BroadcastProgressed(Event):
    """A broadcast's counts or status changed."""

    type: ClassVar[str] = "broadcast.progressed"
    permission: ClassVar[str | None] = "broadcasts:read"
    broadcast_id: int
    status: str


@dataclass(frozen=True, kw_only=True)
class BroadcastPaused(Event):
    """A broadcast stopped by itself (a template paused or re-categorized, the account can't send)."""

    type: ClassVar[str] = "broadcast.paused"
    permission: ClassVar[str | None] = "broadcasts:read"
    broadcast_id: int
    name: str
    notice: str

    def summary(self) -> str | None:
        return f"Broadcast {self.name} paused: {self.notice}"


def progressed(uow: UnitOfWork, organization_id: int, broadcast_id: int, status: str, *, force: bool = False
               ) -> None:
    """Emit a progress event unless one went out for this broadcast within the last second (here)."""
    now = time.monotonic()
    if not force and now - _last.get(broadcast_id, 0.0) < THROTTLE_SECONDS:
        return
    _last[broadcast_id] = now
    uow.emit(BroadcastProgressed(organization_id=organization_id, broadcast_id=broadcast_id, status=status))
