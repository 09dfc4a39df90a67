"""Wallet events (published after commit): a charge per billable message (`credits.deducted`, for outbound
webhooks later) and the low-balance alert."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from softdukan.conversation.models import Message
from softdukan.platform.events import Event
from softdukan.platform.uow import UnitOfWork
from softdukan.wallet.models import MessageCharge


@dataclass(frozen=True, kw_only=True)
class CreditsDeducted(Event):
    """A message was charged: `units` (₹0.0001) for its category in its market."""

    type: ClassVar[str] = "credits.deducted"
    permission: ClassVar[str | None] = "wallet:read"
    message_id: int
    conversation_id: int
    wamid: str | None
    category: str
    market: str
    units: int
    broadcast_id: int | None


@dataclass(frozen=True, kw_only=True)
class WalletLow(Event):
    """The available balance fell below the organization's alert threshold."""

    type: ClassVar[str] = "wallet.low"
    permission: ClassVar[str | None] = "wallet:read"
    available_units: int
    threshold_units: int
    text: str

    def summary(self) -> str | None:
        return self.text


def credits_deducted(uow: UnitOfWork, charge: MessageCharge, message: Message) -> None:
    uow.emit(CreditsDeducted(organization_id=charge.organization_id, message_id=message.id,
                             conversation_id=message.conversation_id, wamid=message.wamid, category=charge.category,
                             market=charge.market, units=charge.charged_units or 0,
                             broadcast_id=charge.broadcast_id))


@dataclass(frozen=True, kw_only=True)
class WalletRecharged(Event):
    type: ClassVar[str] = "wallet.recharged"
    permission: ClassVar[str | None] = "wallet:read"
    topup_id: int
    credits_units: int
    invoice_number: str

    def summary(self) -> str | None:
        from softdukan.kit.money import credits

        return f"{credits(self.credits_units)} of WhatsApp credits added (invoice {self.invoice_number})."
