"""The 24-hour customer service window and the 72-hour free entry point window (reference §7.8, §7.9)."""

from __future__ import annotations

from datetime import timedelta

from softdukan.contact.service import contact_service
from softdukan.conversation.models import Conversation, Message
from softdukan.conversation.outbound import mark_accepted, record_outbound, window_for
from softdukan.number.models import PhoneNumber
from softdukan.platform.uow import unit_of_work
from tests.support.whatsapp import CUSTOMER, envelope, inbound, messages_change, post_webhook, rows
from tests.support.whatsapp_fixtures import T0

REFERRAL = {"source_url": "https://fb.me/ad", "source_id": "ADID", "source_type": "ad", "headline": "Sale",
            "body": "50% off", "media_type": "image", "ctwa_clid": "CLID"}


async def customer_writes(client, drain_jobs, wa, wamid: str, at, **extra) -> None:  # type: ignore[no-untyped-def]
    payload = envelope(wa.waba_id, [messages_change(wa, messages=[inbound(wamid, at, "text", {"body": "hi"},
                                                                          **extra)])])
    assert (await post_webhook(client, payload)).status_code == 200
    await drain_jobs()


async def window(runtime, wa, at):  # type: ignore[no-untyped-def]
    async with unit_of_work(runtime) as uow:
        phone = await uow.session.get(PhoneNumber, wa.phone.id)
        contact = await contact_service.ensure(uow, phone.organization_id, CUSTOMER)
        return await window_for(uow, phone, contact, at)


async def reply(runtime, wa, clock, at) -> bool:  # type: ignore[no-untyped-def]
    clock.at = at
    async with unit_of_work(runtime) as uow:
        phone = await uow.session.get(PhoneNumber, wa.phone.id)
        contact = await contact_service.ensure(uow, phone.organization_id, CUSTOMER)
        message = await record_outbound(uow, phone, contact, type="text", content={"body": "ok"}, preview="ok")
        return await mark_accepted(uow, message, f"wamid.reply{at.timestamp()}")


async def test_no_conversation_means_no_window(runtime, wa) -> None:
    state = await window(runtime, wa, T0)
    assert not state.csw_open and not state.fep_open and not state.free_form_allowed


async def test_every_customer_message_opens_24_hours(client, runtime, drain_jobs, wa) -> None:
    await customer_writes(client, drain_jobs, wa, "wamid.1", T0)
    assert (await window(runtime, wa, T0 + timedelta(hours=23, minutes=59))).csw_open
    closed = await window(runtime, wa, T0 + timedelta(hours=24))
    assert not closed.csw_open and not closed.free_form_allowed
    await customer_writes(client, drain_jobs, wa, "wamid.2", T0 + timedelta(hours=30))
    state = await window(runtime, wa, T0 + timedelta(hours=53))
    assert state.csw_open and state.csw_expires_at == T0 + timedelta(hours=54)
    # a late webhook of an older message never shortens the window
    await customer_writes(client, drain_jobs, wa, "wamid.0", T0 + timedelta(hours=1))
    assert (await window(runtime, wa, T0 + timedelta(hours=53))).csw_expires_at == T0 + timedelta(hours=54)


async def test_a_reply_within_24h_of_a_referral_opens_72h_free(client, runtime, drain_jobs, wa, clock,
                                                               published) -> None:
    await customer_writes(client, drain_jobs, wa, "wamid.ad", T0, referral=REFERRAL)
    eligible = await window(runtime, wa, T0 + timedelta(hours=1))
    assert eligible.fep_reply_by == T0 + timedelta(hours=24) and not eligible.fep_open
    assert await reply(runtime, wa, clock, T0 + timedelta(hours=2)) is True
    state = await window(runtime, wa, T0 + timedelta(hours=73))
    assert state.fep_open and state.free_of_charge and state.fep_expires_at == T0 + timedelta(hours=74)
    assert not state.csw_open  # the CSW stays independent: templates only, but free
    assert not (await window(runtime, wa, T0 + timedelta(hours=74))).fep_open
    # a second reply inside the window does not extend it
    assert await reply(runtime, wa, clock, T0 + timedelta(hours=10)) is False
    [conversation] = await rows(runtime, Conversation)
    assert conversation.fep_expires_at == T0 + timedelta(hours=74)
    opened = [e for e in published if e["type"] == "conversation.fep_opened"]
    assert len(opened) == 1 and opened[0]["permission"] == "conversations:read"


async def test_a_reply_after_24h_or_without_referral_opens_nothing(client, runtime, drain_jobs, wa, clock) -> None:
    await customer_writes(client, drain_jobs, wa, "wamid.plain", T0)
    assert await reply(runtime, wa, clock, T0 + timedelta(hours=1)) is False
    await customer_writes(client, drain_jobs, wa, "wamid.ad", T0 + timedelta(hours=2), referral=REFERRAL)
    assert await reply(runtime, wa, clock, T0 + timedelta(hours=26, seconds=1)) is False
    state = await window(runtime, wa, T0 + timedelta(hours=27))
    assert not state.fep_open and state.fep_reply_by is None
    # a new referral later makes the next reply eligible again
    await customer_writes(client, drain_jobs, wa, "wamid.ad2", T0 + timedelta(hours=100), referral=REFERRAL)
    assert await reply(runtime, wa, clock, T0 + timedelta(hours=101)) is True


async def test_outbound_message_lifecycle_for_the_sender(client, runtime, wa, clock, published) -> None:
    async with unit_of_work(runtime) as uow:
        phone = await uow.session.get(PhoneNumber, wa.phone.id)
        contact = await contact_service.ensure(uow, phone.organization_id, CUSTOMER)
        message = await record_outbound(uow, phone, contact, type="text", content={"body": "hello"},
                                        preview="hello", sender_membership_id=None)
        assert (message.status, message.wamid, message.direction) == ("pending", None, "out")
    async with unit_of_work(runtime) as uow:
        row = await uow.session.get(Message, message.id)
        await mark_accepted(uow, row, "wamid.accepted")
    [row] = await rows(runtime, Message)
    assert (row.status, row.wamid, row.accepted_at) == ("accepted", "wamid.accepted", T0)
    [conversation] = await rows(runtime, Conversation)
    assert conversation.last_message_at == T0 and conversation.unread_count == 0
    assert [e["data"]["status"] for e in published if e["type"] == "message.status_changed"] == ["accepted"]
