"""A crash between the hold and the send (issue 5, "crash between hold and send"): the hold, the message and its
send job commit together, so a crash before that leaves nothing; a send job that dies after Meta accepted the
message (before recording the answer) is resolved by the status webhook carrying our id, and the hold is charged
once; if no word ever comes the message fails as not confirmed and the hold goes back."""

from __future__ import annotations

from softdukan.conversation.models import Message
from softdukan.conversation.send import claim_attempt
from softdukan.conversation.tasks import MAX_CHECKS, NOT_CONFIRMED
from softdukan.conversation.tasks import send_message as send_job
from softdukan.platform.uow import unit_of_work
from softdukan.wallet.models import CHARGED, RELEASED
from tests.conversation.test_statuses import send_statuses
from tests.support.whatsapp import status
from tests.support.whatsapp_fixtures import T0
from tests.wallet.support import charge_of, held_template, ledger_findings, message, wallet

REGULAR = {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "marketing"}


async def crashed_after_sending(runtime, wa) -> int:  # type: ignore[no-untyped-def]
    """A held template whose send job marked the attempt, sent it and died before recording Meta's answer."""
    mid = await held_template(runtime, wa, wamid=None)
    async with unit_of_work(runtime) as uow:
        row = await uow.session.get(Message, mid)
        assert row is not None and await claim_attempt(uow, row)
    return mid


async def test_the_status_webhook_of_a_message_sent_before_a_crash_charges_it_once(client, runtime, drain_jobs,
                                                                                   wa) -> None:
    before = await wallet(runtime, wa.org.org.id)
    mid = await crashed_after_sending(runtime, wa)
    async with unit_of_work(runtime) as uow:  # the retried job does not send again: it waits for word
        await send_job(uow, org_id=wa.org.org.id, message_id=mid)
    for value in ("sent", "delivered", "delivered"):
        await send_statuses(client, drain_jobs, wa, status("wamid.after-crash", value, T0, pricing=REGULAR,
                                                           biz_opaque_callback_data=f"sdm:{mid}"))
    charge = await charge_of(runtime, mid)
    assert (await message(runtime, mid)).wamid == "wamid.after-crash"
    assert (charge.state, charge.charged_units) == (CHARGED, 8846)
    after = await wallet(runtime, wa.org.org.id)
    assert (after.balance_units, after.held_units) == (before.balance_units - 8846, 0)
    assert await ledger_findings(runtime) == []


async def test_a_send_never_confirmed_fails_and_gives_the_hold_back(runtime, wa) -> None:
    before = await wallet(runtime, wa.org.org.id)
    mid = await crashed_after_sending(runtime, wa)
    async with unit_of_work(runtime) as uow:
        await send_job(uow, org_id=wa.org.org.id, message_id=mid, checks=MAX_CHECKS)
    failed = await message(runtime, mid)
    assert (failed.status, failed.error_title) == ("failed", NOT_CONFIRMED)
    assert (await charge_of(runtime, mid)).state == RELEASED
    assert await wallet(runtime, wa.org.org.id) == before
