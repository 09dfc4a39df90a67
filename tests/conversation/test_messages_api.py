"""/v1/messages and /v1/conversations in-process: Meta-shaped input checked by WhatsApp's limits (422 naming the
field, nothing stored), the window rule, idempotent retries, reading and paging, scopes and other organizations."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from softdukan.conversation.models import Conversation, Message
from softdukan.conversation.send import SEND_TASK
from softdukan.platform.jobs.models import Job
from tests.support.factories import make_org
from tests.support.whatsapp import CUSTOMER, envelope, inbound, messages_change, post_webhook, rows
from tests.support.whatsapp_fixtures import T0


@pytest.fixture
async def conversation(client, runtime, drain_jobs, wa) -> Conversation:  # type: ignore[no-untyped-def]
    """The customer wrote "hi" at T0: the 24-hour window is open."""
    payload = envelope(wa.waba_id, [messages_change(wa, messages=[inbound("wamid.hi", T0, "text", {"body": "hi"})])])
    assert (await post_webhook(client, payload)).status_code == 200
    await drain_jobs()
    (conversation,) = await rows(runtime, Conversation)
    return conversation  # type: ignore[no-any-return]


async def counts(runtime) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    async with runtime.sessionmaker() as session:
        out = await session.scalar(select(func.count()).select_from(Message).where(Message.direction == "out"))
        jobs = await session.scalar(select(func.count()).select_from(Job).where(Job.name == SEND_TASK))
    return int(out or 0), int(jobs or 0)


async def test_text_inside_the_window_is_stored_pending_with_its_send_job(client, runtime, wa, conversation) -> None:
    response = await client.post("/v1/messages", headers=wa.org.auth, json={
        "messaging_product": "whatsapp", "conversation_id": conversation.id, "type": "text",
        "text": {"body": "Hello!\nYour order is ready."}})
    assert response.status_code == 202, response.text
    body = response.json()
    assert (body["status"], body["direction"], body["type"]) == ("pending", "out", "text")
    assert body["content"]["body"] == "Hello!\nYour order is ready." and body["wamid"] is None
    (job,) = [j for j in await rows(runtime, Job) if j.name == SEND_TASK]
    assert job.args["message_id"] == body["id"] and job.organization_id == wa.org.org.id


async def test_by_number_and_to_finds_the_conversation(client, wa, conversation) -> None:
    response = await client.post("/v1/messages", headers=wa.org.auth, json={
        "phone_number_id": wa.phone.id, "to": f"+{CUSTOMER}", "type": "location",
        "location": {"latitude": 12.97, "longitude": 77.59, "name": "Shop"}})
    assert response.status_code == 202, response.text
    assert response.json()["conversation_id"] == conversation.id
    assert response.json()["preview"] == "[Location] Shop"


async def test_outside_the_window_is_refused_pointing_to_templates(client, runtime, wa, conversation, clock) -> None:
    clock.advance(hours=24, seconds=1)
    response = await client.post("/v1/messages", headers=wa.org.auth,
                                 json={"conversation_id": conversation.id, "type": "text", "text": {"body": "late"}})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "window_closed" and "template" in error["message"]
    assert error["details"]["requires"] == "template"
    # a number that never wrote: no window at all
    fresh = await client.post("/v1/messages", headers=wa.org.auth,
                              json={"to": "919900000001", "type": "text", "text": {"body": "hi"}})
    assert fresh.status_code == 422 and fresh.json()["error"]["code"] == "window_closed"
    assert await counts(runtime) == (0, 0)


BAD: list[tuple[dict[str, Any], str, str]] = [
    ({"type": "text", "text": {"body": "x" * 4097}}, "invalid_message", "text.body"),
    ({"type": "text", "text": {"body": "   "}}, "invalid_message", "text.body"),
    ({"type": "text"}, "invalid_message", "text"),
    ({"type": "text", "text": "hello"}, "invalid_message", "text"),
    ({"type": "carrier_pigeon", "carrier_pigeon": {}}, "unsupported_message_type", "type"),
    ({"type": "template", "template": {"name": "hello", "language": "en", "values": "x"}}, "invalid_message",
     "template.values"),
    ({"type": "template"}, "invalid_message", "template"),
    ({"type": "image", "image": {"id": "1", "link": "https://x.example/a.jpg"}}, "invalid_message", "image"),
    ({"type": "location", "location": {"latitude": 91, "longitude": 0}}, "invalid_message", "location.latitude"),
    ({"type": "reaction", "reaction": {"message_id": "wamid.x", "emoji": "ok"}}, "invalid_message", "reaction.emoji"),
    ({"type": "contacts", "contacts": [{"name": {"formatted_name": "Asha"}}]}, "invalid_message", "contacts.name"),
    ({"type": "interactive", "interactive": {"type": "button", "body": {"text": "Pick"}, "action": {"buttons": [
        {"type": "reply", "reply": {"id": f"b{i}", "title": f"B{i}"}} for i in range(4)]}}},
     "invalid_message", "interactive.action.buttons"),
    ({"type": "interactive", "interactive": {"type": "button", "body": {"text": "Pick"}, "action": {"buttons": [
        {"type": "reply", "reply": {"id": "b", "title": "x" * 21}}]}}},
     "invalid_message", "interactive.action.buttons.title"),
    ({"type": "interactive", "interactive": {"type": "list", "body": {"text": "Menu"}, "action": {
        "button": "Open", "sections": [{"title": "All", "rows": [{"id": f"r{i}", "title": f"Row {i}"}
                                                                   for i in range(11)]}]}}},
     "invalid_message", "interactive.action.sections.rows"),
    ({"type": "interactive", "interactive": {"type": "cta_url", "body": {"text": "Go"},
                                             "action": {"name": "cta_url", "parameters": {
                                                 "display_text": "Visit", "url": "javascript:alert(1)"}}}},
     "invalid_message", "interactive.action.parameters.url"),
    ({"type": "interactive", "interactive": {"type": "teleport", "action": {}}}, "invalid_message",
     "interactive.type"),
    ({"type": "text", "text": {"body": "hi"}, "context": {"message_id": 5}}, "invalid_message",
     "context.message_id"),
    ({"type": "text", "text": {"body": "hi"}, "context": {"message_id": "wamid.not-here"}}, "context_not_found",
     "context.message_id"),
]


@pytest.mark.parametrize(("fields", "code", "field"), BAD, ids=[f"{c}:{f}" for _, c, f in BAD])
async def test_broken_messages_are_422_naming_the_field_and_store_nothing(client, runtime, wa, conversation,
                                                                          fields, code, field) -> None:
    response = await client.post("/v1/messages", headers=wa.org.auth,
                                 json={"conversation_id": conversation.id, **fields})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == code, error
    assert field in (error["details"] or {}), error
    assert await counts(runtime) == (0, 0)


async def test_every_send_type_builds(client, runtime, wa, conversation) -> None:
    samples: list[dict[str, Any]] = [
        {"type": "image", "image": {"link": "https://cdn.example/a.jpg", "caption": "New stock"}},
        {"type": "video", "video": {"id": "1037543291543636"}},
        {"type": "audio", "audio": {"id": "1037543291543637", "voice": True}},
        {"type": "document", "document": {"id": "1037543291543638", "filename": "invoice.pdf"}},
        {"type": "sticker", "sticker": {"id": "1037543291543639"}},
        {"type": "contacts", "contacts": [{"name": {"formatted_name": "Asha Rao", "first_name": "Asha"},
                                           "phones": [{"phone": "+91 98123 45678", "type": "CELL"}]}]},
        {"type": "reaction", "reaction": {"message_id": "wamid.hi", "emoji": "👍"}},
        {"type": "interactive", "interactive": {"type": "button", "body": {"text": "Confirm?"}, "action": {
            "buttons": [{"type": "reply", "reply": {"id": "yes", "title": "Yes"}}]}}},
        {"type": "interactive", "interactive": {"type": "list", "body": {"text": "Menu"}, "action": {
            "button": "Open", "sections": [{"title": "Tea", "rows": [{"id": "chai", "title": "Masala chai"}]}]}}},
        {"type": "interactive", "interactive": {"type": "product", "body": {"text": "Look"}, "action": {
            "catalog_id": "354160437058781", "product_retailer_id": "SKU1"}}},
        {"type": "interactive", "interactive": {"type": "product_list", "header": {"type": "text", "text": "Menu"},
                                                "body": {"text": "Pick"}, "action": {
            "catalog_id": "354160437058781", "sections": [{"title": "Snacks", "product_items": [
                {"product_retailer_id": "SAMOSA"}]}]}}},
        {"type": "interactive", "interactive": {"type": "catalog_message", "body": {"text": "Browse"},
                                                "action": {"name": "catalog_message"}}},
        {"type": "interactive", "interactive": {"type": "cta_url", "body": {"text": "Track"}, "action": {
            "name": "cta_url", "parameters": {"display_text": "Track order", "url": "https://shop.example/t/1"}}}},
        {"type": "interactive", "interactive": {"type": "flow", "body": {"text": "Book"}, "action": {
            "name": "flow", "parameters": {"flow_token": "tok", "flow_id": "123", "flow_cta": "Book now"}}}},
        {"type": "interactive", "interactive": {"type": "location_request_message", "body": {"text": "Where?"},
                                                "action": {"name": "send_location"}}},
    ]
    for sample in samples:
        response = await client.post("/v1/messages", headers=wa.org.auth,
                                     json={"conversation_id": conversation.id, **sample})
        assert response.status_code == 202, (sample["type"], response.text)
    assert await counts(runtime) == (len(samples), len(samples))


async def test_idempotency_key_sends_once(client, runtime, wa, conversation) -> None:
    request = {"conversation_id": conversation.id, "type": "text", "text": {"body": "once"}}
    headers = {**wa.org.auth, "Idempotency-Key": "order-42-confirmation"}
    first = await client.post("/v1/messages", headers=headers, json=request)
    again = await client.post("/v1/messages", headers=headers, json=request)
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"]
    assert await counts(runtime) == (1, 1)


async def test_read_scope_cannot_send_and_other_organizations_see_404(client, runtime, wa, conversation) -> None:
    reader = await make_org(runtime, scopes=["conversations:read"])
    other = await make_org(runtime)
    send = {"conversation_id": conversation.id, "type": "text", "text": {"body": "x"}}
    assert (await client.post("/v1/messages", headers=reader.auth, json=send)).status_code == 403
    response = await client.post("/v1/messages", headers=other.auth, json=send)
    assert response.status_code == 404 and response.json()["error"]["code"] == "conversation_not_found"
    wrong_number = {"phone_number_id": wa.phone.id, "to": CUSTOMER, "type": "text", "text": {"body": "x"}}
    assert (await client.post("/v1/messages", headers=other.auth, json=wrong_number)).status_code == 404
    for path in (f"/v1/conversations/{conversation.id}", f"/v1/conversations/{conversation.id}/messages"):
        assert (await client.get(path, headers=other.auth)).status_code == 404
    assert (await client.get("/v1/conversations", headers=other.auth)).json()["data"] == []
    assert await counts(runtime) == (0, 0)


async def test_conversations_and_messages_read_and_page(client, drain_jobs, wa, conversation) -> None:
    for i in range(1, 5):
        payload = envelope(wa.waba_id, [messages_change(wa, messages=[
            inbound(f"wamid.more{i}", T0 + timedelta(minutes=i), "text", {"body": f"message {i}"})])])
        assert (await post_webhook(client, payload)).status_code == 200
    await drain_jobs()

    listed = (await client.get("/v1/conversations", headers=wa.org.auth)).json()
    (item,) = listed["data"]
    assert item["id"] == conversation.id and item["contact"]["wa_id"] == CUSTOMER
    assert item["last_message_preview"] == "message 4" and item["unread_count"] == 5
    assert item["window"]["csw_open"] is True and listed["next_cursor"] is None
    detail = (await client.get(f"/v1/conversations/{conversation.id}", headers=wa.org.auth)).json()
    assert detail["display_phone_number"] == wa.phone.display_phone_number

    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(f"/v1/conversations/{conversation.id}/messages", headers=wa.org.auth,
                                 params=params)).json()
        seen += [m["content"]["body"] for m in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["message 4", "message 3", "message 2", "message 1", "hi"]
    one = (await client.get(f"/v1/conversations/{conversation.id}/messages", headers=wa.org.auth)).json()["data"][0]
    got = await client.get(f"/v1/messages/{one['id']}", headers=wa.org.auth)
    assert got.status_code == 200 and got.json()["wamid"] == "wamid.more4"
    bad = await client.get(f"/v1/conversations/{conversation.id}/messages", headers=wa.org.auth,
                           params={"cursor": "not-a-cursor"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_cursor"
