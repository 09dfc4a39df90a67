"""The scheduled reconciliation (issue 5 item 1): the books are compared every hour; staff are e-mailed when a run
finds a difference they were not told about, once."""

from __future__ import annotations

from sqlalchemy import select, update

from softdukan.backoffice.service import create_staff_user
from softdukan.notification.models import OutboundEmail
from softdukan.platform.uow import unit_of_work
from softdukan.wallet.models import MessageCharge
from softdukan.wallet.reconcile import reconcile
from tests.conversation.test_statuses import send_statuses
from tests.support.whatsapp import status
from tests.support.whatsapp_fixtures import T0
from tests.wallet.support import held_template

REGULAR = {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "marketing"}


async def staff_mails(runtime) -> list[str]:  # type: ignore[no-untyped-def]
    async with runtime.sessionmaker() as session:
        return list((await session.execute(select(OutboundEmail.to_address).where(
            OutboundEmail.subject.like("Ledger reconciliation%")))).scalars())


async def test_a_difference_in_the_books_alerts_staff_once(client, runtime, drain_jobs, wa, settings) -> None:
    await create_staff_user(settings, email="books@staff.example.com", name="Books", password="staff-Secret-42-xyz")
    mid = await held_template(runtime, wa, wamid="wamid.r")
    await send_statuses(client, drain_jobs, wa, status("wamid.r", "delivered", T0, pricing=REGULAR))
    async with unit_of_work(runtime) as uow:
        assert (await reconcile(uow)).ok
    assert await staff_mails(runtime) == []
    async with unit_of_work(runtime) as uow:  # a charge row that no longer agrees with the ledger
        await uow.session.execute(update(MessageCharge).where(MessageCharge.message_id == mid)
                                  .values(charged_units=MessageCharge.charged_units + 1))
    for _ in range(2):
        async with unit_of_work(runtime) as uow:
            run = await reconcile(uow)
        assert not run.ok and "the ledger charged" in run.findings[0]
    assert await staff_mails(runtime) == ["books@staff.example.com"]  # told once, not every hour
