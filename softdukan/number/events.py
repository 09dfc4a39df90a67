"""Live events of the numbers domain (published after commit)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from softdukan.platform.events import Event


@dataclass(frozen=True, kw_only=True)
class PhoneNumberUpdated(Event):
    """A number's status, quality, limits or onboarding step changed (by a step, a refresh or a webhook)."""

    type: ClassVar[str] = "number.updated"
    permission: ClassVar[str | None] = "numbers:read"
    number_id: int
    status: str
    quality_rating: str
    onboarding_step: str


@dataclass(frozen=True, kw_only=True)
class WhatsAppAccountUpdated(Event):
    type: ClassVar[str] = "number.account_updated"
    permission: ClassVar[str | None] = "numbers:read"
    account_id: int
    status: str
