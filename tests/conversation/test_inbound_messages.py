"""Every inbound message type of reference §5.5, through the real endpoint and the routing job."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from softdukan.contact.models import Contact
from softdukan.conversation.models import Conversation, Message
from softdukan.inbound.models import InboundEvent
from tests.support.whatsapp import CUSTOMER, envelope, inbound, messages_change, post_webhook, rows
from tests.support.whatsapp_fixtures import T0


async def deliver(client, drain_jobs, wa, *messages: dict[str, Any], **change: Any) -> None:  # type: ignore[no-untyped-def]
    response = await post_webhook(client, envelope(wa.waba_id, [messages_change(wa, messages=list(messages),
                                                                                **change)]))
    assert response.status_code == 200, response.text
    await drain_jobs()


async def one_message(runtime, wamid: str) -> Message:  # type: ignore[no-untyped-def]
    [message] = await rows(runtime, Message, Message.wamid == wamid)
    return message


CASES: list[tuple[str, dict[str, Any], dict[str, Any], str]] = [
    ("text", {"type": "text", "text": {"body": "Is the blue kurta in stock?"}},
     {"body": "Is the blue kurta in stock?"}, "Is the blue kurta in stock?"),
    ("image", {"type": "image", "image": {"mime_type": "image/jpeg", "sha256": "4654+8g=", "id": "65463453",
                                          "url": "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1"}},
     {"kind": "image", "media_id": "65463453", "mime_type": "image/jpeg", "sha256": "4654+8g=",
      "url": "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1"}, "[Image]"),
    ("video", {"type": "video", "video": {"caption": "unboxing", "mime_type": "video/mp4", "sha256": "a", "id": "7"}},
     {"kind": "video", "caption": "unboxing", "media_id": "7"}, "[Video] unboxing"),
    ("voice", {"type": "audio", "audio": {"mime_type": "audio/ogg; codecs=opus", "sha256": "b", "id": "8",
                                          "voice": True}}, {"kind": "audio", "voice": True}, "[Voice message]"),
    ("audio file", {"type": "audio", "audio": {"mime_type": "audio/mpeg", "sha256": "b", "id": "9", "voice": False}},
     {"kind": "audio", "voice": False}, "[Audio]"),
    ("sticker", {"type": "sticker", "sticker": {"mime_type": "image/webp", "sha256": "c", "id": "10",
                                                "animated": False}}, {"kind": "sticker", "animated": False},
     "[Sticker]"),
    ("document", {"type": "document", "document": {"caption": "invoice", "filename": "inv.pdf",
                                                   "mime_type": "application/pdf", "sha256": "d", "id": "11"}},
     {"kind": "document", "filename": "inv.pdf", "caption": "invoice"}, "[Document] invoice"),
    ("location", {"type": "location", "location": {"latitude": 28.61, "longitude": 77.2, "name": "Connaught Place",
                                                   "address": "New Delhi", "url": "https://maps.example"}},
     {"latitude": 28.61, "longitude": 77.2, "name": "Connaught Place"}, "[Location] Connaught Place"),
    ("contacts", {"type": "contacts", "contacts": [{"name": {"first_name": "Ravi", "formatted_name": "Ravi K"},
                                                    "phones": [{"phone": "+91 98123 00000", "wa_id": "919812300000",
                                                                "type": "CELL"}]}]},
     {"contacts": [{"name": {"first_name": "Ravi", "formatted_name": "Ravi K"},
                    "phones": [{"phone": "+91 98123 00000", "wa_id": "919812300000", "type": "CELL"}]}]},
     "[Contact] Ravi K"),
    ("button reply", {"type": "interactive", "context": {"from": "15550783881", "id": "wamid.menu"},
                      "interactive": {"type": "button_reply", "button_reply": {"id": "change-button",
                                                                               "title": "Change"}}},
     {"kind": "button_reply", "reply_id": "change-button", "title": "Change"}, "Change"),
    ("list reply", {"type": "interactive", "interactive": {"type": "list_reply", "list_reply": {
        "id": "priority_express", "title": "Priority Mail Express", "description": "Next Day to 2 Days"}}},
     {"kind": "list_reply", "reply_id": "priority_express", "description": "Next Day to 2 Days"},
     "Priority Mail Express"),
    ("flow reply", {"type": "interactive", "interactive": {"type": "nfm_reply", "nfm_reply": {
        "response_json": "{\"flow_token\":\"AQAAAAACS5FpgQ_cAAAAAD0QI3s.\",\"delivery_rating\":\"4\"}",
        "body": "Sent", "name": "flow"}}},
     {"kind": "nfm_reply", "body": "Sent", "name": "flow",
      "response_json": "{\"flow_token\":\"AQAAAAACS5FpgQ_cAAAAAD0QI3s.\",\"delivery_rating\":\"4\"}"}, "Sent"),
    ("unknown interactive", {"type": "interactive", "interactive": {"type": "call_permission_reply",
                                                                     "call_permission_reply": {"response": "accept"}}},
     {"kind": "unknown", "original_kind": "call_permission_reply"}, "[unknown]"),
    ("template quick reply", {"type": "button", "button": {"payload": "callback_data", "text": "Yes, confirm"}},
     {"payload": "callback_data", "text": "Yes, confirm"}, "Yes, confirm"),
    ("order", {"type": "order", "order": {"catalog_id": "354160437058781", "text": "", "product_items": [
        {"product_retailer_id": "HAMBURGER", "quantity": 3, "item_price": 30, "currency": "ILS"}]}},
     {"catalog_id": "354160437058781", "product_items": [
         {"product_retailer_id": "HAMBURGER", "quantity": 3, "item_price": 30.0, "currency": "ILS"}]},
     "[Order] 1 item(s)"),
    ("identity changed", {"type": "system", "system": {"body": "User identity changed",
                                                       "type": "customer_identity_changed"},
                          "identity": {"acknowledged": True, "created_timestamp": "1697044706", "hash": "xyzxyz"}},
     {"kind": "customer_identity_changed", "identity": {"acknowledged": True, "created_timestamp": "1697044706",
                                                        "hash": "xyzxyz"}}, "User identity changed"),
    ("unsupported", {"type": "unsupported", "errors": [{"code": 131051, "title": "Message type unknown",
                                                        "message": "Message type unknown", "error_data": {
                                                            "details": "Message type is currently not supported."}}]},
     {"original_type": "unsupported", "errors": [{"code": 131051, "title": "Message type unknown",
                                                  "message": "Message type unknown",
                                                  "details": "Message type is currently not supported.",
                                                  "href": None}]}, "[Unsupported message]"),
    ("a type Meta adds later", {"type": "poll_vote", "poll_vote": {"option": 2}},
     {"original_type": "poll_vote", "raw": {"timestamp": "1756720800", "type": "poll_vote",
                                            "poll_vote": {"option": 2}}}, "[Unsupported message]"),
]


@pytest.mark.parametrize(("name", "body", "expected", "preview"), CASES, ids=[c[0] for c in CASES])
async def test_inbound_type_is_routed_into_a_message(client, runtime, drain_jobs, wa, name, body, expected,
                                                     preview) -> None:
    wamid = f"wamid.{name.replace(' ', '_')}"
    message_obj = {"from": CUSTOMER, "id": wamid, "timestamp": str(int(T0.timestamp())), **body}
    await deliver(client, drain_jobs, wa, message_obj)
    message = await one_message(runtime, wamid)
    expected_type = "unsupported" if name == "a type Meta adds later" else body["type"]
    assert (message.direction, message.type, message.status) == ("in", expected_type, "received")
    assert {k: message.content.get(k) for k in expected} == expected
    assert message.preview == preview
    assert message.occurred_at == T0
    [event] = await rows(runtime, InboundEvent)
    assert event.state == "routed" and event.attempts == 1 and event.note
    [contact] = await rows(runtime, Contact)
    user_message = body["type"] != "system"  # a system notice is not the customer writing
    assert (contact.wa_id, contact.phone) == (CUSTOMER, CUSTOMER)
    assert contact.profile_name == ("Asha Verma" if user_message else None)
    [conversation] = await rows(runtime, Conversation)
    assert message.conversation_id == conversation.id and conversation.unread_count == int(user_message)
    if name == "button reply":
        assert message.context_wamid == "wamid.menu"
    if name == "unsupported":
        assert message.error_code == 131051


async def test_reply_and_forward_context(client, runtime, drain_jobs, wa) -> None:
    await deliver(client, drain_jobs, wa,
                  inbound("wamid.reply", T0, "text", {"body": "yes"}, context={"from": "15550783881",
                                                                             "id": "wamid.original"}),
                  inbound("wamid.fwd", T0, "text", {"body": "look"}, context={"forwarded": True}),
                  inbound("wamid.ffwd", T0, "text", {"body": "viral"}, context={"frequently_forwarded": True}))
    reply, fwd, ffwd = [await one_message(runtime, w) for w in ("wamid.reply", "wamid.fwd", "wamid.ffwd")]
    assert reply.context_wamid == "wamid.original" and not reply.forwarded
    assert fwd.forwarded and not fwd.frequently_forwarded and fwd.context_wamid is None
    assert ffwd.frequently_forwarded


async def test_referral_is_kept_on_the_first_message(client, runtime, drain_jobs, wa) -> None:
    referral = {"source_url": "https://fb.me/ad", "source_id": "ADID", "source_type": "ad", "headline": "Diwali sale",
                "body": "50% off", "media_type": "image", "image_url": "https://img", "ctwa_clid": "CLID"}
    await deliver(client, drain_jobs, wa, inbound("wamid.ref", T0, "text", {"body": "Hi"}, referral=referral))
    message = await one_message(runtime, "wamid.ref")
    assert message.referral == referral
    [conversation] = await rows(runtime, Conversation)
    assert conversation.fep_referral == referral and conversation.fep_referral_at == T0


async def test_reaction_applies_to_its_target_and_unreaction_clears_it(client, runtime, drain_jobs, wa) -> None:
    await deliver(client, drain_jobs, wa, inbound("wamid.target", T0, "text", {"body": "photo?"}))
    await deliver(client, drain_jobs, wa, inbound("wamid.r1", T0 + timedelta(seconds=5), "reaction",
                                                  {"message_id": "wamid.target", "emoji": "😮"}))
    target = await one_message(runtime, "wamid.target")
    assert target.reaction_emoji == "😮"
    reaction = await one_message(runtime, "wamid.r1")
    assert (reaction.type, reaction.reaction_to_wamid, reaction.preview) == ("reaction", "wamid.target",
                                                                               "Reacted 😮")
    await deliver(client, drain_jobs, wa, inbound("wamid.r2", T0 + timedelta(seconds=9), "reaction",
                                                  {"message_id": "wamid.target"}))
    assert (await one_message(runtime, "wamid.target")).reaction_emoji is None


async def test_reaction_before_its_target_is_applied_when_the_target_arrives(client, runtime, drain_jobs,
                                                                             wa) -> None:
    await deliver(client, drain_jobs, wa, inbound("wamid.r1", T0 + timedelta(seconds=5), "reaction",
                                                  {"message_id": "wamid.late", "emoji": "👍"}))
    await deliver(client, drain_jobs, wa, inbound("wamid.late", T0, "text", {"body": "price?"}))
    assert (await one_message(runtime, "wamid.late")).reaction_emoji == "👍"


async def test_user_changed_number_is_recorded_on_the_contact(client, runtime, drain_jobs, wa) -> None:
    await deliver(client, drain_jobs, wa, inbound("wamid.hi", T0, "text", {"body": "hi"}))
    system = inbound("wamid.sys", T0 + timedelta(hours=1), "system", {
        "body": f"User A changed from {CUSTOMER} to 919800000001", "wa_id": "919800000001",
        "type": "user_changed_number"})
    await deliver(client, drain_jobs, wa, system, contacts=[])  # system messages come without contacts
    message = await one_message(runtime, "wamid.sys")
    assert message.type == "system" and message.content["kind"] == "user_changed_number"
    [contact] = await rows(runtime, Contact)
    assert contact.changed_number_to == "919800000001"
    assert contact.last_inbound_at == T0  # a system notice is not the customer writing
    [conversation] = await rows(runtime, Conversation)
    assert conversation.unread_count == 1 and conversation.csw_expires_at == T0 + timedelta(hours=24)


async def test_value_level_errors_are_recorded(client, runtime, drain_jobs, wa) -> None:
    errors = [{"code": 131000, "title": "Something went wrong", "message": "Something went wrong",
               "error_data": {"details": "Unsupported webhook payload"}}]
    response = await post_webhook(client, envelope(wa.waba_id, [messages_change(wa, errors=errors)]))
    assert response.json() == {"stored": 1, "duplicates": 0}
    await drain_jobs()
    [event] = await rows(runtime, InboundEvent)
    assert event.kind == "errors" and event.state == "routed" and "131000" in (event.note or "")


async def test_profile_name_follows_the_latest_message_whatever_the_order(client, runtime, drain_jobs, wa) -> None:
    newer = inbound("wamid.new", T0 + timedelta(minutes=5), "text", {"body": "b"})
    older = inbound("wamid.old", T0, "text", {"body": "a"})
    await deliver(client, drain_jobs, wa, newer, contacts=[{"profile": {"name": "Asha V."}, "wa_id": CUSTOMER}])
    await deliver(client, drain_jobs, wa, older, contacts=[{"profile": {"name": "Asha Old"}, "wa_id": CUSTOMER}])
    [contact] = await rows(runtime, Contact)
    assert contact.profile_name == "Asha V."
    assert (contact.first_seen_at, contact.last_inbound_at) == (T0, T0 + timedelta(minutes=5))


async def test_message_to_a_number_of_another_account_is_not_routed(client, runtime, drain_jobs, wa) -> None:
    from tests.support.whatsapp import make_whatsapp

    other = await make_whatsapp(runtime)
    change = messages_change(wa, messages=[inbound("wamid.x", T0, "text", {"body": "x"})])
    change["value"]["metadata"]["phone_number_id"] = other.phone_number_id  # signed by wa's app, names other's number
    assert (await post_webhook(client, envelope(wa.waba_id, [change]))).status_code == 200
    await drain_jobs()
    assert await rows(runtime, Message) == []
    [event] = await rows(runtime, InboundEvent)
    assert event.state == "failed" and "not connected to this WhatsApp account" in (event.last_error or "")


async def test_message_received_is_published_after_commit(client, runtime, drain_jobs, wa, published) -> None:
    await deliver(client, drain_jobs, wa, inbound("wamid.live", T0, "text", {"body": "Namaste"}))
    await deliver(client, drain_jobs, wa, inbound("wamid.live", T0, "text", {"body": "Namaste"}))  # replay
    [event] = [e for e in published if e["type"] == "message.received"]
    message = await one_message(runtime, "wamid.live")
    assert event["permission"] == "conversations:read" and event["organization_id"] == wa.org.org.id
    assert event["data"] | {"organization_id": 0} == {
        "organization_id": 0, "conversation_id": message.conversation_id, "message_id": message.id,
        "contact_id": message.contact_id, "phone_number_id": wa.phone.id, "message_type": "text",
        "preview": "Namaste", "contact_name": "Asha Verma"}
    assert event["summary"] == "New WhatsApp message from Asha Verma: Namaste"  # the dashboard's toast
