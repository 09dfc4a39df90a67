"""Wallet test support: a template message written and held the way the send path does it, the wallet as the
ledger has it, and the charge of a message."""

from __future__ import annotations

from sqlalchemy import select

from softdukan.contact.service import contact_service
from softdukan.conversation.models import Message
from softdukan.conversation.outbound import mark_accepted, record_outbound
from softdukan.ledger import service as ledger
from softdukan.ledger.check import findings
from softdukan.ledger.models import LedgerAccount, LedgerTransaction
from softdukan.number.models import PhoneNumber
from softdukan.platform.runtime import Runtime
from softdukan.platform.uow import unit_of_work
from softdukan.wallet.charging import hold_for_message
from softdukan.wallet.models import MessageCharge
from softdukan.wallet.service import WalletSummary, summary_for
from tests.support.whatsapp import CUSTOMER, WhatsAppFixture


async def held_template(runtime: Runtime, wa: WhatsAppFixture, *, wamid: str | None, category: str = "MARKETING",
                        to: str = CUSTOMER) -> int:
    """A template row that holds its price (as `send_message` does), accepted with `wamid` when given."""
    async with unit_of_work(runtime) as uow:
        phone = await uow.session.get(PhoneNumber, wa.phone.id)
        assert phone is not None
        contact = await contact_service.ensure(uow, phone.organization_id, to)
        message = await record_outbound(uow, phone, contact, type="template",
                                        content={"name": "offer", "language": "en", "category": category},
                                        preview="Offer")
        await hold_for_message(uow, message, to, category)
        if wamid is not None:
            await mark_accepted(uow, message, wamid)
    return message.id


async def wallet(runtime: Runtime, organization_id: int) -> WalletSummary:
    async with unit_of_work(runtime) as uow:
        return await summary_for(uow, organization_id)


async def charge_of(runtime: Runtime, message_id: int) -> MessageCharge:
    async with runtime.sessionmaker() as session:
        row = await session.scalar(select(MessageCharge).where(MessageCharge.message_id == message_id))
        assert row is not None
        return row


async def message(runtime: Runtime, message_id: int) -> Message:
    async with runtime.sessionmaker() as session:
        row = await session.get(Message, message_id)
        assert row is not None
        return row


async def ledger_findings(runtime: Runtime) -> list[str]:
    async with runtime.sessionmaker() as session:
        return [str(f) for f in await findings(session, runtime.clock.now())]


async def empty_wallet(runtime: Runtime, organization_id: int) -> None:
    """Takes the welcome credit back (a reversal of the grant), leaving the wallet at ₹0."""
    async with unit_of_work(runtime) as uow:
        grant = await uow.session.scalar(select(LedgerTransaction).where(
            LedgerTransaction.idempotency_key == f"grant:signup:{organization_id}"))
        assert grant is not None
        await ledger.reverse(uow.session, grant, key=f"test:empty:{organization_id}", now=uow.clock.now())


async def fund(runtime: Runtime, organization_id: int, units: int, key: str) -> None:
    from softdukan.wallet.service import grant

    async with unit_of_work(runtime) as uow:
        await grant(uow, organization_id, units=units, key=key, reason="test")


async def account(runtime: Runtime, code: str) -> LedgerAccount:
    async with runtime.sessionmaker() as session:
        row = await session.scalar(select(LedgerAccount).where(LedgerAccount.code == code))
        assert row is not None
        return row
