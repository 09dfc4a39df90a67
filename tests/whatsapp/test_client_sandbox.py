"""The Graph client against the sandbox over real HTTP: every send type, media, templates, phone numbers.

The whole product runs on `live_server` (with the sandbox mounted at /sandbox/graph); nothing of our own client is
mocked. The sandbox control API (`/_sandbox/…`) provisions numbers and plays customers.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from softdukan.whatsapp.client import GraphClient, MediaInfo, SentMessage
from softdukan.whatsapp.errors import (
    AccountError,
    AuthError,
    GraphError,
    RecipientError,
    TemplateError,
)
from softdukan.whatsapp.messages import (
    AudioMessage,
    CatalogMessage,
    Charge,
    Contact,
    ContactName,
    ContactPhone,
    ContactsMessage,
    CouponCodeParameter,
    CtaUrlMessage,
    DocumentMessage,
    FlowMessage,
    ImageMessage,
    ListMessage,
    ListRow,
    ListSection,
    LocationMessage,
    LocationRequestMessage,
    MediaHeader,
    Message,
    OrderDetailsMessage,
    OrderItem,
    OrderStatusMessage,
    PayloadParameter,
    PaymentGateway,
    ProductListMessage,
    ProductMessage,
    ProductSection,
    ReactionMessage,
    ReplyButton,
    ReplyButtonsMessage,
    StickerMessage,
    TemplateBody,
    TemplateButton,
    TemplateHeader,
    TemplateMessage,
    TextHeader,
    TextMessage,
    TextParameter,
    VideoMessage,
)
from tests.whatsapp.sandbox_support import Number, SandboxMeta, WebhookReceiver, eventually

CUSTOMER = "919812345678"
# A 1×1 PNG
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360f8cf"
    "c0f01f0005000201a5f5e4f20000000049454e44ae426082"
)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    hook = WebhookReceiver()
    hook.start()
    yield hook
    hook.stop()


@pytest.fixture
async def meta(runtime, live_server, receiver: WebhookReceiver) -> AsyncIterator[SandboxMeta]:  # type: ignore[no-untyped-def]
    sandbox = SandboxMeta(live_server, receiver)
    # quick status progression and instant template review keep the tests fast
    await sandbox.profile(template_review_delay_seconds=0, display_name_review_delay_seconds=0,
                          sent_after_seconds=0, delivered_after_seconds=0, read_after_seconds=0)
    yield sandbox
    await sandbox.aclose()


@pytest.fixture
async def number(meta: SandboxMeta) -> Number:
    return await meta.provision()


@pytest.fixture
def client(meta: SandboxMeta, number: Number) -> GraphClient:
    return meta.client(number.access_token)


async def open_window(meta: SandboxMeta, number: Number, wa_id: str = CUSTOMER) -> str:
    """The customer writes first: the 24 h window opens and we get an inbound wamid to read/react to."""
    await meta.customer(wa_id)
    return await meta.customer_says(wa_id, number.phone_number_id, "Hi, is the shop open?")


def all_send_cases(inbound_wamid: str, image_id: str) -> dict[str, Message]:
    return {
        "text": TextMessage("Yes, open till 9 pm https://example.com", preview_url=True),
        "image_link": ImageMessage(link="https://example.com/a.jpg", caption="Today's special"),
        "image_id": ImageMessage(id=image_id),
        "video_link": VideoMessage(link="https://example.com/v.mp4", caption="Tour"),
        "audio_voice": AudioMessage(link="https://example.com/a.ogg", voice=True),
        "document_link": DocumentMessage(link="https://example.com/i.pdf", caption="Invoice", filename="inv.pdf"),
        "sticker": StickerMessage(link="https://example.com/s.webp"),
        "location": LocationMessage(latitude=12.97, longitude=77.59, name="Shop", address="1 MG Road"),
        "contacts": ContactsMessage([Contact(
            name=ContactName(formatted_name="Asha Rao", first_name="Asha", last_name="Rao"),
            phones=[ContactPhone(phone="+91 98123 45678", type="CELL", wa_id="919812345678")])]),
        "reaction": ReactionMessage(message_id=inbound_wamid, emoji="👍"),
        "reply_buttons": ReplyButtonsMessage(
            body="Pick a slot", buttons=[ReplyButton("am", "Morning"), ReplyButton("pm", "Evening")],
            header=TextHeader("Booking"), footer="Lucky Shrub"),
        "list": ListMessage(body="Which shipping?", button="Options", sections=[
            ListSection("Fast", [ListRow("express", "Express", "Next day")]),
            ListSection("Cheap", [ListRow("standard", "Standard")])], header=TextHeader("Shipping"), footer="f"),
        "product": ProductMessage(catalog_id="354160437058781", product_retailer_id="SKU123", body="Look"),
        "product_list": ProductListMessage(
            header=TextHeader("Our menu"), body="Pick items", catalog_id="354160437058781",
            sections=[ProductSection("Burgers", ["HAMBURGER", "CHEESEBURGER"])]),
        "catalog_message": CatalogMessage(body="Browse our catalog", thumbnail_product_retailer_id="SKU123"),
        "flow": FlowMessage(body="Book an appointment", flow_token="tok-1", flow_cta="Book", flow_id="1234567890",
                            screen="START", data={"k": "v"}),
        "cta_url": CtaUrlMessage(body="See the menu", display_text="Visit", url="https://example.com/menu"),
        "location_request": LocationRequestMessage(body="Where should we deliver?"),
        "order_details": OrderDetailsMessage(
            reference_id="H1-ORDER-1", body="Your order is ready", footer="Thanks",
            header=MediaHeader("image", link="https://example.com/hdr.jpg"),
            payment_gateway=PaymentGateway("razorpay", "payment-config-id", {"receipt": "r-1"}),
            items=[OrderItem("Bread", 10000, 2, retailer_id="1234567", sale_amount=9000)],
            tax=Charge(1000, "GST"), shipping=Charge(500), catalog_id="354160437058781",
            expiration=4_000_000_000, expiration_description="Order cancelled if unpaid"),
        "order_status": OrderStatusMessage("H1-ORDER-1", "processing", "We are packing your order"),
    }


async def test_every_send_type_is_accepted_and_lands_in_the_thread(meta: SandboxMeta, number: Number,
                                                                    client: GraphClient) -> None:
    inbound = await open_window(meta, number)
    image_id = await client.upload_media(number.phone_number_id, PNG, "image/png", "dot.png")
    sent: dict[str, SentMessage] = {}
    failures: dict[str, str] = {}
    for name, message in all_send_cases(inbound, image_id).items():
        try:
            sent[name] = await client.send(number.phone_number_id, message, to=CUSTOMER,
                                           biz_opaque_callback_data=f"case-{name}")
        except GraphError as exc:
            failures[name] = f"{type(exc).__name__}: {exc}"
    assert not failures, "sandbox refused:\n" + "\n".join(f"  {k}: {v}" for k, v in failures.items())
    for name, result in sent.items():
        assert result.wamid.startswith("wamid."), (name, result)
        assert result.wa_id == CUSTOMER, (name, result)
        assert result.input == CUSTOMER, (name, result)
    thread_text = json.dumps(await meta.thread(CUSTOMER, number.phone_number_id))
    missing = [name for name, result in sent.items() if result.wamid not in thread_text]
    assert not missing, f"sent but not in the customer's thread: {missing}"


async def test_reply_with_context_and_mark_read_and_typing(meta: SandboxMeta, number: Number,
                                                           client: GraphClient) -> None:
    inbound = await open_window(meta, number)
    await client.mark_read(number.phone_number_id, inbound)
    await client.mark_read(number.phone_number_id, inbound, typing=True)
    reply = await client.send(number.phone_number_id, TextMessage("Yes!"), to=CUSTOMER, context_message_id=inbound)
    assert reply.wamid.startswith("wamid.")
    with pytest.raises(GraphError):
        await client.mark_read(number.phone_number_id, "wamid.DOES-NOT-EXIST")


async def test_sandbox_errors_arrive_typed(meta: SandboxMeta, number: Number, client: GraphClient) -> None:
    await open_window(meta, number)
    with pytest.raises(AuthError) as auth:
        await meta.client("EAAS-not-a-token").send(number.phone_number_id, TextMessage("hi"), to=CUSTOMER)
    assert auth.value.http_status == 401 and auth.value.code in (0, 190)

    with pytest.raises(TemplateError) as missing:
        await client.send(number.phone_number_id, TemplateMessage("no_such_template", "en_US"), to=CUSTOMER)
    assert missing.value.code == 132001 and missing.value.http_status == 404 and not missing.value.retryable

    own = number.display_phone_number.lstrip("+").replace(" ", "").replace("-", "")
    with pytest.raises(RecipientError) as self_send:
        await client.send(number.phone_number_id, TextMessage("hi"), to=own)
    assert self_send.value.code == 131021

    with pytest.raises(GraphError) as unknown:
        await client.send("999999999999999", TextMessage("hi"), to=CUSTOMER)
    assert unknown.value.code in (100, 10, 200) and not unknown.value.retryable


# --- media ----------------------------------------------------------------------------------------------
async def test_media_upload_url_download_delete(number: Number, client: GraphClient) -> None:
    pn = number.phone_number_id
    media_id = await client.upload_media(pn, PNG, "image/png", "dot.png")
    info = await client.get_media(media_id)
    assert isinstance(info, MediaInfo)
    assert info.id == media_id and info.mime_type == "image/png" and info.file_size == len(PNG)
    assert info.url.startswith("http")
    assert await client.download_media(info.url) == PNG
    assert (await client.get_media(media_id, phone_number_id=pn)).id == media_id

    doc_id = await client.upload_media(pn, PDF, "application/pdf", "invoice.pdf", ttl_minutes=60)
    assert (await client.get_media(doc_id)).mime_type == "application/pdf"

    await client.delete_media(media_id, phone_number_id=pn)
    with pytest.raises(GraphError):
        await client.get_media(media_id)
    await client.delete_media(doc_id)


async def test_media_download_needs_the_token(meta: SandboxMeta, number: Number, client: GraphClient) -> None:
    media_id = await client.upload_media(number.phone_number_id, PNG, "image/png", "dot.png")
    info = await client.get_media(media_id)
    with pytest.raises(GraphError):
        await meta.client(None).download_media(info.url)


# --- templates ------------------------------------------------------------------------------------------
POSITIONAL_COMPONENTS: list[dict[str, Any]] = [
    {"type": "HEADER", "format": "TEXT", "text": "Our {{1}} is on!", "example": {"header_text": ["Summer Sale"]}},
    {"type": "BODY", "text": "Shop now through {{1}} and use code {{2}} to get {{3}} off.",
     "example": {"body_text": [["the end of August", "25OFF", "25%"]]}},
    {"type": "FOOTER", "text": "Reply STOP to opt out"},
    {"type": "BUTTONS", "buttons": [
        {"type": "QUICK_REPLY", "text": "Unsubscribe from Promos"},
        {"type": "URL", "text": "Shop Now", "url": "https://x.com/shop?promo={{1}}",
         "example": ["https://x.com/shop?promo=summer"]},
        {"type": "COPY_CODE", "example": "25OFF"}]},  # Meta: a copy-code button's label cannot be customized
]
NAMED_COMPONENTS: list[dict[str, Any]] = [
    {"type": "BODY", "text": "Hello {{first_name}}, your order {{order_id}} has shipped.",
     "example": {"body_text_named_params": [{"param_name": "first_name", "example": "Pablo"},
                                            {"param_name": "order_id", "example": "860198"}]}},
]


async def approved(client: GraphClient, template_id: str) -> dict[str, Any]:
    async def status() -> dict[str, Any] | None:
        t = await client.get_template(template_id)
        return t if t.get("status") == "APPROVED" else None

    return await eventually(status)


async def test_template_create_approve_and_send_positional_and_named(meta: SandboxMeta, number: Number,
                                                                      client: GraphClient) -> None:
    await meta.customer(CUSTOMER)
    positional = await client.create_template(number.waba_id, name="summer_sale", language="en_US",
                                              category="MARKETING", components=POSITIONAL_COMPONENTS)
    assert positional.status == "PENDING" and positional.category == "MARKETING"
    named = await client.create_template(number.waba_id, name="order_shipped", language="en_US",
                                         category="UTILITY", components=NAMED_COMPONENTS, parameter_format="NAMED")
    await approved(client, positional.id)
    await approved(client, named.id)

    sent_positional = await client.send(number.phone_number_id, TemplateMessage("summer_sale", "en_US", [
        TemplateHeader([TextParameter("Summer Sale")]),
        TemplateBody([TextParameter("the end of August"), TextParameter("25OFF"), TextParameter("25%")]),
        TemplateButton("quick_reply", 0, [PayloadParameter("UNSUB_PROMO")]),
        TemplateButton("url", 1, [TextParameter("summer")]),
        TemplateButton("copy_code", 2, [CouponCodeParameter("25OFF")]),
    ]), to=CUSTOMER)
    assert sent_positional.wamid.startswith("wamid.")
    assert sent_positional.message_status in ("accepted", "held_for_quality_assessment")

    sent_named = await client.send(number.phone_number_id, TemplateMessage("order_shipped", "en_US", [
        TemplateBody([TextParameter("860198", parameter_name="order_id"),
                      TextParameter("Pablo", parameter_name="first_name")]),
    ]), to=CUSTOMER)
    assert sent_named.wamid.startswith("wamid.")

    with pytest.raises(TemplateError) as wrong_count:
        await client.send(number.phone_number_id, TemplateMessage("summer_sale", "en_US", [
            TemplateBody([TextParameter("only one")])]), to=CUSTOMER)
    assert wrong_count.value.code in (132000, 132012)


async def test_templates_list_paged_edit_delete(number: Number, client: GraphClient) -> None:
    body = [{"type": "BODY", "text": "Your appointment is confirmed, see you soon."}]
    created = {}
    for name in ("tpl_alpha", "tpl_beta", "tpl_gamma", "tpl_delta", "tpl_epsilon"):
        created[name] = await client.create_template(number.waba_id, name=name, language="en_US",
                                                     category="UTILITY", components=body)

    first = await client.list_templates(number.waba_id, limit=2)
    assert len(first.data) == 2 and first.after is not None
    second = await client.list_templates(number.waba_id, limit=2, after=first.after)
    assert {t["name"] for t in second.data}.isdisjoint({t["name"] for t in first.data})
    names = [t["name"] async for t in client.iter_templates(number.waba_id, limit=2)]
    assert sorted(names) == sorted(created)
    only = await client.list_templates(number.waba_id, name="tpl_beta")
    assert [t["name"] for t in only.data] == ["tpl_beta"]

    await approved(client, created["tpl_alpha"].id)
    approved_page = await client.list_templates(number.waba_id, status="APPROVED", limit=100)
    assert "tpl_alpha" in {t["name"] for t in approved_page.data}

    new_body = [{"type": "BODY", "text": "Your appointment is confirmed; we look forward to it."}]
    await client.edit_template(created["tpl_alpha"].id, components=new_body)
    edited = await client.get_template(created["tpl_alpha"].id)
    assert "look forward" in json.dumps(edited.get("components"))

    await client.delete_template(number.waba_id, "tpl_beta", hsm_id=created["tpl_beta"].id)
    await client.delete_template(number.waba_id, "tpl_gamma")
    remaining = {t["name"] async for t in client.iter_templates(number.waba_id)}
    assert remaining == {"tpl_alpha", "tpl_delta", "tpl_epsilon"}
    with pytest.raises(GraphError):
        await client.get_template(created["tpl_gamma"].id)


# --- phone numbers and onboarding ----------------------------------------------------------------------------
async def test_phone_number_add_verify_register_pin_name_deregister(meta: SandboxMeta, number: Number,
                                                                    client: GraphClient) -> None:
    new_id = await client.add_phone_number(number.waba_id, cc="91", phone_number="9800011122",
                                           verified_name="H1 Second Shop")
    await client.request_code(new_id, method="SMS", language="en_US")
    code = await meta.last_code(new_id)
    await client.verify_code(new_id, code)
    await client.register(new_id, "123456", region="IN")

    fields = await client.get_phone_number(new_id)
    assert fields["id"] == new_id
    assert fields.get("verified_name") == "H1 Second Shop"
    assert fields.get("code_verification_status") == "VERIFIED"
    assert "9800011122" in str(fields.get("display_phone_number", "")).replace(" ", "").replace("-", "")
    only = await client.get_phone_number(new_id, fields=("status",))
    assert "status" in only

    await client.set_two_step_pin(new_id, "654321")
    with pytest.raises(GraphError) as wrong_pin:
        await client.register(new_id, "111111")
    assert wrong_pin.value.code == 133005

    await client.set_display_name(new_id, "H1 Renamed Shop")
    numbers = await client.list_phone_numbers(number.waba_id)
    assert {number.phone_number_id, new_id} <= {n["id"] for n in numbers}

    await client.deregister(new_id)
    with pytest.raises(GraphError) as not_registered:
        await client.send(new_id, TemplateMessage("hello_world", "en_US"), to=CUSTOMER)
    assert not_registered.value.code in (133010, 132001)


async def test_wrong_verification_code_is_refused(meta: SandboxMeta, number: Number, client: GraphClient) -> None:
    new_id = await client.add_phone_number(number.waba_id, cc="91", phone_number="9800033344", verified_name="Shop")
    await client.request_code(new_id, method="VOICE", language="hi")
    code = await meta.last_code(new_id)
    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(GraphError):
        await client.verify_code(new_id, wrong)


async def test_subscribe_app_does_the_handshake(meta: SandboxMeta, number: Number, client: GraphClient,
                                                receiver: WebhookReceiver) -> None:
    before = receiver.handshakes
    await client.subscribe_app(number.waba_id, override_callback_uri=receiver.url,
                               verify_token=receiver.verify_token)
    assert receiver.handshakes > before
    apps = await client.list_subscribed_apps(number.waba_id)
    assert apps, "expected the app among the subscribed apps"
    await client.subscribe_app(number.waba_id)  # the app's default callback

    with pytest.raises(GraphError):
        await client.subscribe_app(number.waba_id, override_callback_uri=receiver.url, verify_token="wrong-token")


async def test_migration_add_number(meta: SandboxMeta, number: Number, client: GraphClient) -> None:
    await meta.call("POST", "/foreign-numbers", json={"phone_number": "919800055566", "two_step_enabled": False})
    migrated = await client.add_phone_number(number.waba_id, cc="91", phone_number="9800055566",
                                             verified_name="H1 Test Shop", migrate=True)
    await client.request_code(migrated)
    await client.verify_code(migrated, await meta.last_code(migrated))
    await client.register(migrated, "246810")


async def test_embedded_signup_code_exchange_and_coexistence_sync(meta: SandboxMeta) -> None:
    await meta.upsert_app()
    signup = await meta.call("POST", "/signup", json={
        "app_id": meta.app_id, "business_name": "Coexist Shop", "waba_name": "Coexist WABA",
        "feature_type": "coexistence", "phone_number": "919800077788"})
    anonymous = meta.client(None)
    token = await anonymous.exchange_code(meta.app_id, meta.app_secret, signup["code"])
    assert token
    with pytest.raises(GraphError):
        await anonymous.exchange_code(meta.app_id, meta.app_secret, signup["code"])  # a code works once

    coexist = meta.client(token)
    pn = str(signup["phone_number_id"])
    fields = await coexist.get_phone_number(pn, fields=("is_on_biz_app", "platform_type"))
    assert fields.get("is_on_biz_app") is True
    request_id = await coexist.request_sync(pn, "smb_app_state_sync")
    assert request_id
    assert await coexist.request_sync(pn, "history")
    with pytest.raises(AccountError) as again:
        await coexist.request_sync(pn, "history")
    assert again.value.kind == "coexistence_sync_repeated"
    assert 2593107 in (again.value.code, again.value.body.error_subcode)
