# ruff: noqa: F811  (the `shop` fixture of tests/template is imported by name and requested by name)
"""Blocked contacts: their messages are stored and shown but marked not for automations, and they receive nothing
(the send path refuses every send to them). And once only: routing the same STOP again opts out once and replies
once — the consent record is unique per message."""

from __future__ import annotations

from sqlalchemy import select

from softdukan.contact.consent_inbound import BLOCKED_REPLY_SKIPPED, on_customer_message
from softdukan.contact.consent_models import InboundConsentAction
from softdukan.contact.models import Contact
from softdukan.conversation.models import Conversation, Message
from softdukan.inbound.models import InboundEvent
from softdukan.inbound.routing import route_event
from softdukan.number.models import PhoneNumber
from softdukan.platform.uow import unit_of_work
from softdukan.whatsapp.webhook.messages import TextContent
from tests.contact.consent_support import (
    CUSTOMER,
    bind,
    consent_action,
    consent_events,
    contact,
    inbound,
    outbound_texts,
    received,
    says,
)
from tests.contact.test_consent_keywords import automations_allowed
from tests.conversation.template_send_support import approved, send, shipped_values
from tests.support.whatsapp import rows
from tests.support.whatsapp_fixtures import clock  # noqa: F401  (fixture)
from tests.template.conftest import Shop, shop  # noqa: F401  (fixture)


async def test_a_blocked_contacts_messages_are_kept_but_not_for_automations_and_never_answered(shop: Shop) -> None:
    await bind(shop)
    template = await approved(shop)  # a utility template: not stopped by an opt-out, but by a block
    first = await says(shop, "Hello, is the shop open?")
    assert await automations_allowed(shop, (await inbound(shop, first)).id)
    customer = await contact(shop)
    blocked = await shop.client.post(f"/v1/contacts/{customer.id}/block", headers=shop.org.auth)
    assert blocked.status_code == 200, blocked.text

    hello = await says(shop, "Why don't you answer??")
    message = await inbound(shop, hello)
    assert message.content["body"] == "Why don't you answer??"  # stored: the inbox still shows it
    action = await consent_action(shop, message.id)
    assert action is not None and action.action == "blocked_inbound" and not action.route_to_automations
    assert not await automations_allowed(shop, message.id)

    stop = await says(shop, "STOP")  # consent is recorded even from a blocked contact; still no reply
    assert (await contact(shop)).opted_out_at is not None
    stop_action = await consent_action(shop, (await inbound(shop, stop)).id)
    assert stop_action is not None and stop_action.reply_skipped == BLOCKED_REPLY_SKIPPED
    assert stop_action.reply_message_id is None

    text = await shop.client.post("/v1/messages", headers=shop.org.auth, json={
        "phone_number_id": shop.number.id, "to": CUSTOMER, "type": "text", "text": {"body": "Sorry for the wait"}})
    assert text.status_code == 409 and text.json()["error"]["code"] == "contact_blocked"
    utility = await send(shop, {"id": template["id"], "values": shipped_values()}, to=CUSTOMER)
    assert utility.status_code == 409 and utility.json()["error"]["code"] == "contact_blocked"
    await shop.settle(seconds=5)
    assert await outbound_texts(shop) == [] and await received(shop) == []

    assert (await shop.client.post(f"/v1/contacts/{customer.id}/unblock", headers=shop.org.auth)).status_code == 200
    later = await says(shop, "Thanks for unblocking")
    assert await automations_allowed(shop, (await inbound(shop, later)).id)
    reply = await shop.client.post("/v1/messages", headers=shop.org.auth, json={
        "phone_number_id": shop.number.id, "to": CUSTOMER, "type": "text", "text": {"body": "Welcome back"}})
    assert reply.status_code == 202, reply.text  # opted out of marketing, but a service reply in the window is fine


async def test_routing_the_same_stop_twice_opts_out_once_and_replies_once(shop: Shop) -> None:
    wamid = await says(shop, "STOP")
    [reply] = await outbound_texts(shop)
    assert await received(shop) == [reply]
    [event] = await rows(shop.runtime, InboundEvent, InboundEvent.wamid == wamid)

    async with unit_of_work(shop.runtime) as uow:  # the routing job again (a retry after a lost completion)
        note = await route_event(uow, await uow.session.get(InboundEvent, event.id))
    assert note == "already routed"

    message = await inbound(shop, wamid)
    async with unit_of_work(shop.runtime) as uow:  # and the consent hook itself again, for the same message
        phone = await uow.session.get(PhoneNumber, message.phone_number_id)
        conversation = await uow.session.get(Conversation, message.conversation_id)
        customer = await uow.session.get(Contact, message.contact_id)
        assert phone is not None and conversation is not None and customer is not None
        customer.opted_out_at = None  # even if the state had changed since, the message acts only once
        again = await on_customer_message(uow, phone, conversation, customer, message.id, TextContent(body="STOP"),
                                          None)
        assert again is None
        await uow.session.rollback()
    await shop.settle(seconds=5)

    assert await outbound_texts(shop) == [reply] and await received(shop) == [reply]
    assert await consent_events(shop, (await contact(shop)).id) == [("opted_out", "keyword")]
    async with shop.runtime.sessionmaker() as session:
        records = (await session.execute(select(InboundConsentAction).where(
            InboundConsentAction.message_id == message.id))).scalars().all()
        replies = (await session.execute(select(Message).where(Message.direction == "out"))).scalars().all()
    assert len(records) == 1 and len(replies) == 1
