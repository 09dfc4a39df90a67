"""The phone simulator (/sandbox/phone): what the business sends renders as WhatsApp would, and what the person
taps becomes the inbound message WhatsApp sends (reference §3, §5.5), through the app in-process.

Business messages are sent through the sandbox's real Graph endpoint; inbound shapes are asserted on the signed
webhook bodies the sandbox queued for the business."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from softdukan.platform.runtime import Runtime
from softdukan.platform.uow import unit_of_work
from softdukan.sandbox import service
from softdukan.sandbox.models import SandboxMessage, SandboxWebhookDelivery

CUSTOMER = "919812345678"
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9aw"
                       "AAAABJRU5ErkJggg==")
FAST = {"sent_after_seconds": 0.0, "delivered_after_seconds": 0.0, "read_after_seconds": 3600.0,
        "delivery_ratio": 1.0, "read_ratio": 0.0, "template_review_delay_seconds": 0.0,
        "enforce_pair_rate": False}


@dataclass
class Phone:
    """The simulator in a test: the page over the in-process app, plus the business side (Graph API)."""

    runtime: Runtime
    client: httpx.AsyncClient
    drain: Any
    account: dict[str, Any]
    csrf: str = ""
    sent: dict[str, str] = field(default_factory=dict)

    @property
    def pnid(self) -> str:
        return str(self.account["phone_number_id"])

    @property
    def graph(self) -> str:
        return "/sandbox/graph/v24.0"

    async def open(self, wa_id: str = CUSTOMER, *, read: bool = True, status: int = 200) -> str:
        response = await self.client.get("/sandbox/phone", params={"phone_number_id": self.pnid, "wa_id": wa_id,
                                                                   "read": "1" if read else "0"})
        assert response.status_code == status, response.text
        token = re.search(r'<meta name="csrf-token" content="([^"]+)"', response.text)
        assert token, "the page carries the CSRF token"
        self.csrf = token.group(1)
        return response.text

    async def post(self, path: str, data: dict[str, str], *, files: Any = None, htmx: bool = True,
                   wa_id: str = CUSTOMER, csrf: bool = True) -> httpx.Response:
        if not self.csrf:
            await self.open()
        form = {"phone_number_id": self.pnid, "wa_id": wa_id, **({"csrf_token": self.csrf} if csrf else {}), **data}
        headers = {"HX-Request": "true"} if htmx else {}
        return await self.client.post(f"/sandbox/phone{path}", data=form, files=files, headers=headers)

    async def says(self, text: str = "hi", **extra: str) -> httpx.Response:
        response = await self.post("/send", {"kind": "text", "body": text, **extra})
        assert response.status_code == 200, response.text
        return response

    async def business_sends(self, name: str, body: dict[str, Any], to: str = CUSTOMER) -> str:
        response = await self.client.post(
            f"{self.graph}/{self.pnid}/messages", headers={"Authorization": f"Bearer {self.account['access_token']}"},
            json={"messaging_product": "whatsapp", "to": to, **body})
        assert response.status_code == 200, (name, response.text)
        self.sent[name] = response.json()["messages"][0]["id"]
        return self.sent[name]

    async def upload(self, data: bytes, mime: str, filename: str) -> str:
        response = await self.client.post(
            f"{self.graph}/{self.pnid}/media", headers={"Authorization": f"Bearer {self.account['access_token']}"},
            data={"messaging_product": "whatsapp", "type": mime}, files={"file": (filename, data, mime)})
        assert response.status_code == 200, response.text
        return str(response.json()["id"])

    async def template(self, name: str, components: list[dict[str, Any]], category: str = "MARKETING") -> None:
        response = await self.client.post(
            f"{self.graph}/{self.account['waba_id']}/message_templates",
            headers={"Authorization": f"Bearer {self.account['access_token']}"},
            json={"name": name, "language": "en_US", "category": category, "components": components})
        assert response.status_code == 200, response.text
        await self.drain()  # the review job approves it (no delay in FAST)

    async def inbound(self) -> list[dict[str, Any]]:
        """The customer's messages, as the webhook bodies the sandbox queued for the business."""
        async with self.runtime.sessionmaker() as session:
            rows = (await session.execute(select(SandboxWebhookDelivery).order_by(SandboxWebhookDelivery.id))).scalars()
            bodies = [json.loads(d.body) for d in rows.all()]
        return [m for b in bodies for e in b["entry"] for c in e["changes"] for m in c["value"].get("messages", [])]

    async def statuses(self) -> list[dict[str, Any]]:
        async with self.runtime.sessionmaker() as session:
            rows = (await session.execute(select(SandboxWebhookDelivery).order_by(SandboxWebhookDelivery.id))).scalars()
            bodies = [json.loads(d.body) for d in rows.all()]
        return [s for b in bodies for e in b["entry"] for c in e["changes"] for s in c["value"].get("statuses", [])]

    async def message(self, wamid: str) -> SandboxMessage:
        async with self.runtime.sessionmaker() as session:
            found = (await session.execute(select(SandboxMessage).where(SandboxMessage.wamid == wamid))).scalar_one()
            return found


async def open_phone(runtime: Runtime, client: httpx.AsyncClient, drain: Any) -> Phone:
    async with unit_of_work(runtime) as uow:
        await service.update_profile(uow, FAST)
        account = await service.provision(
            uow, app_id="1234567890123456", app_secret="sandbox-app-secret-0123456789abcdef", callback_url=None,
            verify_token=None, business_name="Asha Stores", verified_name="Asha Stores",
            display_phone_number="919800000001")
        await service.upsert_customer(uow, CUSTOMER, name="Ravi Kumar")
    return Phone(runtime, client, drain, account)


@pytest.fixture
async def phone(runtime: Runtime, client: httpx.AsyncClient, drain_jobs: Any) -> Phone:
    return await open_phone(runtime, client, drain_jobs)


def bubble(page: str, wamid: str) -> str:
    """The HTML of one bubble (up to the next one)."""
    start = page.index(f'data-wamid="{wamid}"')
    following = page.find('data-wamid="', start + 20)
    return page[start: following if following != -1 else len(page)]


ORDER = {
    "type": "order_details", "body": {"text": "Your order is ready"}, "footer": {"text": "Thanks"},
    "action": {"name": "review_and_pay", "parameters": {
        "reference_id": "SIM-ORDER-1", "type": "digital-goods", "currency": "INR",
        "payment_settings": [{"type": "payment_gateway", "payment_gateway": {
            "type": "razorpay", "configuration_name": "payment-config-id", "razorpay": {"receipt": "r-1"}}}],
        "total_amount": {"value": 21000, "offset": 100},
        "order": {"status": "pending", "catalog_id": "354160437058781",
                  "items": [{"retailer_id": "1234567", "name": "Bread", "amount": {"value": 10000, "offset": 100},
                             "quantity": 2}],
                  "subtotal": {"value": 20000, "offset": 100}, "tax": {"value": 1000, "offset": 100}}}}}


async def seed_every_type(phone: Phone, hello: str) -> None:
    image_id = await phone.upload(PNG, "image/png", "dot.png")
    pdf_id = await phone.upload(b"%PDF-1.4 sandbox invoice", "application/pdf", "invoice.pdf")
    await phone.template("diwali_offer", [
        {"type": "HEADER", "format": "TEXT", "text": "Hello {{1}}", "example": {"header_text": ["Asha"]}},
        {"type": "BODY", "text": "Use code {{1}} for {{2}} off today.", "example": {"body_text": [["DIWALI", "30%"]]}},
        {"type": "FOOTER", "text": "Reply STOP to opt out"},
        {"type": "BUTTONS", "buttons": [
            {"type": "QUICK_REPLY", "text": "Interested"}, {"type": "QUICK_REPLY", "text": "Not now"},
            {"type": "URL", "text": "Shop", "url": "https://shop.example.com/o/{{1}}",
             "example": ["https://shop.example.com/o/diwali"]}]}])
    sends: dict[str, dict[str, Any]] = {
        "text": {"type": "text", "text": {"body": "Namaste! How can we help?"}},
        "quote": {"type": "text", "text": {"body": "Replying to you"}, "context": {"message_id": hello}},
        "image": {"type": "image", "image": {"id": image_id, "caption": "Our new shop"}},
        "document": {"type": "document", "document": {"id": pdf_id, "filename": "invoice.pdf", "caption": "Invoice"}},
        "video": {"type": "video", "video": {"link": "https://cdn.example.com/tour.mp4"}},
        "location": {"type": "location", "location": {"latitude": 12.9716, "longitude": 77.5946,
                                                       "name": "Asha Stores MG Road", "address": "MG Road, Bengaluru"}},
        "contacts": {"type": "contacts", "contacts": [{"name": {"formatted_name": "Asha Rao", "first_name": "Asha"},
                                                        "phones": [{"phone": "+91 98123 45678", "type": "CELL"}]}]},
        "buttons": {"type": "interactive", "interactive": {
            "type": "button", "body": {"text": "Confirm your delivery slot?"}, "footer": {"text": "Asha Stores"},
            "action": {"buttons": [{"type": "reply", "reply": {"id": "slot-yes", "title": "Yes, confirm"}},
                                   {"type": "reply", "reply": {"id": "slot-no", "title": "Change slot"}}]}}},
        "list": {"type": "interactive", "interactive": {
            "type": "list", "header": {"type": "text", "text": "Shipping"}, "body": {"text": "Pick a speed"},
            "action": {"button": "Options", "sections": [{"title": "Fast", "rows": [
                {"id": "express", "title": "Express", "description": "Next day"},
                {"id": "standard", "title": "Standard"}]}]}}},
        "template": {"type": "template", "template": {"name": "diwali_offer", "language": {"code": "en_US"},
                                                      "components": [
            {"type": "header", "parameters": [{"type": "text", "text": "Ravi"}]},
            {"type": "body", "parameters": [{"type": "text", "text": "DIWALI30"}, {"type": "text", "text": "30%"}]},
            {"type": "button", "sub_type": "quick_reply", "index": 0,
             "parameters": [{"type": "payload", "payload": "OFFER_YES"}]},
            {"type": "button", "sub_type": "url", "index": 2, "parameters": [{"type": "text", "text": "ravi-42"}]}]}},
        "cta_url": {"type": "interactive", "interactive": {"type": "cta_url", "body": {"text": "See our menu"},
                    "action": {"name": "cta_url", "parameters": {"display_text": "Open menu",
                                                                 "url": "https://shop.example.com/menu"}}}},
        "product": {"type": "interactive", "interactive": {"type": "product", "body": {"text": "Check this out"},
                    "action": {"catalog_id": "354160437058781", "product_retailer_id": "SKU-KURTA"}}},
        "product_list": {"type": "interactive", "interactive": {
            "type": "product_list", "header": {"type": "text", "text": "Festive picks"}, "body": {"text": "Pick items"},
            "action": {"catalog_id": "354160437058781", "sections": [{"title": "Sweets", "product_items": [
                {"product_retailer_id": "SKU-LADDU"}, {"product_retailer_id": "SKU-BARFI"}]}]}}},
        "catalog": {"type": "interactive", "interactive": {"type": "catalog_message", "body": {"text": "Browse it"},
                    "action": {"name": "catalog_message",
                               "parameters": {"thumbnail_product_retailer_id": "SKU-KURTA"}}}},
        "order_details": {"type": "interactive", "interactive": ORDER},
        "order_status": {"type": "interactive", "interactive": {
            "type": "order_status", "body": {"text": "Your order shipped"},
            "action": {"name": "review_order", "parameters": {
                "reference_id": "SIM-ORDER-1", "order": {"status": "shipped", "description": "Out with BlueDart"}}}}},
        "reaction": {"type": "reaction", "reaction": {"message_id": hello, "emoji": "🙏"}},
    }
    for name, body in sends.items():
        await phone.business_sends(name, body)
    await phone.drain()  # sent → delivered


async def test_every_business_message_type_renders_as_whatsapp_would(phone: Phone) -> None:
    await phone.says("hi")
    hello = (await phone.inbound())[-1]["id"]
    await seed_every_type(phone, hello)
    page = await phone.open()
    sent = phone.sent

    assert "Namaste! How can we help?" in bubble(page, sent["text"])
    quote = bubble(page, sent["quote"])
    assert 'class="quoted"' in quote and "hi" in quote and "Replying to you" in quote
    image = bubble(page, sent["image"])
    assert 'src="/sandbox/phone/media/' in image and "Our new shop" in image and 'data-kind="media"' in image
    media_url = re.search(r'src="(/sandbox/phone/media/[^"]+)"', image)
    assert media_url
    served = await phone.client.get(media_url.group(1).replace("&amp;", "&"))
    assert served.status_code == 200 and served.content == PNG and served.headers["content-type"] == "image/png"
    document = bubble(page, sent["document"])
    assert 'data-kind="file"' in document and "invoice.pdf" in document and "Invoice" in document
    assert 'src="https://cdn.example.com/tour.mp4"' in bubble(page, sent["video"])
    location = bubble(page, sent["location"])
    assert "Asha Stores MG Road" in location and "MG Road, Bengaluru" in location and "12.9716" in location
    contact = bubble(page, sent["contacts"])
    assert "Asha Rao" in contact and "+91 98123 45678" in contact
    buttons = bubble(page, sent["buttons"])
    assert "Confirm your delivery slot?" in buttons and "Yes, confirm" in buttons and "Change slot" in buttons
    assert 'name="choice" value="0"' in buttons and 'action="/sandbox/phone/tap"' in buttons
    listed = bubble(page, sent["list"])
    assert "<summary" in listed and "Options" in listed and "Next day" in listed and 'value="express"' in listed
    template = bubble(page, sent["template"])
    assert "Hello Ravi" in template and "Use code DIWALI30 for 30% off today." in template
    assert "Reply STOP to opt out" in template and "Interested" in template and "Not now" in template
    assert 'href="https://shop.example.com/o/ravi-42"' in template
    cta = bubble(page, sent["cta_url"])
    assert 'href="https://shop.example.com/menu"' in cta and "Open menu" in cta
    assert 'data-product="SKU-KURTA"' in bubble(page, sent["product"])
    products = bubble(page, sent["product_list"])
    assert "Festive picks" in products and 'data-product="SKU-LADDU"' in products and "Sweets" in products
    assert "View catalog" in bubble(page, sent["catalog"])
    order = bubble(page, sent["order_details"])
    assert "SIM-ORDER-1" in order and "Bread × 2" in order and "₹210.00" in order and "₹100.00" in order
    status = bubble(page, sent["order_status"])
    assert 'order-status">shipped<' in status and "Out with BlueDart" in status
    # the reaction sits on the customer's message instead of being a bubble of its own
    assert f'data-wamid="{sent["reaction"]}"' not in page
    assert "🙏" in bubble(page, hello)


async def test_tapping_reply_buttons_list_rows_and_quick_replies_sends_whatsapp_shapes(phone: Phone) -> None:
    await phone.says("hi")
    hello = (await phone.inbound())[-1]["id"]
    await seed_every_type(phone, hello)
    await phone.open()
    sent = phone.sent

    tapped = await phone.post("/tap", {"wamid": sent["buttons"], "choice": "1"})
    assert tapped.status_code == 200 and "Change slot" in tapped.text
    reply = (await phone.inbound())[-1]
    assert reply["type"] == "interactive"
    assert reply["interactive"] == {"type": "button_reply", "button_reply": {"id": "slot-no", "title": "Change slot"}}
    assert reply["context"] == {"from": "919800000001", "id": sent["buttons"]}

    await phone.post("/tap", {"wamid": sent["list"], "choice": "express"})
    row = (await phone.inbound())[-1]
    assert row["interactive"] == {"type": "list_reply",
                                  "list_reply": {"id": "express", "title": "Express", "description": "Next day"}}
    assert row["context"]["id"] == sent["list"]

    await phone.post("/tap", {"wamid": sent["template"], "choice": "0"})  # payload given by the business
    quick = (await phone.inbound())[-1]
    assert quick["type"] == "button" and quick["button"] == {"payload": "OFFER_YES", "text": "Interested"}
    assert quick["context"]["id"] == sent["template"]
    await phone.post("/tap", {"wamid": sent["template"], "choice": "1"})  # no payload: the button's text
    assert (await phone.inbound())[-1]["button"] == {"payload": "Not now", "text": "Not now"}

    page = await phone.open()
    assert 'class="quoted"' in bubble(page, (await phone.inbound())[-1]["id"])  # the reply quotes the template


async def test_location_image_and_ad_reply_become_inbound_messages(phone: Phone) -> None:
    located = await phone.post("/send", {"kind": "location", "latitude": "12.9352", "longitude": "77.6245",
                                         "name": "Koramangala", "address": "80 Feet Rd"})
    assert located.status_code == 200 and "Koramangala" in located.text
    assert (await phone.inbound())[-1]["location"] == {"latitude": 12.9352, "longitude": 77.6245,
                                                       "name": "Koramangala", "address": "80 Feet Rd"}

    sent = await phone.post("/send", {"kind": "image", "caption": "Is this in stock?"},
                            files={"image": ("kurta.png", PNG, "image/png")})
    assert sent.status_code == 200, sent.text
    image = (await phone.inbound())[-1]
    assert image["type"] == "image" and image["image"]["mime_type"] == "image/png"
    assert image["image"]["caption"] == "Is this in stock?" and image["image"]["id"]
    assert f"/sandbox/phone/media/{image['image']['id']}" in sent.text  # the phone shows its own picture
    download = await phone.client.get(f"{phone.graph}/{image['image']['id']}",
                                      headers={"Authorization": f"Bearer {phone.account['access_token']}"})
    assert download.status_code == 200 and download.json()["mime_type"] == "image/png"  # the business can fetch it

    await phone.post("/send", {"kind": "text", "body": "Saw your ad", "as_ad": "1", "ad_headline": "Diwali sale"})
    ad = (await phone.inbound())[-1]
    assert ad["text"] == {"body": "Saw your ad"}
    assert ad["referral"]["source_type"] == "ad" and ad["referral"]["headline"] == "Diwali sale"
    assert ad["referral"]["ctwa_clid"] and ad["referral"]["source_id"].isdigit()


async def test_opening_the_chat_marks_the_business_messages_read_unless_it_is_closed(phone: Phone) -> None:
    await phone.says("hi")
    first = await phone.business_sends("one", {"type": "text", "text": {"body": "First"}})
    await phone.drain()
    assert (await phone.message(first)).status == "delivered"
    page = await phone.open(read=False)  # the chat is not on screen: delivered stays delivered
    assert "First" in page and (await phone.message(first)).status == "delivered"
    await phone.open()
    assert (await phone.message(first)).status == "read"

    second = await phone.business_sends("two", {"type": "text", "text": {"body": "Second"}})
    await phone.drain()
    polled = await phone.client.get("/sandbox/phone/thread", params={"phone_number_id": phone.pnid,
                                                                     "wa_id": CUSTOMER, "read": "1"})
    assert polled.status_code == 200 and "Second" in polled.text
    assert (await phone.message(second)).status == "read"
    await phone.drain()
    assert any(s["id"] == second and s["status"] == "read" for s in await phone.statuses())  # the business hears
    fingerprint = re.search(r'data-fingerprint="([0-9a-f]+)"', polled.text)
    assert fingerprint
    unchanged = await phone.client.get("/sandbox/phone/thread", params={
        "phone_number_id": phone.pnid, "wa_id": CUSTOMER, "read": "1", "v": fingerprint.group(1)})
    assert unchanged.status_code == 204  # nothing new: htmx keeps the thread as it is


async def test_the_customers_own_messages_show_ticks_read_when_the_business_reads_them(phone: Phone) -> None:
    await phone.says("hello?")
    hello = (await phone.inbound())[-1]["id"]
    assert 'data-ticks="delivered"' in bubble(await phone.open(), hello)
    response = await phone.client.post(
        f"{phone.graph}/{phone.pnid}/messages", headers={"Authorization": f"Bearer {phone.account['access_token']}"},
        json={"messaging_product": "whatsapp", "status": "read", "message_id": hello})
    assert response.status_code == 200, response.text
    assert 'data-ticks="read"' in bubble(await phone.open(), hello)
