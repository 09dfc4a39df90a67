"""Payload shapes and limits of the WhatsApp send-message builders (reference §3, §1.1)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from softdukan.whatsapp.messages import (
    AudioMessage,
    CatalogMessage,
    Contact,
    ContactAddress,
    ContactEmail,
    ContactName,
    ContactOrg,
    ContactPhone,
    ContactsMessage,
    ContactUrl,
    CouponCodeParameter,
    CtaUrlMessage,
    CurrencyParameter,
    DateTimeParameter,
    DocumentMessage,
    FlowMessage,
    ImageMessage,
    ListMessage,
    ListRow,
    ListSection,
    LocationMessage,
    LocationRequestMessage,
    MediaHeader,
    MediaParameter,
    MessageValidationError,
    PayloadParameter,
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

TO = "16505551234"
ENV = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": TO}


def env(type_: str, content: Any) -> dict[str, Any]:
    return {**ENV, "type": type_, type_: content}


def fails(field: str, build: Callable[[], Any]) -> MessageValidationError:
    with pytest.raises(MessageValidationError) as exc:
        build()
    assert exc.value.field == field, exc.value
    assert str(exc.value).startswith(f"{field}: ")
    return exc.value


# --- envelope ---------------------------------------------------------------------------------
def test_envelope_context_and_callback_data() -> None:
    payload = TextMessage("hi").to_payload(TO, context_message_id="wamid.ABC", biz_opaque_callback_data="campaign-42")
    assert payload == {
        **ENV,
        "type": "text",
        "context": {"message_id": "wamid.ABC"},
        "biz_opaque_callback_data": "campaign-42",
        "text": {"body": "hi", "preview_url": False},
    }


def test_envelope_omits_optional_keys() -> None:
    payload = TextMessage("hi").to_payload(TO)
    assert "context" not in payload
    assert "biz_opaque_callback_data" not in payload


def test_biz_opaque_callback_data_boundary() -> None:
    msg = TextMessage("hi")
    assert msg.to_payload(TO, biz_opaque_callback_data="x" * 512)["biz_opaque_callback_data"] == "x" * 512
    err = fails("biz_opaque_callback_data", lambda: msg.to_payload(TO, biz_opaque_callback_data="x" * 513))
    assert "512" in err.limit_description and "513" in err.limit_description


@pytest.mark.parametrize("bad", ["+16505551234", "1650 555 1234", "1650-555-1234", "", "abc", "١٢٣", "1" * 16])
def test_to_must_be_digits(bad: str) -> None:
    fails("to", lambda: TextMessage("hi").to_payload(bad))


def test_to_fifteen_digits_ok() -> None:
    assert TextMessage("hi").to_payload("1" * 15)["to"] == "1" * 15


def test_error_is_value_error_with_readable_message() -> None:
    err = fails("text.body", lambda: TextMessage("x" * 4097))
    assert isinstance(err, ValueError)
    assert err.limit_description == "Message text can be at most 4096 characters long; yours is 4097 characters."


# --- 3.1 text ------------------------------------------------------------------------------------
def test_text_payload_matches_reference() -> None:
    msg = TextMessage("Here's the info https://www.meta.com/", preview_url=True)
    assert msg.to_payload(TO) == env("text", {"body": "Here's the info https://www.meta.com/", "preview_url": True})


def test_text_preview_url_false_always_sent() -> None:
    assert TextMessage("hi").to_payload(TO)["text"] == {"body": "hi", "preview_url": False}


def test_text_body_boundary() -> None:
    assert TextMessage("x" * 4096).to_payload(TO)["text"]["body"] == "x" * 4096
    fails("text.body", lambda: TextMessage("x" * 4097))
    fails("text.body", lambda: TextMessage(""))


def test_builders_are_frozen() -> None:
    msg = TextMessage("hi")
    with pytest.raises(AttributeError):
        msg.body = "changed"  # type: ignore[misc]


# --- 3.2 media -------------------------------------------------------------------------------------
def test_image_by_link_matches_reference() -> None:
    msg = ImageMessage(link="https://example.com/a.jpg", caption="optional")
    assert msg.to_payload(TO) == env("image", {"link": "https://example.com/a.jpg", "caption": "optional"})


def test_document_by_id_matches_reference() -> None:
    msg = DocumentMessage(id="1037543291543636", caption="Invoice", filename="invoice.pdf")
    assert msg.to_payload(TO) == env(
        "document", {"id": "1037543291543636", "caption": "Invoice", "filename": "invoice.pdf"}
    )


def test_audio_voice_matches_reference() -> None:
    assert AudioMessage(id="<MEDIA_ID>", voice=True).to_payload(TO) == env("audio", {"id": "<MEDIA_ID>", "voice": True})
    assert AudioMessage(id="m1").to_payload(TO) == env("audio", {"id": "m1"})


def test_video_and_sticker() -> None:
    assert VideoMessage(id="v1", caption="Watch").to_payload(TO) == env("video", {"id": "v1", "caption": "Watch"})
    assert StickerMessage(link="https://example.com/s.webp").to_payload(TO) == env(
        "sticker", {"link": "https://example.com/s.webp"}
    )


def test_caption_only_where_allowed() -> None:
    with pytest.raises(TypeError):
        AudioMessage(id="a", caption="nope")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        StickerMessage(id="s", caption="nope")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        ImageMessage(id="i", filename="x.jpg")  # type: ignore[call-arg]


@pytest.mark.parametrize("cls", [ImageMessage, VideoMessage, AudioMessage, DocumentMessage, StickerMessage])
def test_media_exactly_one_of_id_or_link(cls: type) -> None:
    kind = cls.message_type
    fails(kind, lambda: cls())
    fails(kind, lambda: cls(id="1", link="https://example.com/a"))
    fails(f"{kind}.link", lambda: cls(link="ftp://example.com/a"))
    fails(f"{kind}.id", lambda: cls(id=" "))


# --- 3.3 template ------------------------------------------------------------------------------------
def test_template_matches_reference() -> None:
    msg = TemplateMessage(
        name="order_confirmation",
        language_code="en_US",
        components=[
            TemplateHeader([MediaParameter("document", id="<MEDIA_ID>", filename="receipt.pdf")]),
            TemplateBody(
                [
                    TextParameter("Pablo"),
                    CurrencyParameter(fallback_value="$19.99", code="USD", amount_1000=19990),
                    DateTimeParameter(fallback_value="August 5, 2025"),
                ]
            ),
            TemplateButton("quick_reply", 0, [PayloadParameter("UNSUB_PROMO")]),
            TemplateButton("url", 1, [TextParameter("order/860198")]),
            TemplateButton("copy_code", 2, [CouponCodeParameter("25OFF")]),
        ],
    )
    assert msg.to_payload(TO) == env(
        "template",
        {
            "name": "order_confirmation",
            "language": {"code": "en_US"},
            "components": [
                {
                    "type": "header",
                    "parameters": [{"type": "document", "document": {"id": "<MEDIA_ID>", "filename": "receipt.pdf"}}],
                },
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "Pablo"},
                        {
                            "type": "currency",
                            "currency": {"fallback_value": "$19.99", "code": "USD", "amount_1000": 19990},
                        },
                        {"type": "date_time", "date_time": {"fallback_value": "August 5, 2025"}},
                    ],
                },
                {
                    "type": "button",
                    "sub_type": "quick_reply",
                    "index": 0,
                    "parameters": [{"type": "payload", "payload": "UNSUB_PROMO"}],
                },
                {
                    "type": "button",
                    "sub_type": "url",
                    "index": 1,
                    "parameters": [{"type": "text", "text": "order/860198"}],
                },
                {
                    "type": "button",
                    "sub_type": "copy_code",
                    "index": 2,
                    "parameters": [{"type": "coupon_code", "coupon_code": "25OFF"}],
                },
            ],
        },
    )


def test_template_named_parameters() -> None:
    body = TemplateBody(
        [TextParameter("Pablo", parameter_name="first_name"), TextParameter("42", parameter_name="order")]
    )
    payload = TemplateMessage("welcome", "en", [body]).to_payload(TO)
    assert payload["template"]["components"][0]["parameters"] == [
        {"type": "text", "text": "Pablo", "parameter_name": "first_name"},
        {"type": "text", "text": "42", "parameter_name": "order"},
    ]


def test_template_without_components() -> None:
    assert TemplateMessage("hello_world", "en_US").to_payload(TO) == env(
        "template", {"name": "hello_world", "language": {"code": "en_US"}}
    )


def test_template_header_location_and_text() -> None:
    from softdukan.whatsapp.messages import LocationParameter

    header = TemplateHeader([LocationParameter(37.44, -122.16, name="Philz", address="101 Forest Ave")])
    assert header.to_dict() == {
        "type": "header",
        "parameters": [
            {
                "type": "location",
                "location": {"latitude": 37.44, "longitude": -122.16, "name": "Philz", "address": "101 Forest Ave"},
            }
        ],
    }
    assert TemplateHeader([TextParameter("x" * 60)]).to_dict()["parameters"][0]["text"] == "x" * 60
    fails("template.header.parameters", lambda: TemplateHeader([TextParameter("x" * 61)]))


def test_template_mixing_named_and_positional_fails() -> None:
    fails(
        "template.body.parameters",
        lambda: TemplateBody([TextParameter("a", parameter_name="first_name"), TextParameter("b")]),
    )
    fails(
        "template.body.parameters",
        lambda: TemplateBody([TextParameter("a", parameter_name="x"), TextParameter("b", parameter_name="x")]),
    )


def test_template_name_and_language() -> None:
    assert TemplateMessage("a" * 512, "en").name == "a" * 512
    fails("template.name", lambda: TemplateMessage("a" * 513, "en"))
    fails("template.name", lambda: TemplateMessage("Order Confirmation", "en"))
    fails("template.language.code", lambda: TemplateMessage("x", ""))
    fails("template.language.code", lambda: TemplateMessage("x", "English"))


def test_template_coupon_code_boundary() -> None:
    assert CouponCodeParameter("C" * 15).coupon_code == "C" * 15
    fails("template.button.coupon_code", lambda: CouponCodeParameter("C" * 16))


def test_template_button_index_and_types() -> None:
    assert TemplateButton("quick_reply", 9, [PayloadParameter("p")]).index == 9
    fails("template.button.index", lambda: TemplateButton("quick_reply", 10, [PayloadParameter("p")]))
    fails("template.button.index", lambda: TemplateButton("quick_reply", -1, [PayloadParameter("p")]))
    fails("template.button.parameters", lambda: TemplateButton("quick_reply", 0, [TextParameter("p")]))
    fails(
        "template.button.index",
        lambda: TemplateMessage(
            "t",
            "en",
            [TemplateButton("quick_reply", 0, [PayloadParameter("a")]), TemplateButton("url", 0, [TextParameter("b")])],
        ),
    )


def test_template_header_media_rules() -> None:
    fails("template.header.filename", lambda: MediaParameter("image", id="1", filename="a.jpg"))
    fails("template.header.image", lambda: MediaParameter("image"))


# --- interactive: shared header/footer --------------------------------------------------------------
def _buttons(n: int) -> list[ReplyButton]:
    return [ReplyButton(f"b{i}", f"Button {i}") for i in range(n)]


def test_header_text_boundary() -> None:
    assert TextHeader("h" * 60).text == "h" * 60
    fails("interactive.header.text", lambda: TextHeader("h" * 61))


# --- 3.4 reply buttons ------------------------------------------------------------------------------------
def test_reply_buttons_match_reference() -> None:
    msg = ReplyButtonsMessage(
        header=MediaHeader("image", id="2762702990552401"),
        body="Hi Pablo! Your workshop is at 9am tomorrow.",
        footer="Lucky Shrub",
        buttons=[ReplyButton("change-button", "Change"), ReplyButton("cancel-button", "Cancel")],
    )
    assert msg.to_payload(TO) == env(
        "interactive",
        {
            "type": "button",
            "header": {"type": "image", "image": {"id": "2762702990552401"}},
            "body": {"text": "Hi Pablo! Your workshop is at 9am tomorrow."},
            "footer": {"text": "Lucky Shrub"},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": "change-button", "title": "Change"}},
                    {"type": "reply", "reply": {"id": "cancel-button", "title": "Cancel"}},
                ]
            },
        },
    )


def test_reply_buttons_count_boundary() -> None:
    assert len(ReplyButtonsMessage("b", _buttons(1)).buttons) == 1
    assert len(ReplyButtonsMessage("b", _buttons(3)).buttons) == 3
    fails("interactive.action.buttons", lambda: ReplyButtonsMessage("b", _buttons(4)))
    fails("interactive.action.buttons", lambda: ReplyButtonsMessage("b", []))


def test_reply_button_id_and_title_boundary() -> None:
    assert ReplyButton("i" * 256, "t" * 20).id == "i" * 256
    fails("interactive.action.buttons.id", lambda: ReplyButton("i" * 257, "t"))
    fails("interactive.action.buttons.title", lambda: ReplyButton("i", "t" * 21))
    fails("interactive.action.buttons.title", lambda: ReplyButton("i", ""))


def test_reply_button_ids_unique() -> None:
    fails(
        "interactive.action.buttons.id",
        lambda: ReplyButtonsMessage("b", [ReplyButton("same", "A"), ReplyButton("same", "B")]),
    )


def test_reply_buttons_body_footer_header_boundary() -> None:
    ok = ReplyButtonsMessage("x" * 1024, _buttons(1), header=TextHeader("h" * 60), footer="f" * 60)
    assert ok.to_payload(TO)["interactive"]["header"] == {"type": "text", "text": "h" * 60}
    fails("interactive.body.text", lambda: ReplyButtonsMessage("x" * 1025, _buttons(1)))
    fails("interactive.footer.text", lambda: ReplyButtonsMessage("b", _buttons(1), footer="f" * 61))


def test_reply_buttons_media_header_has_no_caption() -> None:
    with pytest.raises(TypeError):
        MediaHeader("image", id="1", caption="no")  # type: ignore[call-arg]
    payload = ReplyButtonsMessage("b", _buttons(1), header=MediaHeader("video", link="https://e.com/v.mp4")).to_payload(
        TO
    )
    assert payload["interactive"]["header"] == {"type": "video", "video": {"link": "https://e.com/v.mp4"}}


# --- 3.5 list -------------------------------------------------------------------------------------------------
def _rows(n: int, prefix: str = "r") -> list[ListRow]:
    return [ListRow(f"{prefix}{i}", f"Row {i}") for i in range(n)]


def test_list_matches_reference() -> None:
    msg = ListMessage(
        header=TextHeader("Choose Shipping Option"),
        body="Which shipping option do you prefer?",
        footer="Lucky Shrub",
        button="Shipping Options",
        sections=[
            ListSection(
                "I want it ASAP!",
                [ListRow("priority_express", "Priority Mail Express", "Next Day to 2 Days")],
            )
        ],
    )
    assert msg.to_payload(TO) == env(
        "interactive",
        {
            "type": "list",
            "header": {"type": "text", "text": "Choose Shipping Option"},
            "body": {"text": "Which shipping option do you prefer?"},
            "footer": {"text": "Lucky Shrub"},
            "action": {
                "button": "Shipping Options",
                "sections": [
                    {
                        "title": "I want it ASAP!",
                        "rows": [
                            {
                                "id": "priority_express",
                                "title": "Priority Mail Express",
                                "description": "Next Day to 2 Days",
                            }
                        ],
                    }
                ],
            },
        },
    )


def test_list_button_body_footer_boundary() -> None:
    sec = [ListSection("S", _rows(1))]
    assert ListMessage("x" * 4096, "b" * 20, sec, footer="f" * 60).button == "b" * 20
    fails("interactive.action.button", lambda: ListMessage("x", "b" * 21, sec))
    fails("interactive.body.text", lambda: ListMessage("x" * 4097, "b", sec))
    fails("interactive.footer.text", lambda: ListMessage("x", "b", sec, footer="f" * 61))


def test_list_header_text_only() -> None:
    sec = [ListSection("S", _rows(1))]
    fails("interactive.header", lambda: ListMessage("x", "b", sec, header=MediaHeader("image", id="1")))  # type: ignore[arg-type]
    fails("interactive.header.text", lambda: ListMessage("x", "b", sec, header=TextHeader("h" * 61)))


def test_list_sections_boundary() -> None:
    ten = [ListSection(f"S{i}", [ListRow(f"r{i}", "t")]) for i in range(10)]
    assert len(ListMessage("x", "b", ten).sections) == 10
    eleven = [ListSection(f"S{i}", [ListRow(f"r{i}", "t")]) for i in range(11)]
    fails("interactive.action.sections", lambda: ListMessage("x", "b", eleven))
    fails("interactive.action.sections", lambda: ListMessage("x", "b", []))


def test_list_rows_total_boundary() -> None:
    ten = [ListSection("A", _rows(5, "a")), ListSection("B", _rows(5, "b"))]
    assert ListMessage("x", "b", ten).to_payload(TO)["interactive"]["action"]["sections"][1]["rows"][4]["id"] == "b4"
    eleven = [ListSection("A", _rows(5, "a")), ListSection("B", _rows(6, "b"))]
    err = fails("interactive.action.sections.rows", lambda: ListMessage("x", "b", eleven))
    assert "10" in err.limit_description and "11" in err.limit_description
    fails("interactive.action.sections.rows", lambda: ListSection("A", _rows(11)))


def test_list_section_and_row_lengths() -> None:
    assert ListSection("s" * 24, _rows(1)).title == "s" * 24
    fails("interactive.action.sections.title", lambda: ListSection("s" * 25, _rows(1)))
    assert ListRow("i" * 200, "t" * 24, "d" * 72).description == "d" * 72
    fails("interactive.action.sections.rows.id", lambda: ListRow("i" * 201, "t"))
    fails("interactive.action.sections.rows.title", lambda: ListRow("i", "t" * 25))
    fails("interactive.action.sections.rows.description", lambda: ListRow("i", "t", "d" * 73))


def test_list_row_ids_unique() -> None:
    sections = [ListSection("A", [ListRow("x", "1")]), ListSection("B", [ListRow("x", "2")])]
    fails("interactive.action.sections.rows.id", lambda: ListMessage("x", "b", sections))


# --- 3.11 location, reaction, contacts -------------------------------------------------------------------------
def test_location_matches_reference() -> None:
    msg = LocationMessage(37.44, -122.16, name="Philz Coffee", address="101 Forest Ave")
    assert msg.to_payload(TO) == env(
        "location", {"latitude": 37.44, "longitude": -122.16, "name": "Philz Coffee", "address": "101 Forest Ave"}
    )


def test_location_coordinate_boundaries() -> None:
    for lat, lon in [(90, 180), (-90, -180), (0, 0)]:
        assert LocationMessage(lat, lon).to_payload(TO)["location"] == {"latitude": lat, "longitude": lon}
    fails("location.latitude", lambda: LocationMessage(90.0001, 0))
    fails("location.latitude", lambda: LocationMessage(-90.0001, 0))
    fails("location.longitude", lambda: LocationMessage(0, 180.0001))
    fails("location.longitude", lambda: LocationMessage(0, -180.0001))
    fails("location.latitude", lambda: LocationMessage("12", 0))  # type: ignore[arg-type]


def test_reaction_matches_reference() -> None:
    assert ReactionMessage("wamid.X", "😮").to_payload(TO) == env("reaction", {"message_id": "wamid.X", "emoji": "😮"})


def test_reaction_remove_with_empty_emoji() -> None:
    assert ReactionMessage("wamid.X", "").to_payload(TO)["reaction"] == {"message_id": "wamid.X", "emoji": ""}


@pytest.mark.parametrize("emoji", ["👍🏽", "❤️", "🇮🇳", "1️⃣", "👨‍👩‍👧"])
def test_reaction_single_emoji_variants_ok(emoji: str) -> None:
    assert ReactionMessage("wamid.X", emoji).emoji == emoji


@pytest.mark.parametrize("emoji", ["😮😮", "ok", "a", " ", "😮 ", "1", "🇮"])
def test_reaction_rejects_non_single_emoji(emoji: str) -> None:
    fails("reaction.emoji", lambda: ReactionMessage("wamid.X", emoji))


def test_reaction_needs_message_id() -> None:
    fails("reaction.message_id", lambda: ReactionMessage("", "😮"))


def test_contacts_match_reference() -> None:
    contact = Contact(
        name=ContactName("Asha Rao", first_name="Asha", last_name="Rao"),
        birthday="1990-05-14",
        phones=[ContactPhone("+91 98123 45678", type="CELL", wa_id="919812345678")],
        emails=[ContactEmail("asha@example.com", type="WORK")],
        urls=[ContactUrl("https://example.com", type="WORK")],
        addresses=[
            ContactAddress(street="…", city="…", state="…", zip="…", country="India", country_code="IN", type="HOME")
        ],
        org=ContactOrg(company="…", department="…", title="…"),
    )
    assert ContactsMessage([contact]).to_payload(TO) == env(
        "contacts",
        [
            {
                "name": {"formatted_name": "Asha Rao", "first_name": "Asha", "last_name": "Rao"},
                "birthday": "1990-05-14",
                "phones": [{"phone": "+91 98123 45678", "type": "CELL", "wa_id": "919812345678"}],
                "emails": [{"email": "asha@example.com", "type": "WORK"}],
                "urls": [{"url": "https://example.com", "type": "WORK"}],
                "addresses": [
                    {
                        "street": "…",
                        "city": "…",
                        "state": "…",
                        "zip": "…",
                        "country": "India",
                        "country_code": "IN",
                        "type": "HOME",
                    }
                ],
                "org": {"company": "…", "department": "…", "title": "…"},
            }
        ],
    )


def test_contacts_rules() -> None:
    fails("contacts.name", lambda: ContactName("Asha Rao"))
    fails("contacts.name.formatted_name", lambda: ContactName("", first_name="Asha"))
    fails("contacts.phones.type", lambda: ContactPhone("1", type="MOBILE"))  # type: ignore[arg-type]
    fails("contacts.emails.type", lambda: ContactEmail("a@b.c", type="CELL"))  # type: ignore[arg-type]
    fails("contacts.urls.type", lambda: ContactUrl("https://x", type="OTHER"))  # type: ignore[arg-type]
    fails("contacts.addresses.type", lambda: ContactAddress(type="WORKS"))  # type: ignore[arg-type]
    fails("contacts.birthday", lambda: Contact(ContactName("A B", first_name="A"), birthday="14/05/1990"))
    fails("contacts", lambda: ContactsMessage([]))
    for t in ("CELL", "MAIN", "IPHONE", "HOME", "WORK"):
        assert ContactPhone("1", type=t).type == t  # type: ignore[arg-type]


# --- 3.10 cta_url, location request -----------------------------------------------------------------------------
def test_cta_url_shape() -> None:
    msg = CtaUrlMessage(body="See our sale", display_text="Visit", url="https://shop.example.com", footer="f")
    assert msg.to_payload(TO) == env(
        "interactive",
        {
            "type": "cta_url",
            "body": {"text": "See our sale"},
            "footer": {"text": "f"},
            "action": {"name": "cta_url", "parameters": {"display_text": "Visit", "url": "https://shop.example.com"}},
        },
    )
    fails("interactive.action.parameters.url", lambda: CtaUrlMessage("b", "Visit", "shop.example.com"))
    fails("interactive.footer.text", lambda: CtaUrlMessage("b", "Visit", "https://x.y", footer="f" * 61))


def test_location_request_shape() -> None:
    assert LocationRequestMessage("Share your location").to_payload(TO) == env(
        "interactive",
        {
            "type": "location_request_message",
            "body": {"text": "Share your location"},
            "action": {"name": "send_location"},
        },
    )


# --- 3.6 product, product list, catalog ---------------------------------------------------------------------------
def test_product_matches_reference() -> None:
    msg = ProductMessage("354160437058781", "SKU123", body="Check this out", footer="…")
    assert msg.to_payload(TO) == env(
        "interactive",
        {
            "type": "product",
            "body": {"text": "Check this out"},
            "footer": {"text": "…"},
            "action": {"catalog_id": "354160437058781", "product_retailer_id": "SKU123"},
        },
    )


def test_product_list_matches_reference() -> None:
    msg = ProductListMessage(
        header=TextHeader("Our menu"),
        body="Pick items",
        footer="…",
        catalog_id="354160437058781",
        sections=[ProductSection("Burgers", ["HAMBURGER", "CHEESEBURGER"])],
    )
    assert msg.to_payload(TO) == env(
        "interactive",
        {
            "type": "product_list",
            "header": {"type": "text", "text": "Our menu"},
            "body": {"text": "Pick items"},
            "footer": {"text": "…"},
            "action": {
                "catalog_id": "354160437058781",
                "sections": [
                    {
                        "title": "Burgers",
                        "product_items": [
                            {"product_retailer_id": "HAMBURGER"},
                            {"product_retailer_id": "CHEESEBURGER"},
                        ],
                    }
                ],
            },
        },
    )


def test_product_list_limits() -> None:
    def build(sections: list[ProductSection], **kw: Any) -> ProductListMessage:
        return ProductListMessage(header=TextHeader("H"), body="b", catalog_id="c", sections=sections, **kw)

    thirty = [ProductSection(f"S{i}", [f"p{i}a", f"p{i}b", f"p{i}c"]) for i in range(10)]
    assert len(build(thirty).sections) == 10
    fails("interactive.action.sections.product_items", lambda: build([*thirty[:9], ProductSection("S9", ["a"] * 4)]))
    fails("interactive.action.sections", lambda: build([ProductSection(f"S{i}", ["p"]) for i in range(11)]))
    assert ProductSection("t" * 24, ["p"]).title == "t" * 24
    fails("interactive.action.sections.title", lambda: ProductSection("t" * 25, ["p"]))
    fails("interactive.header", lambda: ProductListMessage(None, "b", "c", thirty[:1]))  # type: ignore[arg-type]
    assert build(thirty[:1], footer="f" * 60).body == "b"
    fails("interactive.footer.text", lambda: build(thirty[:1], footer="f" * 61))
    assert ProductListMessage(TextHeader("H"), "x" * 1024, "c", thirty[:1]).body == "x" * 1024
    fails("interactive.body.text", lambda: ProductListMessage(TextHeader("H"), "x" * 1025, "c", thirty[:1]))


def test_catalog_matches_reference_and_limits() -> None:
    msg = CatalogMessage("Browse our catalog", thumbnail_product_retailer_id="SKU123", footer="…")
    assert msg.to_payload(TO) == env(
        "interactive",
        {
            "type": "catalog_message",
            "body": {"text": "Browse our catalog"},
            "footer": {"text": "…"},
            "action": {"name": "catalog_message", "parameters": {"thumbnail_product_retailer_id": "SKU123"}},
        },
    )
    assert CatalogMessage("x" * 1024, footer="f" * 60).body == "x" * 1024
    fails("interactive.body.text", lambda: CatalogMessage("x" * 1025))
    fails("interactive.footer.text", lambda: CatalogMessage("x", footer="f" * 61))


# --- 3.9 flow ---------------------------------------------------------------------------------------------------------
def test_flow_matches_reference() -> None:
    msg = FlowMessage(
        header=TextHeader("Book"),
        body="Book an appointment",
        footer="…",
        mode="published",
        flow_token="AQAAAAACS5FpgQ_cAAAAAD0QI3s.",
        flow_id="1234567890",
        flow_cta="Book!",
        flow_action="navigate",
        screen="START",
        data={"key": "value"},
    )
    assert msg.to_payload(TO) == env(
        "interactive",
        {
            "type": "flow",
            "header": {"type": "text", "text": "Book"},
            "body": {"text": "Book an appointment"},
            "footer": {"text": "…"},
            "action": {
                "name": "flow",
                "parameters": {
                    "mode": "published",
                    "flow_message_version": "3",
                    "flow_token": "AQAAAAACS5FpgQ_cAAAAAD0QI3s.",
                    "flow_id": "1234567890",
                    "flow_cta": "Book!",
                    "flow_action": "navigate",
                    "flow_action_payload": {"screen": "START", "data": {"key": "value"}},
                },
            },
        },
    )


def test_flow_limits() -> None:
    def build(**kw: Any) -> FlowMessage:
        base: dict[str, Any] = {"body": "b", "flow_token": "t", "flow_cta": "Go", "flow_id": "1"}
        return FlowMessage(**{**base, **kw})

    assert build(flow_cta="c" * 20).flow_cta == "c" * 20
    fails("interactive.action.parameters.flow_cta", lambda: build(flow_cta="c" * 21))
    fails("interactive.action.parameters.flow_cta", lambda: build(flow_cta="Book 📅"))
    fails("interactive.action.parameters.flow_id", lambda: build(flow_name="n"))
    fails("interactive.action.parameters.flow_id", lambda: build(flow_id=None))
    fails("interactive.action.parameters.mode", lambda: build(mode="live"))
    payload = build(flow_id=None, flow_name="booking", mode="draft").to_payload(TO)
    params = payload["interactive"]["action"]["parameters"]
    assert params["flow_name"] == "booking" and "flow_id" not in params and params["mode"] == "draft"
