"""Typed events: published to the live hub only after their transaction commits."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True, kw_only=True)
class Event:
    """An event for one organization. `permission` limits who may see it (None: every member)."""

    type: ClassVar[str] = "event"
    permission: ClassVar[str | None] = None
    organization_id: int
    # Only these users see it (e.g. a personal notification); empty: everyone with the permission.
    user_ids: tuple[int, ...] = field(default=())

    def payload(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("user_ids", None)
        return data

    def summary(self) -> str | None:
        """One line for a person (the dashboard shows it as a toast); None: pages react silently."""
        return None

    def envelope(self) -> dict[str, Any]:
        envelope = {"type": self.type, "organization_id": self.organization_id, "permission": self.permission,
                    "user_ids": list(self.user_ids), "data": self.payload()}
        summary = self.summary()
        if summary:
            envelope["summary"] = summary
        return envelope
