"""Status webhooks (reference §5.6): forward-only transitions, timestamps, pricing, failures, resolution."""

from __future__ import annotations

from datetime import timedelta

from softdukan.conversation.models import Message
from softdukan.inbound.models import InboundEvent
from tests.support.whatsapp import envelope, make_outbound, make_whatsapp, messages_change, post_webhook, rows, status
from tests.support.whatsapp_fixtures import T0

PRICING = {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "marketing"}
FAILED_131049 = {"code": 131049, "title": "This message was not delivered to maintain healthy ecosystem engagement.",
                 "message": "This message was not delivered to maintain healthy ecosystem engagement.",
                 "error_data": {"details": "In order to maintain a healthy ecosystem engagement, the message failed "
                                           "to be delivered."},
                 "href": "/documentation/business-messaging/whatsapp/support/error-codes"}


async def send_statuses(client, drain_jobs, wa, *statuses) -> None:  # type: ignore[no-untyped-def]
    response = await post_webhook(client, envelope(wa.waba_id, [messages_change(wa, statuses=list(statuses))]))
    assert response.status_code == 200, response.text
    await drain_jobs()


async def message(runtime, message_id: int) -> Message:  # type: ignore[no-untyped-def]
    [row] = await rows(runtime, Message, Message.id == message_id)
    return row


async def test_sent_delivered_read_move_forward_with_timestamps_and_pricing(client, runtime, drain_jobs, wa) -> None:
    mid = await make_outbound(runtime, wa, wamid="wamid.out")
    assert (await message(runtime, mid)).status == "accepted"
    await send_statuses(client, drain_jobs, wa, status("wamid.out", "sent", T0 + timedelta(seconds=1),
                                                       pricing=PRICING))
    row = await message(runtime, mid)
    assert (row.status, row.sent_at) == ("sent", T0 + timedelta(seconds=1))
    assert (row.pricing_model, row.pricing_type, row.pricing_category, row.billable) == ("PMP", "regular",
                                                                                          "marketing", True)
    await send_statuses(client, drain_jobs, wa, status("wamid.out", "delivered", T0 + timedelta(seconds=2)),
                        status("wamid.out", "read", T0 + timedelta(seconds=3)))
    row = await message(runtime, mid)
    assert (row.status, row.delivered_at, row.read_at) == ("read", T0 + timedelta(seconds=2), T0 + timedelta(seconds=3))


async def test_read_without_delivered_implies_delivery(client, runtime, drain_jobs, wa) -> None:
    mid = await make_outbound(runtime, wa, wamid="wamid.out")
    await send_statuses(client, drain_jobs, wa, status("wamid.out", "read", T0 + timedelta(seconds=4)))
    row = await message(runtime, mid)
    assert (row.status, row.delivered_at, row.read_at) == ("read", T0 + timedelta(seconds=4), T0 + timedelta(seconds=4))


async def test_late_statuses_never_move_back(client, runtime, drain_jobs, wa) -> None:
    mid = await make_outbound(runtime, wa, wamid="wamid.out")
    await send_statuses(client, drain_jobs, wa, status("wamid.out", "read", T0 + timedelta(seconds=3)))
    await send_statuses(client, drain_jobs, wa, status("wamid.out", "sent", T0 + timedelta(seconds=1)),
                        status("wamid.out", "delivered", T0 + timedelta(seconds=2)))
    row = await message(runtime, mid)
    assert row.status == "read"
    assert (row.sent_at, row.delivered_at) == (T0 + timedelta(seconds=1), T0 + timedelta(seconds=2))


async def test_failed_is_terminal_and_keeps_the_error(client, runtime, drain_jobs, wa) -> None:
    mid = await make_outbound(runtime, wa, wamid="wamid.out")
    await send_statuses(client, drain_jobs, wa, status("wamid.out", "failed", T0 + timedelta(seconds=2),
                                                       errors=[FAILED_131049]))
    await send_statuses(client, drain_jobs, wa, status("wamid.out", "delivered", T0 + timedelta(seconds=3)),
                        status("wamid.out", "read", T0 + timedelta(seconds=4)))
    row = await message(runtime, mid)
    assert (row.status, row.failed_at, row.error_code) == ("failed", T0 + timedelta(seconds=2), 131049)
    assert row.error_title == FAILED_131049["title"]
    assert row.error_details == FAILED_131049["error_data"]["details"]  # type: ignore[index]
    assert row.errors and row.errors[0]["href"] == FAILED_131049["href"]


async def test_played_and_free_pricing(client, runtime, drain_jobs, wa) -> None:
    mid = await make_outbound(runtime, wa, wamid="wamid.voice")
    free = {"billable": False, "pricing_model": "PMP", "type": "free_customer_service", "category": "service"}
    await send_statuses(client, drain_jobs, wa, status("wamid.voice", "sent", T0, pricing=free),
                        status("wamid.voice", "played", T0 + timedelta(seconds=9)))
    row = await message(runtime, mid)
    assert (row.status, row.played_at, row.read_at) == ("played", T0 + timedelta(seconds=9), T0 + timedelta(seconds=9))
    assert (row.pricing_type, row.billable) == ("free_customer_service", False)


async def test_fep_pricing_and_conversation_id_and_hyphenated_category(client, runtime, drain_jobs, wa) -> None:
    mid = await make_outbound(runtime, wa, wamid="wamid.fep")
    await send_statuses(client, drain_jobs, wa, status(
        "wamid.fep", "sent", T0, conversation={"id": "72b14d6bd5407799e66f64d1b338e567",
                                               "origin": {"type": "referral_conversion"}},
        pricing={"billable": False, "pricing_model": "PMP", "type": "free_entry_point",
                 "category": "authentication-international"}))
    row = await message(runtime, mid)
    assert row.meta_conversation_id == "72b14d6bd5407799e66f64d1b338e567"
    assert (row.pricing_type, row.pricing_category) == ("free_entry_point", "authentication_international")


async def test_unknown_status_values_are_stored_not_applied(client, runtime, drain_jobs, wa) -> None:
    mid = await make_outbound(runtime, wa, wamid="wamid.out")
    await send_statuses(client, drain_jobs, wa, status("wamid.out", "teleported", T0),
                        status("wamid.out", "sent", T0, pricing={"type": "mystery", "category": "space"}))
    row = await message(runtime, mid)
    assert row.status == "sent" and (row.pricing_type, row.pricing_category) == ("unknown", "unknown")
    assert {e.state for e in await rows(runtime, InboundEvent)} == {"routed"}


async def test_status_resolves_by_callback_data_when_the_send_response_was_lost(client, runtime, drain_jobs,
                                                                              wa) -> None:
    mid = await make_outbound(runtime, wa)  # pending: the send job never learned the wamid
    await send_statuses(client, drain_jobs, wa, status("wamid.lost", "sent", T0,
                                                       biz_opaque_callback_data=f"sdm:{mid}|broadcast:7"))
    row = await message(runtime, mid)
    assert (row.wamid, row.status, row.biz_opaque_callback_data) == ("wamid.lost", "sent", f"sdm:{mid}|broadcast:7")


async def test_callback_data_cannot_reach_another_organizations_message(client, runtime, drain_jobs, wa) -> None:
    other = await make_whatsapp(runtime)
    victim = await make_outbound(runtime, other)
    await send_statuses(client, drain_jobs, wa, status("wamid.forged", "read", T0,
                                                       biz_opaque_callback_data=f"sdm:{victim}"))
    row = await message(runtime, victim)
    assert (row.wamid, row.status) == (None, "pending")
    [event] = await rows(runtime, InboundEvent)
    assert event.state == "failed"


async def test_events_are_published_once_per_forward_move(client, runtime, drain_jobs, wa, published) -> None:
    mid = await make_outbound(runtime, wa, wamid="wamid.out")
    published.clear()
    sent = status("wamid.out", "sent", T0)
    await send_statuses(client, drain_jobs, wa, sent, status("wamid.out", "delivered", T0 + timedelta(seconds=1)))
    await send_statuses(client, drain_jobs, wa, sent)  # replay
    await send_statuses(client, drain_jobs, wa, status("wamid.out", "sent", T0, recipient_id="x"))  # late duplicate
    changes = [e for e in published if e["type"] == "message.status_changed"]
    assert [e["data"]["status"] for e in changes] == ["sent", "delivered"]
    assert changes[0]["permission"] == "conversations:read"
    assert changes[0]["organization_id"] == wa.org.org.id and changes[0]["data"]["message_id"] == mid


async def test_send_refused_by_meta_fails_the_message(runtime, wa, published) -> None:
    from softdukan.conversation.outbound import mark_send_failed
    from softdukan.platform.uow import unit_of_work

    mid = await make_outbound(runtime, wa)
    async with unit_of_work(runtime) as uow:
        row = await uow.session.get(Message, mid)
        await mark_send_failed(uow, row, code=131047, title="Re-engagement message", details="More than 24 hours")
    row = await message(runtime, mid)
    assert (row.status, row.error_code, row.error_title, row.failed_at) == ("failed", 131047, "Re-engagement message",
                                                                           T0)
    assert [e["data"]["error_code"] for e in published if e["type"] == "message.status_changed"] == [131047]
