"""What the person at the phone can do, checked and turned into the sandbox's inbound messages (reference §5.5).

Every function takes the caller's unit of work first, never commits, and raises `PhoneError` (a clear,
user-facing message) for bad input; the sandbox's own `GraphFault`s pass through to the view.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from softdukan.platform.uow import UnitOfWork
from softdukan.sandbox import service
from softdukan.sandbox.models import SandboxMedia, SandboxMessage, SandboxPhoneNumber, SandboxTemplate, SandboxWaba
from softdukan.sandbox.service.customers import phone_by_id
from softdukan.sandbox.simulator.bubbles import VISIBLE_OUT, Templates, quick_reply_payload

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_NAME = 200
MAX_IMAGE = 5 * 1024 * 1024  # reference §7.6: jpeg/png up to 5 MB
IMAGE_TYPES = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png"}


class PhoneError(Exception):
    """Bad input at the phone: shown to the person, never a 500."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message, self.status = message, status


@dataclass
class BusinessNumber:
    phone_number_id: str
    display_phone_number: str
    verified_name: str


def clean(value: Any, label: str, *, limit: int, required: bool = False) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if "\x00" in text:
        raise PhoneError(f"{label} contains a character WhatsApp does not accept.")
    if required and not text:
        raise PhoneError(f"{label} is required.")
    if len(text) > limit:
        raise PhoneError(f"{label} is {len(text)} characters; at most {limit} are allowed.")
    return text


async def business_numbers(uow: UnitOfWork) -> list[BusinessNumber]:
    """Sandbox numbers a customer can write to: on a WABA, registered and connected."""
    rows = (
        await uow.session.execute(
            select(SandboxPhoneNumber)
            .where(
                SandboxPhoneNumber.waba_pk.is_not(None),
                SandboxPhoneNumber.deleted_at.is_(None),
                SandboxPhoneNumber.registered.is_(True),
                SandboxPhoneNumber.status == "CONNECTED",
            )
            .order_by(SandboxPhoneNumber.id)
        )
    ).scalars()
    return [BusinessNumber(p.phone_number_id, p.display_phone_number, p.verified_name) for p in rows.all()]


def template_key(template: dict[str, Any]) -> tuple[str, str]:
    return str(template.get("name", "")), str((template.get("language") or {}).get("code", ""))


async def templates_for(uow: UnitOfWork, phone: SandboxPhoneNumber, views: list[dict[str, Any]]) -> Templates:
    """The components of the templates this thread's messages were sent with (deleted ones too)."""
    wanted = {template_key(v["payload"]["template"]) for v in views
              if v["type"] == "template" and isinstance(v["payload"].get("template"), dict)}
    if not wanted or phone.waba_pk is None:
        return {}
    rows = (
        await uow.session.execute(
            select(SandboxTemplate)
            .where(SandboxTemplate.waba_pk == phone.waba_pk, SandboxTemplate.name.in_({n for n, _ in wanted}))
            .order_by(SandboxTemplate.id)
        )
    ).scalars()
    found: Templates = {}
    for template in rows.all():  # newest wins; a live one wins over a deleted one
        key = (template.name, template.language)
        if key in wanted and (template.deleted_at is None or key not in found):
            found[key] = list(template.components or [])
    return found


async def media_of_phone(uow: UnitOfWork, phone_number_id: str, media_id: str) -> SandboxMedia:
    """Media the business of this number uploaded or received: what its customers' phones may show."""
    phone = await phone_by_id(uow, phone_number_id)
    waba = await uow.session.get(SandboxWaba, phone.waba_pk)
    query = select(SandboxMedia).where(SandboxMedia.media_id == media_id)
    media = (await uow.session.execute(query)).scalar_one_or_none()
    if media is None or waba is None or media.business_pk != waba.business_pk or media.deleted_at is not None:
        raise PhoneError("This media does not exist or has been deleted.", status=404)
    return media


def ad_referral(headline: str) -> dict[str, Any]:
    """A Click-to-WhatsApp ad's `referral` (reference §5.5), as on the first message after tapping the ad."""
    ad_id = "".join(secrets.choice("0123456789") for _ in range(15))
    return {
        "source_url": f"https://fb.me/sandbox-ad-{ad_id}",
        "source_id": ad_id,
        "source_type": "ad",
        "headline": headline or "Sandbox ad",
        "body": "Tap to chat with us on WhatsApp",
        "media_type": "image",
        "image_url": "https://example.com/sandbox-ad.jpg",
        "thumbnail_url": "https://example.com/sandbox-ad-thumb.jpg",
        "ctwa_clid": "ARA" + secrets.token_urlsafe(24),
    }


async def send_text(uow: UnitOfWork, wa_id: str, phone_number_id: str, body: Any,
                    referral: dict[str, Any] | None = None) -> str:
    text = clean(body, "Message", limit=MAX_TEXT, required=True)
    return await service.customer_sends(uow, wa_id, phone_number_id=phone_number_id,
                                        message={"type": "text", "text": {"body": text}}, referral=referral)


def _coordinate(value: Any, label: str, bound: float) -> float:
    try:
        number = float(str(value).strip())
    except ValueError:
        raise PhoneError(f"{label} must be a number, e.g. 12.9716.") from None
    if not -bound <= number <= bound or number != number:
        raise PhoneError(f"{label} must be between -{bound:g} and {bound:g}.")
    return number


async def send_location(uow: UnitOfWork, wa_id: str, phone_number_id: str, *, latitude: Any, longitude: Any,
                        name: Any = "", address: Any = "", referral: dict[str, Any] | None = None) -> str:
    location: dict[str, Any] = {"latitude": _coordinate(latitude, "Latitude", 90),
                                "longitude": _coordinate(longitude, "Longitude", 180)}
    if place := clean(name, "Place name", limit=1000):
        location["name"] = place
    if street := clean(address, "Address", limit=1000):
        location["address"] = street
    return await service.customer_sends(uow, wa_id, phone_number_id=phone_number_id,
                                        message={"type": "location", "location": location}, referral=referral)


def image_type(data: bytes) -> str:
    for magic, mime in IMAGE_TYPES.items():
        if data.startswith(magic):
            return mime
    raise PhoneError("Only JPEG and PNG images can be sent (WhatsApp's image formats).", status=415)


async def send_image(uow: UnitOfWork, wa_id: str, phone_number_id: str, *, data: bytes, caption: Any = "",
                     referral: dict[str, Any] | None = None) -> str:
    if not data:
        raise PhoneError("Choose an image to send.")
    if len(data) > MAX_IMAGE:
        raise PhoneError(f"The image is {len(data) / 1024 / 1024:.1f} MB; WhatsApp images may be at most 5 MB.",
                         status=413)
    image: dict[str, Any] = {"mime_type": image_type(data), "data_base64": base64.b64encode(data).decode()}
    if text := clean(caption, "Caption", limit=MAX_CAPTION):
        image["caption"] = text
    return await service.customer_sends(uow, wa_id, phone_number_id=phone_number_id,
                                        message={"type": "image", "image": image}, referral=referral)


async def _tapped(uow: UnitOfWork, wa_id: str, phone: SandboxPhoneNumber, wamid: str) -> SandboxMessage:
    message = (
        await uow.session.execute(select(SandboxMessage).where(SandboxMessage.wamid == wamid))
    ).scalar_one_or_none()
    if (message is None or message.phone_pk != phone.id or message.wa_id != wa_id or message.direction != "out"
            or message.status not in VISIBLE_OUT):
        raise PhoneError("That message is not in this chat.", status=404)
    return message


def _choice(choice: str, count: int) -> int:
    if not choice.isdigit() or int(choice) >= count:
        raise PhoneError("That button is not on this message.")
    return int(choice)


async def tap(uow: UnitOfWork, wa_id: str, phone_number_id: str, *, wamid: Any, choice: Any) -> str:
    """The customer taps a reply button, a list row or a template quick reply on message `wamid`.

    `choice`: the button's index, or the list row's id. Sends what WhatsApp sends, with `context` → `wamid`."""
    phone = await phone_by_id(uow, phone_number_id)
    customer = await service.upsert_customer(uow, wa_id)
    message = await _tapped(uow, customer.wa_id, phone, clean(wamid, "Message", limit=128, required=True))
    picked = clean(choice, "Choice", limit=256, required=True)
    payload = message.payload or {}
    raw = payload.get("interactive")
    interactive: dict[str, Any] = raw if isinstance(raw, dict) else {}
    action: dict[str, Any] = interactive.get("action") or {}
    inbound: dict[str, Any]
    if message.type == "interactive" and interactive.get("type") == "button":
        buttons = action.get("buttons") or []
        reply = buttons[_choice(picked, len(buttons))].get("reply") or {}
        inbound = {"type": "interactive", "interactive": {
            "type": "button_reply", "button_reply": {"id": reply.get("id"), "title": reply.get("title")}}}
    elif message.type == "interactive" and interactive.get("type") == "list":
        rows = [r for s in action.get("sections") or [] for r in s.get("rows") or []]
        row = next((r for r in rows if str(r.get("id")) == picked), None)
        if row is None:
            raise PhoneError("That row is not in this list.")
        item = {"id": row.get("id"), "title": row.get("title")}
        if row.get("description"):
            item["description"] = row["description"]
        inbound = {"type": "interactive", "interactive": {"type": "list_reply", "list_reply": item}}
    elif message.type == "template" and isinstance(payload.get("template"), dict):
        template = payload["template"]
        components = (await templates_for(uow, phone, [{"type": "template", "payload": payload}])).get(
            template_key(template), [])
        buttons = next((c.get("buttons") or [] for c in components if str(c.get("type", "")).upper() == "BUTTONS"), [])
        index = _choice(picked, len(buttons))
        if str(buttons[index].get("type", "")).upper() != "QUICK_REPLY":
            raise PhoneError("Only quick-reply buttons send a reply.")
        title = str(buttons[index].get("text", ""))
        inbound = {"type": "button", "button": {
            "payload": quick_reply_payload(template.get("components") or [], index, title), "text": title}}
    else:
        raise PhoneError("This message has nothing to tap.")
    return await service.customer_sends(uow, customer.wa_id, phone_number_id=phone.phone_number_id, message=inbound,
                                        context={"id": message.wamid})
