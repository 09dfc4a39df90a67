# ruff: noqa: F811  (the `shop` fixture of tests/template is imported by name and requested by name)
"""Opt-out and opt-in keywords from the sandbox's virtual customers: STOP / stop / UNSUBSCRIBE / START and the
organization's own words opt the contact out of (or back into) marketing at once, put the change on the timeline
and send the confirmation through the send path; anything else changes nothing."""

from __future__ import annotations

from softdukan.contact.keywords import DEFAULT_OPT_IN_REPLY, DEFAULT_OPT_OUT_REPLY, keyword_service
from softdukan.platform.uow import unit_of_work
from tests.contact.consent_support import (
    bind,
    consent_action,
    consent_events,
    contact,
    inbound,
    outbound_texts,
    received,
    says,
    sends,
)
from tests.support.whatsapp_fixtures import clock  # noqa: F401  (fixture)
from tests.template.conftest import Shop, shop  # noqa: F401  (fixture)


async def automations_allowed(shop: Shop, message_id: int) -> bool:
    async with unit_of_work(shop.runtime) as uow:
        return await keyword_service.automations_allowed(uow, shop.org.org.id, message_id)


async def test_stop_opts_out_at_once_and_confirms(shop: Shop) -> None:
    await says(shop, "Do you have masala chai?")
    assert (await contact(shop)).opted_out_at is None

    wamid = await says(shop, "STOP")

    customer = await contact(shop)
    assert customer.opted_out_at == shop.clock.now()
    assert await consent_events(shop, customer.id) == [("opted_out", "keyword")]
    assert await received(shop) == [DEFAULT_OPT_OUT_REPLY]  # the customer's phone got the confirmation
    message = await inbound(shop, wamid)
    action = await consent_action(shop, message.id)
    assert action is not None and (action.action, action.trigger) == ("opted_out", 'keyword "stop"')
    assert action.reply_message_id is not None and action.reply_skipped is None
    assert not await automations_allowed(shop, message.id)  # handled here: no chatbot answers "STOP"


async def test_any_case_and_spacing_whole_message_only(shop: Shop) -> None:
    first = await says(shop, "please stop sending me these")
    other = await says(shop, "stopwatch")
    assert (await contact(shop)).opted_out_at is None and await received(shop) == []
    assert await automations_allowed(shop, (await inbound(shop, first)).id)
    assert await consent_action(shop, (await inbound(shop, other)).id) is None

    await says(shop, "  sToP \n")
    assert (await contact(shop)).opted_out_at is not None
    assert await received(shop) == [DEFAULT_OPT_OUT_REPLY]


async def test_unsubscribe_then_start_opts_back_in(shop: Shop) -> None:
    await says(shop, "Unsubscribe")
    opted_out = await contact(shop)
    assert opted_out.opted_out_at is not None

    shop.clock.advance(minutes=5)
    await says(shop, "start")

    customer = await contact(shop)
    assert customer.opted_out_at is None
    assert (customer.opted_in_at, customer.opt_in_source) == (shop.clock.now(), "keyword")
    assert await consent_events(shop, customer.id) == [("opted_out", "keyword"), ("opted_in", "keyword")]
    assert await received(shop) == [DEFAULT_OPT_OUT_REPLY, DEFAULT_OPT_IN_REPLY]


async def test_a_reply_button_or_list_row_that_is_a_keyword_opts_out(shop: Shop) -> None:
    await sends(shop, {"type": "interactive", "interactive": {
        "type": "button_reply", "button_reply": {"id": "unsubscribe", "title": "No more offers"}}})
    assert (await contact(shop)).opted_out_at is not None
    await sends(shop, {"type": "interactive", "interactive": {
        "type": "list_reply", "list_reply": {"id": "resume", "title": "START"}}})
    assert (await contact(shop)).opted_out_at is None
    assert await received(shop) == [DEFAULT_OPT_OUT_REPLY, DEFAULT_OPT_IN_REPLY]


async def test_the_organizations_own_words_and_replies(shop: Shop) -> None:
    response = await shop.client.patch("/v1/consent-settings", headers=shop.org.auth, json={
        "opt_out_words": ["Band karo", "रोकें"], "opt_in_words": ["Shuru"],
        "opt_out_reply": "Theek hai, ab offers nahi aayenge. Reply SHURU to resume."})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["opt_out_words"] == ["Band karo", "रोकें"] and body["builtin_opt_out_words"] == ["STOP", "UNSUBSCRIBE"]
    assert (body["opt_out_reply_is_default"], body["opt_in_reply"]) == (False, DEFAULT_OPT_IN_REPLY)

    await says(shop, "band   KARO")
    assert (await contact(shop)).opted_out_at is not None
    await says(shop, "shuru")
    assert (await contact(shop)).opted_out_at is None
    await says(shop, "रोकें")
    assert (await contact(shop)).opted_out_at is not None
    assert await received(shop) == ["Theek hai, ab offers nahi aayenge. Reply SHURU to resume.", DEFAULT_OPT_IN_REPLY,
                                    "Theek hai, ab offers nahi aayenge. Reply SHURU to resume."]
    assert len(await outbound_texts(shop)) == 3


async def test_stop_again_when_already_opted_out_confirms_but_records_one_change(shop: Shop) -> None:
    await says(shop, "STOP")
    first = (await contact(shop)).opted_out_at
    shop.clock.advance(minutes=1)
    await says(shop, "STOP")
    customer = await contact(shop)
    assert customer.opted_out_at == first
    assert await consent_events(shop, customer.id) == [("opted_out", "keyword")]
    assert await received(shop) == [DEFAULT_OPT_OUT_REPLY, DEFAULT_OPT_OUT_REPLY]  # each message is answered


async def test_no_confirmation_when_the_window_is_closed_but_the_opt_out_holds(shop: Shop) -> None:
    """A STOP whose webhook is routed more than 24 hours late: the opt-out counts; WhatsApp would refuse a free-form
    reply now, so none is sent and the reason is kept."""
    await bind(shop)
    response = await shop.client.post("/sandbox/graph/_sandbox/customers/919812355001/messages", json={
        "phone_number_id": shop.number.phone_number_id, "message": {"type": "text", "text": {"body": "STOP"}}})
    assert response.status_code == 200, response.text
    shop.clock.advance(hours=25)  # the sandbox stamped the message a day ago; it reaches us only now
    await shop.settle()
    assert (await contact(shop)).opted_out_at is not None
    action = await consent_action(shop, (await inbound(shop, response.json()["wamid"])).id)
    assert action is not None and action.reply_message_id is None
    assert action.reply_skipped is not None and "24 hours" in action.reply_skipped
    assert await outbound_texts(shop) == [] and await received(shop) == []
