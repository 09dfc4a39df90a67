"""Live events of templates (published after commit): the templates pages re-render the changed row."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from softdukan.platform.events import Event


@dataclass(frozen=True, kw_only=True)
class TemplateUpdated(Event):
    """A template was submitted, synced, reviewed, paused, re-categorized, re-rated or deleted."""

    type: ClassVar[str] = "template.updated"
    permission: ClassVar[str | None] = "templates:read"
    template_id: int
    name: str
    language: str
    status: str
    category: str
    quality: str
    reason: str | None = None

    def summary(self) -> str | None:
        if self.status in ("APPROVED", "REJECTED", "PAUSED", "DISABLED"):
            return f"Template {self.name} ({self.language}) is {self.status.lower()}" + (
                f": {self.reason}" if self.reason and self.reason != "NONE" else ".")
        return None
