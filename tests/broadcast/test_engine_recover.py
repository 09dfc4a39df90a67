"""Recovering a claim whose answer was lost: resolved by a status, kept while a status is stored but not routed yet,
sent again only when nothing came within the confirm time."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from softdukan.broadcast import dispatch
from softdukan.broadcast.models import Broadcast, BroadcastRecipient
from softdukan.conversation.models import Message
from softdukan.inbound.models import InboundEvent
from softdukan.platform.uow import unit_of_work
from tests.broadcast.engine_support import add_contacts, launch, marketing_template, number, run_until_done
from tests.template.conftest import Shop


async def lost_answer(shop: Shop, broadcast_id: int, wa_id: str) -> tuple[int, int, str]:
    """Rewinds one sent recipient to 'its dispatcher died after the request left': sending, lease lapsed, its
    message without wamid. Returns (recipient id, message id, callback data)."""
    async with unit_of_work(shop.runtime) as uow:
        r = await uow.session.scalar(select(BroadcastRecipient).where(
            BroadcastRecipient.broadcast_id == broadcast_id, BroadcastRecipient.wa_id == wa_id))
        assert r is not None and r.message_id is not None
        claimed = shop.clock.now() - timedelta(minutes=10)
        r.state, r.claimed_at, r.lease_expires_at = "sending", claimed, claimed + timedelta(minutes=1)
        await uow.session.execute(update(Message).where(Message.id == r.message_id)
                                  .values(wamid=None, status="pending", status_rank=0))
        await uow.session.execute(update(Broadcast).where(Broadcast.id == broadcast_id).values(status="sending"))
        message = await uow.session.get(Message, r.message_id)
        assert message is not None and message.biz_opaque_callback_data
        return r.id, message.id, message.biz_opaque_callback_data


async def recover(shop: Shop, broadcast_id: int) -> None:
    async with unit_of_work(shop.runtime) as uow:
        found = await uow.session.get(Broadcast, broadcast_id)
        assert found is not None
        run = await dispatch._load_run(uow, found)
        assert not isinstance(run, str)
        await dispatch.recover(uow, run, shop.clock.now())


async def state_of(shop: Shop, recipient_id: int) -> tuple[str, str | None]:
    async with shop.runtime.sessionmaker() as session:
        r = await session.get(BroadcastRecipient, recipient_id)
    assert r is not None
    return r.state, r.reason


async def test_an_unconfirmed_attempt_waits_for_a_stored_status_and_is_resent_only_without_one(shop: Shop) -> None:
    template_id = await marketing_template(shop)
    await add_contacts(shop, 2)
    broadcast_id = await launch(shop, template_id)
    await run_until_done(shop, broadcast_id)
    recipient_id, message_id, callback = await lost_answer(shop, broadcast_id, number(1))
    async with unit_of_work(shop.runtime) as uow:  # its status webhook is stored, the routing job hasn't run
        uow.session.add(InboundEvent(
            organization_id=shop.org.org.id, account_id=shop.account.id, dedupe_key="st:test:sent", kind="status",
            field="messages", phone_number_id=shop.number.phone_number_id, wamid="wamid.test",
            payload={"statuses": [{"id": "wamid.test", "status": "sent", "biz_opaque_callback_data": callback}]},
            received_at=shop.clock.now(), state="pending", attempts=0, created_at=shop.clock.now()))
    await recover(shop, broadcast_id)
    assert await state_of(shop, recipient_id) == ("sending", None)  # not resent: the status will resolve it
    async with unit_of_work(shop.runtime) as uow:
        await uow.session.execute(update(InboundEvent).values(state="routed"))
    shop.clock.advance(seconds=10)
    await recover(shop, broadcast_id)
    assert await state_of(shop, recipient_id) == ("pending", "unconfirmed")  # nothing came: sent again
    async with shop.runtime.sessionmaker() as session:
        old = await session.get(Message, message_id)
    assert old is not None and old.status == "failed" and old.error_title == "Not confirmed by WhatsApp"
