"""Live events of inbound routing that belong to no other domain yet."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from softdukan.platform.events import Event


@dataclass(frozen=True, kw_only=True)
class TemplateStatusChanged(Event):
    """Meta reviewed, paused, recategorised … a template. Recorded only until the templates domain (issue 4)."""

    type: ClassVar[str] = "template.status_changed"
    permission: ClassVar[str | None] = "organization:read"
    field: str
    event: str
    template_id: str | None
    name: str | None
    language: str | None
    reason: str | None
