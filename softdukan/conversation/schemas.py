"""Wire shapes of /v1 for conversations and messages, and the parser from Meta's message objects to the typed
builders of softdukan.whatsapp.messages.

`POST /v1/messages` takes a message in Meta's own shape (`"type": "text", "text": {...}`, reference §3), so code
written against the Cloud API moves over unchanged. The object is rebuilt through the typed builders, which check
WhatsApp's limits locally: a broken message is a 422 naming the field, before anything is stored or sent. The
send job rebuilds the builder from the stored content the same way (`build_message(row.type, row.content)`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from softdukan.kit.ids import MAX_ID
from softdukan.platform.errors import Invalid
from softdukan.template.send_wire import parse_template_object
from softdukan.whatsapp import messages as wm

SEND_TYPES = ("text", "image", "video", "audio", "document", "sticker", "location", "contacts", "reaction",
              "interactive")
INTERACTIVE_TYPES = ("button", "list", "product", "product_list", "catalog_message", "cta_url", "flow",
                     "location_request_message")


# --- API shapes -------------------------------------------------------------------------------------------------


class SendMessageIn(BaseModel):
    """A message in Meta's shape (reference §3), addressed by `conversation_id`, or by `to` on a number.

    `phone_number_id` is OUR id of the number (the `id` of `GET /v1/phone-numbers`), not Meta's; without it the
    organization's default connected number sends. The type's object is checked by WhatsApp's limits (422).

    `"type": "template"` sends an approved template, also outside the 24-hour window. `template` names it by `id`
    (GET /v1/templates) or by `name` and `language` on the sending number's account, and fills its variables
    (keys `header.1`, `body.1` / `body.first_name`, `button.0`, `header` for a media header) with `values`
    (explicit text), `mapping` ({"source": "field"|"attribute"|"fixed", "value", "fallback"}, read from the
    contact), or Meta's own filled-in `components`."""

    phone_number_id: int | None = Field(default=None, ge=1, le=MAX_ID,
                                        description="our id of the sending number (GET /v1/phone-numbers)")
    conversation_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    to: str | None = Field(default=None, max_length=32, description="the customer's WhatsApp number, E.164")
    type: str = Field(max_length=40, description="text, image, video, audio, document, sticker, location, "
                                                 "contacts, reaction, interactive or template")
    context: Any = Field(default=None, description='{"message_id": "wamid…"}: reply quoting that message')
    messaging_product: str | None = Field(default=None, max_length=20)  # accepted and ignored, as Meta's
    recipient_type: str | None = Field(default=None, max_length=20)
    text: Any = None
    image: Any = None
    video: Any = None
    audio: Any = None
    document: Any = None
    sticker: Any = None
    location: Any = None
    contacts: Any = None
    reaction: Any = None
    interactive: Any = None
    template: Any = None


class ErrorOut(BaseModel):
    code: int | None
    title: str | None
    details: str | None


class MediaOut(BaseModel):
    """The message's file as stored here: download it from `GET /v1/messages/{id}/media` once `state` is stored."""

    state: str = Field(description="pending (being fetched from WhatsApp) | stored | failed")
    mime_type: str
    size: int
    filename: str | None
    sha256: str | None = Field(description="hex SHA-256 of the stored bytes")
    error: str | None
    error_code: int | None


class ChargeBrief(BaseModel):
    state: str = Field(description="held | charged | free | released | expired | uncollected")
    category: str
    market: str = Field(description="the recipient's pricing market, e.g. IN")
    held_units: int = Field(description="₹0.0001 units set aside when queued")
    charged_units: int | None = Field(description="₹0.0001 units charged (≤ held)")


class MessageOut(BaseModel):
    id: int
    conversation_id: int
    contact_id: int
    phone_number_id: int
    direction: str
    type: str
    content: dict[str, Any]
    preview: str
    status: str
    wamid: str | None
    context_wamid: str | None
    reaction_emoji: str | None
    referral: dict[str, Any] | None
    occurred_at: datetime
    accepted_at: datetime | None
    sent_at: datetime | None
    delivered_at: datetime | None
    read_at: datetime | None
    failed_at: datetime | None
    error: ErrorOut | None
    pricing_category: str | None
    pricing_type: str | None
    billable: bool | None
    origin: str | None = Field(default=None, description="None: Cloud API; history: imported from the WhatsApp "
                                                         "Business app; business_app: sent from the Business app")
    media: MediaOut | None = None
    charge: ChargeBrief | None = Field(default=None, description="a template's WhatsApp credits: held when queued, "
                                                                "charged on delivery, or free/released")


class ContactOut(BaseModel):
    id: int
    wa_id: str
    profile_name: str | None


class WindowOut(BaseModel):
    csw_open: bool
    csw_expires_at: datetime | None
    fep_open: bool
    fep_expires_at: datetime | None
    fep_reply_by: datetime | None


class ConversationOut(BaseModel):
    id: int
    phone_number_id: int
    display_phone_number: str
    contact: ContactOut
    last_message_at: datetime | None
    last_message_preview: str | None
    unread_count: int
    window: WindowOut
    created_at: datetime


class ConversationPage(BaseModel):
    data: list[ConversationOut]
    next_cursor: str | None


class MessagePage(BaseModel):
    data: list[MessageOut]
    next_cursor: str | None


# --- Meta's shape → typed builders --------------------------------------------------------------------------------


def _obj(value: Any, field: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise wm.MessageValidationError(field, "Expected an object.")
    return value


def _list(value: Any, field: str) -> list[Any]:
    if not isinstance(value, list):
        raise wm.MessageValidationError(field, "Expected a list.")
    return value


def _str(obj: dict[str, Any], key: str, field: str, *, required: bool = False) -> str | None:
    value = obj.get(key)
    if value is None:
        if required:
            raise wm.MessageValidationError(f"{field}.{key}", "This field is required.")
        return None
    if not isinstance(value, str):
        raise wm.MessageValidationError(f"{field}.{key}", "Expected text.")
    return value


def _req(obj: dict[str, Any], key: str, field: str) -> str:
    value = _str(obj, key, field, required=True)
    assert value is not None
    return value


def _num(obj: dict[str, Any], key: str, field: str) -> float:
    value = obj.get(key)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise wm.MessageValidationError(f"{field}.{key}", "Expected a number.")
    return float(value)


def _bool(obj: dict[str, Any], key: str, field: str) -> bool | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, bool):
        raise wm.MessageValidationError(f"{field}.{key}", "Expected true or false.")
    return value


def _text_of(obj: dict[str, Any], key: str, field: str, *, required: bool = False) -> str | None:
    """`{"body": {"text": …}}`-style parts of interactive messages."""
    part = obj.get(key)
    if part is None:
        if required:
            raise wm.MessageValidationError(f"{field}.{key}.text", "This field is required.")
        return None
    return _str(_obj(part, f"{field}.{key}"), "text", f"{field}.{key}", required=True)


def _media(cls: Any, obj: dict[str, Any], field: str, **extra: Any) -> wm.Message:
    return cls(id=_str(obj, "id", field), link=_str(obj, "link", field), **extra)  # type: ignore[no-any-return]


def _header(obj: dict[str, Any], field: str) -> wm.TextHeader | wm.MediaHeader | None:
    raw = obj.get("header")
    if raw is None:
        return None
    header = _obj(raw, f"{field}.header")
    kind = _str(header, "type", f"{field}.header", required=True)
    if kind == "text":
        return wm.TextHeader(_req(header, "text", f"{field}.header"))
    if kind in ("image", "video", "document"):
        media = _obj(header.get(kind), f"{field}.header.{kind}")
        return wm.MediaHeader(kind, id=_str(media, "id", f"{field}.header.{kind}"),  # type: ignore[arg-type]
                              link=_str(media, "link", f"{field}.header.{kind}"))
    raise wm.MessageValidationError(f"{field}.header.type", "A header is text, image, video or document.")


def _text_header(obj: dict[str, Any], field: str) -> wm.TextHeader | None:
    header = _header(obj, field)
    if header is not None and not isinstance(header, wm.TextHeader):
        raise wm.MessageValidationError(f"{field}.header", "This message can only have a text header.")
    return header


def _contact(raw: Any, field: str) -> wm.Contact:
    card = _obj(raw, field)
    name = _obj(card.get("name"), f"{field}.name")
    org = card.get("org")

    def items(key: str, build: Callable[[dict[str, Any], str], Any]) -> list[Any]:
        return [build(_obj(item, f"{field}.{key}"), f"{field}.{key}") for item in _list(card.get(key) or [],
                                                                                         f"{field}.{key}")]

    return wm.Contact(
        name=wm.ContactName(formatted_name=_req(name, "formatted_name", f"{field}.name"),
                            **{k: _str(name, k, f"{field}.name")
                               for k in ("first_name", "last_name", "middle_name", "suffix", "prefix")}),
        birthday=_str(card, "birthday", field),
        phones=items("phones", lambda o, f: wm.ContactPhone(
            phone=_req(o, "phone", f), type=_str(o, "type", f), wa_id=_str(o, "wa_id", f))),  # type: ignore[arg-type]
        emails=items("emails", lambda o, f: wm.ContactEmail(email=_req(o, "email", f),
                                                            type=_str(o, "type", f))),  # type: ignore[arg-type]
        urls=items("urls", lambda o, f: wm.ContactUrl(url=_req(o, "url", f),
                                                      type=_str(o, "type", f))),  # type: ignore[arg-type]
        addresses=items("addresses", lambda o, f: wm.ContactAddress(**{  # type: ignore[arg-type]
            k: _str(o, k, f) for k in ("street", "city", "state", "zip", "country", "country_code", "type")})),
        org=None if org is None else wm.ContactOrg(**{k: _str(_obj(org, f"{field}.org"), k, f"{field}.org")
                                                      for k in ("company", "department", "title")}),
    )


def _interactive(obj: dict[str, Any]) -> wm.Message:
    f = "interactive"
    kind = _str(obj, "type", f, required=True)
    action = _obj(obj.get("action"), f"{f}.action")
    footer = _text_of(obj, "footer", f)
    if kind == "button":
        buttons = []
        for raw in _list(action.get("buttons"), f"{f}.action.buttons"):
            reply = _obj(_obj(raw, f"{f}.action.buttons").get("reply"), f"{f}.action.buttons.reply")
            buttons.append(wm.ReplyButton(id=_req(reply, "id", f"{f}.action.buttons.reply"),
                                          title=_req(reply, "title", f"{f}.action.buttons.reply")))
        return wm.ReplyButtonsMessage(body=_text_of(obj, "body", f, required=True) or "", buttons=buttons,
                                      header=_header(obj, f), footer=footer)
    if kind == "list":
        sections = []
        for raw in _list(action.get("sections"), f"{f}.action.sections"):
            section = _obj(raw, f"{f}.action.sections")
            rows = [wm.ListRow(id=_req(r, "id", f"{f}.action.sections.rows"),
                               title=_req(r, "title", f"{f}.action.sections.rows"),
                               description=_str(r, "description", f"{f}.action.sections.rows"))
                    for r in (_obj(x, f"{f}.action.sections.rows")
                              for x in _list(section.get("rows"), f"{f}.action.sections.rows"))]
            sections.append(wm.ListSection(title=_str(section, "title", f"{f}.action.sections"), rows=rows))
        return wm.ListMessage(body=_text_of(obj, "body", f, required=True) or "",
                              button=_req(action, "button", f"{f}.action"), sections=sections,
                              header=_text_header(obj, f), footer=footer)
    if kind == "product":
        return wm.ProductMessage(catalog_id=_req(action, "catalog_id", f"{f}.action"),
                                 product_retailer_id=_req(action, "product_retailer_id", f"{f}.action"),
                                 body=_text_of(obj, "body", f), footer=footer)
    if kind == "product_list":
        header = _text_header(obj, f)
        if header is None:
            raise wm.MessageValidationError(f"{f}.header", "A product list needs a text header.")
        product_sections = [wm.ProductSection(
            title=_req(s, "title", f"{f}.action.sections"),
            product_retailer_ids=[_req(_obj(p, f"{f}.action.sections.product_items"), "product_retailer_id",
                                       f"{f}.action.sections.product_items")
                                  for p in _list(s.get("product_items"), f"{f}.action.sections.product_items")])
            for s in (_obj(x, f"{f}.action.sections") for x in _list(action.get("sections"), f"{f}.action.sections"))]
        return wm.ProductListMessage(header=header, body=_text_of(obj, "body", f, required=True) or "",
                                     catalog_id=_req(action, "catalog_id", f"{f}.action"),
                                     sections=product_sections,
                                     footer=footer)
    params = _obj(action.get("parameters") or {}, f"{f}.action.parameters")
    if kind == "catalog_message":
        return wm.CatalogMessage(body=_text_of(obj, "body", f, required=True) or "", footer=footer,
                                 thumbnail_product_retailer_id=_str(params, "thumbnail_product_retailer_id",
                                                                    f"{f}.action.parameters"))
    if kind == "cta_url":
        return wm.CtaUrlMessage(body=_text_of(obj, "body", f, required=True) or "",
                                display_text=_req(params, "display_text", f"{f}.action.parameters"),
                                url=_req(params, "url", f"{f}.action.parameters"), header=_header(obj, f),
                                footer=footer)
    if kind == "location_request_message":
        return wm.LocationRequestMessage(body=_text_of(obj, "body", f, required=True) or "")
    if kind == "flow":
        p = f"{f}.action.parameters"
        payload = _obj(params.get("flow_action_payload") or {}, f"{p}.flow_action_payload")
        data = payload.get("data")
        return wm.FlowMessage(
            body=_text_of(obj, "body", f, required=True) or "", flow_token=_req(params, "flow_token", p),
            flow_cta=_req(params, "flow_cta", p), flow_id=_str(params, "flow_id", p),
            flow_name=_str(params, "flow_name", p), mode=_str(params, "mode", p) or "published",  # type: ignore[arg-type]
            flow_action=_str(params, "flow_action", p) or "navigate",  # type: ignore[arg-type]
            screen=_str(payload, "screen", f"{p}.flow_action_payload"),
            data=_obj(data, f"{p}.flow_action_payload.data") if data is not None else None,
            header=_text_header(obj, f), footer=footer,
            flow_message_version=_str(params, "flow_message_version", p) or "3")
    raise wm.MessageValidationError(f"{f}.type", f"Send one of: {', '.join(INTERACTIVE_TYPES)}.")


def _parse(type: str, raw: Any) -> wm.Message:
    if type == "contacts":
        cards = _list(raw, "contacts")
        return wm.ContactsMessage([_contact(card, "contacts") for card in cards])
    obj = _obj(raw, type)
    if type == "text":
        return wm.TextMessage(body=_req(obj, "body", "text"), preview_url=bool(_bool(obj, "preview_url", "text")))
    if type in ("image", "video"):
        return _media(wm.ImageMessage if type == "image" else wm.VideoMessage, obj, type,
                      caption=_str(obj, "caption", type))
    if type == "document":
        return _media(wm.DocumentMessage, obj, type, caption=_str(obj, "caption", type),
                      filename=_str(obj, "filename", type))
    if type == "audio":
        return _media(wm.AudioMessage, obj, type, voice=_bool(obj, "voice", type))
    if type == "sticker":
        return _media(wm.StickerMessage, obj, type)
    if type == "location":
        return wm.LocationMessage(latitude=_num(obj, "latitude", type), longitude=_num(obj, "longitude", type),
                                  name=_str(obj, "name", type), address=_str(obj, "address", type))
    if type == "reaction":
        return wm.ReactionMessage(message_id=_req(obj, "message_id", type), emoji=_str(obj, "emoji", type) or "")
    if type == "interactive":
        return _interactive(obj)
    raise wm.MessageValidationError("type", f"Send one of: {', '.join(SEND_TYPES)}.")


def build_message(type: str, raw: Any) -> wm.Message:
    """The typed builder for Meta's `{type: object}`; Invalid (422, `details` maps the field) when it breaks a rule.
    A `template` object here is Meta's filled-in one (the send job rebuilds it from the row); the API's template
    sends go through softdukan/template/sending.py first, which checks it against the stored template."""
    if type not in SEND_TYPES and type != "template":
        raise Invalid("unsupported_message_type", f"Unknown message type '{type[:40]}'.",
                      {"type": f"Send one of: {', '.join(SEND_TYPES)} or template."})
    if raw is None:
        raise Invalid("invalid_message", f"A '{type}' message needs its '{type}' object.", {type: "Required."})
    try:
        return parse_template_object(raw) if type == "template" else _parse(type, raw)
    except wm.MessageValidationError as exc:
        raise Invalid("invalid_message", f"{exc.field}: {exc.limit_description}",
                      {exc.field: exc.limit_description}) from None
    except (TypeError, ValueError) as exc:  # an odd value a builder could not take (never a 500)
        raise Invalid("invalid_message", f"The '{type}' object is not in WhatsApp's shape.", {type: str(exc)[:200]}
                      ) from None


def stored_content(message: wm.Message) -> dict[str, Any]:
    """What the outbound row keeps: Meta's object for the type (contacts wrapped as {"contacts": [...]})."""
    body = message.to_payload("0")[message.message_type]
    return {"contacts": body} if isinstance(body, list) else dict(body)


def raw_from_content(type: str, content: dict[str, Any]) -> Any:
    return content.get("contacts") if type == "contacts" else content


def preview_of(message: wm.Message) -> str:
    content = stored_content(message)
    kind = message.message_type
    if kind == "text":
        return str(content.get("body", ""))
    if kind in ("image", "video", "audio", "document", "sticker"):
        label = "Voice message" if content.get("voice") else kind.capitalize()
        return f"[{label}] {content.get('caption') or content.get('filename') or ''}".strip()
    if kind == "location":
        return f"[Location] {content.get('name') or content.get('address') or ''}".strip()
    if kind == "contacts":
        names = [str((c.get("name") or {}).get("formatted_name", "")) for c in content["contacts"]]
        return "[Contact] " + ", ".join(n for n in names if n)
    if kind == "reaction":
        return f"Reacted {content.get('emoji')}" if content.get("emoji") else "Removed a reaction"
    body = content.get("body")
    return str(body.get("text", "")) if isinstance(body, dict) else f"[{content.get('type', kind)}]"
