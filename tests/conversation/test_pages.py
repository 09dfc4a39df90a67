"""Conversation pages in-process: every message type rendered like WhatsApp (seeded straight into the database),
ticks and failure reasons, the window state, the reply box inside and outside the window, the live fragments."""

from __future__ import annotations

from datetime import timedelta
from itertools import count
from typing import Any

import pytest

from softdukan.conversation.models import Conversation, Message
from softdukan.conversation.send import SEND_TASK
from softdukan.platform.jobs.models import Job
from tests.support.factories import browser_sign_in, csrf_from, make_org
from tests.support.whatsapp import envelope, inbound, messages_change, post_webhook, rows
from tests.support.whatsapp_fixtures import T0

_seq = count(1)
REFERRAL = {"source_url": "https://fb.me/ad1", "source_id": "ADID", "source_type": "ad",
            "headline": "Diwali sale on sweets", "body": "50% off", "media_type": "image", "ctwa_clid": "CLID"}


@pytest.fixture
async def conversation(client, runtime, drain_jobs, wa) -> Conversation:  # type: ignore[no-untyped-def]
    payload = envelope(wa.waba_id, [messages_change(wa, messages=[
        inbound("wamid.first", T0, "text", {"body": "Hi there"}, referral=REFERRAL)])])
    assert (await post_webhook(client, payload)).status_code == 200
    await drain_jobs()
    (conversation,) = await rows(runtime, Conversation)
    await browser_sign_in(client, wa.org.owner.email)
    return conversation  # type: ignore[no-any-return]


async def seed(runtime, conversation: Conversation, direction: str, type: str, content: dict[str, Any],  # type: ignore[no-untyped-def]
               *, status: str | None = None, **extra: Any) -> Message:
    n = next(_seq)
    at = T0 + timedelta(minutes=n)
    message = Message(organization_id=conversation.organization_id, conversation_id=conversation.id,
                      contact_id=conversation.contact_id, phone_number_id=conversation.phone_number_id,
                      direction=direction, wamid=extra.pop("wamid", f"wamid.seed{n}"), type=type, content=content,
                      preview=extra.pop("preview", f"{type} {n}"),
                      status=status or ("received" if direction == "in" else "sent"), occurred_at=at,
                      created_at=at, updated_at=at, **extra)
    async with runtime.sessionmaker() as session:
        session.add(message)
        await session.commit()
    return message


def bubble(html: str, message: Message) -> str:
    """The HTML of one message: from its row to the next message's row."""
    start = html.index(f'id="msg-{message.id}"')
    following = html.find('id="msg-', start + 1)
    return html[start:following if following != -1 else len(html)]


async def test_every_message_type_renders_like_whatsapp(client, runtime, wa, conversation) -> None:
    s = lambda *a, **k: seed(runtime, conversation, *a, **k)  # noqa: E731
    texts = await s("in", "text", {"body": "Line one\nLine two"})
    image = await s("in", "image", {"kind": "image", "media_id": "m1", "mime_type": "image/jpeg", "sha256": None,
                                    "caption": "Broken lid"})
    voice = await s("in", "audio", {"kind": "audio", "media_id": "m2", "mime_type": "audio/ogg", "sha256": None,
                                    "voice": True})
    doc = await s("out", "document", {"id": "m3", "caption": "Your bill", "filename": "invoice-42.pdf"},
                  status="delivered")
    place = await s("in", "location", {"latitude": 12.97, "longitude": 77.59, "name": "MG Road Store",
                                       "address": "MG Road, Bengaluru"})
    card = await s("in", "contacts", {"contacts": [{"name": {"formatted_name": "Asha Rao"},
                                                     "phones": [{"phone": "+91 98123 45678", "type": "CELL"}]}]})
    buttons = await s("out", "interactive", {"type": "button", "body": {"text": "Confirm your slot?"}, "action": {
        "buttons": [{"type": "reply", "reply": {"id": "yes", "title": "Yes please"}},
                    {"type": "reply", "reply": {"id": "no", "title": "Not now"}}]}}, status="read",
                      preview="Confirm your slot?")
    menu = await s("out", "interactive", {"type": "list", "body": {"text": "Our menu"}, "action": {
        "button": "See dishes", "sections": [{"title": "Tea", "rows": [{"id": "c", "title": "Masala chai",
                                                                       "description": "Hot"}]}]}})
    product = await s("out", "interactive", {"type": "product", "body": {"text": "Look"}, "action": {
        "catalog_id": "1", "product_retailer_id": "SKU-MANGO"}})
    products = await s("out", "interactive", {"type": "product_list", "header": {"type": "text", "text": "Snacks"},
                                              "body": {"text": "Pick"}, "action": {"catalog_id": "1", "sections": [
                                                  {"title": "Fried", "product_items": [
                                                      {"product_retailer_id": "SAMOSA"},
                                                      {"product_retailer_id": "KACHORI"}]}]}})
    catalog = await s("out", "interactive", {"type": "catalog_message", "body": {"text": "Browse all"},
                                             "action": {"name": "catalog_message"}})
    cta = await s("out", "interactive", {"type": "cta_url", "body": {"text": "Track it"}, "action": {
        "name": "cta_url", "parameters": {"display_text": "Track order", "url": "https://shop.example/t/1"}}})
    flow = await s("out", "interactive", {"type": "flow", "body": {"text": "Book"}, "action": {
        "name": "flow", "parameters": {"flow_cta": "Book a table", "flow_id": "1", "flow_token": "t"}}})
    template = await s("out", "template", {"name": "order_shipped", "language": {"code": "en"}, "components": [
        {"type": "body", "parameters": [{"type": "text", "text": "Asha"}]}]}, status="pending", wamid=None)
    tapped = await s("in", "interactive", {"kind": "button_reply", "reply_id": "yes", "title": "Yes please"},
                     context_wamid=buttons.wamid)
    listed = await s("in", "interactive", {"kind": "list_reply", "reply_id": "c", "title": "Masala chai",
                                           "description": "Hot"})
    quick = await s("in", "button", {"payload": "STOP", "text": "Stop promotions"})
    order = await s("in", "order", {"catalog_id": "1", "text": "Deliver fast", "product_items": [
        {"product_retailer_id": "SAMOSA", "quantity": 3, "item_price": 20.0, "currency": "INR"}]})
    system = await s("in", "system", {"kind": "user_changed_number", "body": "Asha changed their number",
                                      "new_wa_id": "919800000000"})
    odd = await s("in", "unsupported", {"original_type": "hologram", "errors": []})
    failed = await s("out", "text", {"body": "Big sale!"}, status="failed", error_code=131026,
                     error_title="Message undeliverable", error_details="The recipient is not on WhatsApp.")
    await s("in", "reaction", {"message_id": doc.wamid, "emoji": "❤️"}, reaction_to_wamid=doc.wamid,
            reaction_emoji="❤️")
    async with runtime.sessionmaker() as session:  # routing puts the customer's reaction on its target
        target = await session.get(Message, doc.id)
        target.reaction_emoji = "❤️"  # type: ignore[union-attr]
        await session.commit()
    await s("out", "reaction", {"message_id": texts.wamid, "emoji": "👍"})

    page = await client.get(f"/conversations/{conversation.id}")
    assert page.status_code == 200, page.text
    html = page.text
    expect = {
        texts: ["Line one\nLine two", 'class="msg-text"', 'data-direction="in"', "👍"],
        image: ['data-media="image"', "Photo", "Broken lid"],
        voice: ["Voice message"],
        doc: ['data-media="document"', "invoice-42.pdf", "Your bill", 'data-status="delivered"', "✓✓", "❤️",
              'data-direction="out"'],
        place: ["MG Road Store", "MG Road, Bengaluru", "12.97"],
        card: ["Asha Rao", "+91 98123 45678"],
        buttons: ['data-interactive="button"', "Yes please", "Not now", 'data-status="read"', "text-primary"],
        menu: ['data-interactive="list"', "See dishes", "Masala chai"],
        product: ['data-interactive="product"', "SKU-MANGO"],
        products: ['data-interactive="product_list"', "SAMOSA", "KACHORI", "View items (2)"],
        catalog: ["View catalog"],
        cta: ["Track order", "https://shop.example/t/1"],
        flow: ['data-interactive="flow"', "Book a table"],
        template: ['data-template="order_shipped"', "Asha", 'data-status="pending"', "bi-clock"],
        tapped: ['data-interactive="button_reply"', "Yes please", "msg-quote", "Confirm your slot?"],
        listed: ['data-interactive="list_reply"', "Masala chai"],
        quick: ["Stop promotions"],
        order: ["Order · 1 item(s)", "SAMOSA", "Deliver fast"],
        system: ["msg-notice", "Asha changed their number"],
        odd: ["Unsupported message (hologram)"],
        failed: ['data-status="failed"', "Not delivered: Message undeliverable", "Meta error 131026",
                 "The recipient is not on WhatsApp."],
    }
    for message, shown in expect.items():
        part = bubble(html, message)
        for text in shown:
            assert text in part, (message.type, text, part[:600])
    first = bubble(html, (await rows(runtime, Message))[0])
    assert "Diwali sale on sweets" in first and "msg-referral" in first  # Click-to-WhatsApp referral card
    assert 'data-status="sent"' in bubble(html, cta) and ">✓<" in bubble(html, cta)
    assert 'data-type="reaction"' not in html  # reactions show on their targets, not as bubbles
    assert 'data-window="open"' in html and 'id="reply-form"' in html and 'sse-connect="/events"' in html


async def test_conversation_list_shows_contact_number_preview_unread_and_window(client, wa, conversation) -> None:
    page = await client.get("/conversations")
    assert page.status_code == 200
    assert 'href="/conversations"' in page.text  # in the navigation
    row = page.text.split(f'data-conversation-id="{conversation.id}"', 1)[1].split("</a>", 1)[0]
    for shown in ("Asha Verma", wa.phone.display_phone_number, "Hi there", 'data-field="unread"',
                  'data-window="open"'):
        assert shown in row, shown
    # opening the thread marks it seen
    await client.get(f"/conversations/{conversation.id}")
    again = (await client.get("/conversations")).text.split(f'data-conversation-id="{conversation.id}"', 1)[1]
    assert 'data-field="unread"' not in again.split("</a>", 1)[0]


async def test_reply_inside_the_window_sends_and_outside_shows_the_template_error(client, runtime, wa, conversation,
                                                                                   clock) -> None:
    html = (await client.get(f"/conversations/{conversation.id}")).text
    token = csrf_from(html)
    sent = await client.post(f"/conversations/{conversation.id}/reply", data={"text": "Sure!\nOn its way.",
                                                                               "csrf_token": token},
                             headers={"HX-Request": "true"})
    assert sent.status_code == 200, sent.text
    assert 'data-direction="out"' in sent.text and "Sure!\nOn its way." in sent.text and "bi-clock" in sent.text
    (reply,) = [m for m in await rows(runtime, Message) if m.direction == "out"]
    assert reply.status == "pending" and reply.sender_membership_id is not None
    assert [j.args["message_id"] for j in await rows(runtime, Job) if j.name == SEND_TASK] == [reply.id]

    clock.advance(hours=25)
    page = await client.get(f"/conversations/{conversation.id}")
    assert 'data-window="closed"' in page.text and "send a template" in page.text
    refused = await client.post(f"/conversations/{conversation.id}/reply", data={"text": "Hello?", "csrf_token": token},
                                headers={"HX-Request": "true"})
    assert refused.status_code == 422
    assert refused.headers["HX-Retarget"] == "#reply-error" and 'data-error-code="window_closed"' in refused.text
    assert "template" in refused.text
    # without JavaScript: the page again, with the error and the text kept
    plain = await client.post(f"/conversations/{conversation.id}/reply", data={"text": "Hello?", "csrf_token": token})
    assert plain.status_code == 422 and "window_closed" in plain.text and ">Hello?</textarea>" in plain.text
    empty = await client.post(f"/conversations/{conversation.id}/reply", data={"text": " ", "csrf_token": token},
                              headers={"HX-Request": "true"})
    assert empty.status_code == 422
    assert len([m for m in await rows(runtime, Message) if m.direction == "out"]) == 1


async def test_live_fragments_rerender_a_bubble_and_the_thread_with_its_window(client, runtime, wa,
                                                                              conversation) -> None:
    message = await seed(runtime, conversation, "out", "text", {"body": "Tracking"}, status="delivered")
    one = await client.get(f"/conversations/{conversation.id}/messages/{message.id}")
    assert one.status_code == 200 and f'id="msg-{message.id}"' in one.text and 'data-status="delivered"' in one.text
    thread = await client.get(f"/conversations/{conversation.id}/thread")
    assert thread.status_code == 200 and "Tracking" in thread.text
    assert 'id="window-state"' in thread.text and 'hx-swap-oob="true"' in thread.text
    # a message of another conversation is not served through this one
    other = await make_org(runtime)
    assert (await client.get(f"/conversations/{conversation.id + 1000}/messages/{message.id}")).status_code == 404
    assert other is not None


async def test_reader_sees_no_reply_box_and_cannot_post(client, runtime, wa, conversation) -> None:
    from tests.dashboard import add_member

    user, _ = await add_member(runtime, wa.org, "viewer", permissions=["conversations:read"])
    await client.post("/sign-out", data={"csrf_token": csrf_from((await client.get("/")).text)})
    await browser_sign_in(client, user.email)
    page = await client.get(f"/conversations/{conversation.id}")
    assert page.status_code == 200 and 'id="reply-form"' not in page.text
    refused = await client.post(f"/conversations/{conversation.id}/reply",
                                data={"text": "x", "csrf_token": csrf_from(page.text)})
    assert refused.status_code == 403
