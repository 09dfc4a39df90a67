"""Coexistence webhooks (reference §10.3) through the real endpoint and the routing job: the Business app's chat
history, its message echoes and its contacts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import update

from softdukan.contact.models import Contact
from softdukan.conversation.media.models import MediaFile
from softdukan.conversation.models import Conversation, Message
from softdukan.inbound.models import InboundEvent
from softdukan.number.models import PhoneNumber
from tests.support.whatsapp import (
    CUSTOMER,
    envelope,
    inbound,
    messages_change,
    post_webhook,
    rows,
    ts,
)
from tests.support.whatsapp_fixtures import T0

OTHER = "12125557890"


def change(wa, field: str, **value: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return {"field": field, "value": {"messaging_product": "whatsapp", "metadata": {
        "display_phone_number": wa.phone.display_phone_number, "phone_number_id": wa.phone_number_id}, **value}}


def history_chunk(wa, progress: int, threads: list[dict[str, Any]], chunk: int = 1  # type: ignore[no-untyped-def]
                  ) -> dict[str, Any]:
    return change(wa, "history", history=[{"metadata": {"phase": 0, "chunk_order": chunk, "progress": progress},
                                           "threads": threads}])


def msg(wamid: str, sender: str, minutes: int, body: str | None = None, status: str = "READ", **extra: Any
        ) -> dict[str, Any]:
    at = ts(T0 - timedelta(days=3) + timedelta(minutes=minutes))
    item: dict[str, Any] = {"from": sender, "id": wamid, "timestamp": at, "history_context": {"status": status}}
    if body is None:
        item["type"] = "media_placeholder"
    else:
        item |= {"type": "text", "text": {"body": body}}
    return item | extra


async def send(client, drain_jobs, wa, *changes: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    response = await post_webhook(client, envelope(wa.waba_id, list(changes)))
    assert response.status_code == 200, response.text
    await drain_jobs()


async def set_history(runtime, wa, value: str) -> None:  # type: ignore[no-untyped-def]
    async with runtime.sessionmaker() as session:
        await session.execute(update(PhoneNumber).where(PhoneNumber.id == wa.phone.id).values(history_import=value))
        await session.commit()


async def test_history_is_imported_once_without_opening_the_window(client, runtime, drain_jobs, wa, published
                                                                   ) -> None:
    await set_history(runtime, wa, "requested")
    business = wa.phone.display_phone_number
    first = history_chunk(wa, 55, [
        {"id": CUSTOMER, "messages": [msg("wamid.h1", business, 0, "Here's the info you requested!"),
                                      msg("wamid.h2", business, 1, status="PLAYED"),
                                      msg("wamid.h3", CUSTOMER, 2, "Thanks!")]},
        {"id": OTHER, "messages": [msg("wamid.h4", business, 3, "Thanks for your order!", status="DELIVERED")]}])
    await send(client, drain_jobs, wa, first)
    await send(client, drain_jobs, wa, first)  # Meta retries: nothing twice

    messages = {m.wamid: m for m in await rows(runtime, Message)}
    assert set(messages) == {"wamid.h1", "wamid.h2", "wamid.h3", "wamid.h4"}
    assert all(m.origin == "history" and m.imported for m in messages.values())
    assert (messages["wamid.h1"].direction, messages["wamid.h1"].status) == ("out", "read")
    assert messages["wamid.h2"].type == "media_placeholder" and messages["wamid.h2"].status == "played"
    assert (messages["wamid.h3"].direction, messages["wamid.h3"].status) == ("in", "received")
    assert messages["wamid.h4"].status == "delivered"
    for conversation in await rows(runtime, Conversation):
        assert conversation.csw_expires_at is None and conversation.last_inbound_at is None  # §10.3
        assert conversation.unread_count == 0 and conversation.last_message_at is not None
    assert {c.wa_id for c in await rows(runtime, Contact)} == {CUSTOMER, OTHER}
    assert not [e for e in published if e["type"] == "message.received"]  # no toast flood
    [phone] = await rows(runtime, PhoneNumber, PhoneNumber.id == wa.phone.id)
    assert phone.history_import == "requested"  # 55 %

    # the media content of the placeholder comes in a later history webhook; then the last chunk
    image = {"caption": "Black Prince echeveria", "mime_type": "image/jpeg", "sha256": "3f9d", "id": "24230790383"}
    media_change = change(wa, "history", messages=[{"from": business, "to": CUSTOMER, "id": "wamid.h2",
                                                    "timestamp": ts(T0 - timedelta(days=3)), "type": "image",
                                                    "image": image}])
    await send(client, drain_jobs, wa, media_change,
               history_chunk(wa, 100, [{"id": CUSTOMER, "messages": [msg("wamid.h5", CUSTOMER, 4, "See you")]}], 2))
    [filled] = await rows(runtime, Message, Message.wamid == "wamid.h2")
    assert filled.type == "image" and filled.content["caption"] == "Black Prince echeveria"
    [media] = await rows(runtime, MediaFile, MediaFile.message_id == filled.id)
    assert media.media_id == "24230790383"
    [phone] = await rows(runtime, PhoneNumber, PhoneNumber.id == wa.phone.id)
    assert phone.history_import == "done"
    assert any(e["type"] == "number.updated" and e["data"]["number_id"] == wa.phone.id for e in published)
    assert all(e.state == "routed" for e in await rows(runtime, InboundEvent))

    # a customer's message after onboarding opens the window as usual
    await send(client, drain_jobs, wa, messages_change(wa, messages=[inbound("wamid.live", T0, "text",
                                                                             {"body": "Still open?"})]))
    [conversation] = await rows(runtime, Conversation, Conversation.id == filled.conversation_id)
    assert conversation.csw_expires_at == T0 + timedelta(hours=24) and conversation.unread_count == 1


async def test_history_sharing_turned_off_marks_the_import_declined(client, runtime, drain_jobs, wa) -> None:
    await set_history(runtime, wa, "requested")
    error = {"code": 2593109, "title": "History sync is turned off by the business from the WhatsApp Business App",
             "message": "History sync is turned off", "error_data": {"details": "History sharing is turned off"}}
    await send(client, drain_jobs, wa, change(wa, "history", history=[{"errors": [error]}]))
    [phone] = await rows(runtime, PhoneNumber, PhoneNumber.id == wa.phone.id)
    assert phone.history_import == "declined"
    [event] = await rows(runtime, InboundEvent)
    assert event.state == "routed" and "turned history sharing off" in (event.note or "")


async def test_an_unreadable_history_message_is_skipped_not_fatal(client, runtime, drain_jobs, wa) -> None:
    broken = {"from": CUSTOMER, "type": "text", "text": {"body": "no id"}, "timestamp": "x"}
    await send(client, drain_jobs, wa, history_chunk(wa, 10, [
        {"id": CUSTOMER, "messages": [broken, msg("wamid.ok", CUSTOMER, 1, "fine")]}]))
    assert [m.wamid for m in await rows(runtime, Message)] == ["wamid.ok"]
    [event] = await rows(runtime, InboundEvent)
    assert event.state == "routed" and "1 unreadable" in (event.note or "")


async def test_business_app_echoes_are_outbound_and_leave_the_window_alone(client, runtime, drain_jobs, wa,
                                                                          published) -> None:
    echo = {"from": wa.phone.display_phone_number, "to": CUSTOMER, "id": "wamid.echo", "timestamp": ts(T0),
            "type": "text", "text": {"body": "Sent from my phone"}}
    await send(client, drain_jobs, wa, change(wa, "smb_message_echoes", message_echoes=[echo]))
    await send(client, drain_jobs, wa, change(wa, "smb_message_echoes", message_echoes=[echo]))
    [message] = await rows(runtime, Message)
    assert (message.direction, message.origin, message.status) == ("out", "business_app", "sent")
    assert message.preview == "Sent from my phone"
    [conversation] = await rows(runtime, Conversation)
    assert conversation.csw_expires_at is None and conversation.last_message_at == T0
    [echoed] = [e for e in published if e["type"] == "message.echoed"]
    assert echoed["data"]["conversation_id"] == conversation.id and "summary" not in echoed


async def test_business_app_contacts_are_synced(client, runtime, drain_jobs, wa) -> None:
    def item(number: str, action: str, name: str | None = None) -> dict[str, Any]:
        contact: dict[str, Any] = {"phone_number": number}
        if name:
            contact |= {"full_name": name, "first_name": name.split()[0]}
        return {"type": "contact", "contact": contact, "action": action, "metadata": {"timestamp": ts(T0)}}

    await send(client, drain_jobs, wa, change(wa, "smb_app_state_sync", state_sync=[
        item("16505551234", "add", "Pablo Morales"), item("919800000001", "remove"), item("abc", "add", "Nobody")]))
    contacts = await rows(runtime, Contact)
    assert [(c.wa_id, c.profile_name) for c in contacts] == [("16505551234", "Pablo Morales")]
    [event] = await rows(runtime, InboundEvent)
    assert event.note == "business app contacts: 1 added or updated, 1 removed, 1 unreadable"
