"""Request checks of `POST /{phone-number-id}/messages` that need no state (reference §1.1, §3).

Lenient as Graph is: JSON null is absent, `type`/`sub_type` match case-insensitively, `to` may carry "+".
Every rule broken raises `GraphFault` with Meta's code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from softdukan.sandbox.graph.errors import GraphFault, invalid, missing
from softdukan.sandbox.graph.messages.interactive import check_interactive

MESSAGE_TYPES = (
    "text",
    "image",
    "audio",
    "video",
    "document",
    "sticker",
    "location",
    "contacts",
    "interactive",
    "template",
    "reaction",
)
MEDIA_TYPES = ("image", "audio", "video", "document", "sticker")
URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)


def strip_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: strip_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [strip_nulls(v) for v in value if v is not None]
    return value


@dataclass
class Outbound:
    """A send request that passed the stateless checks."""

    type: str
    to_input: str
    wa_id: str
    message: dict[str, Any]  # the normalized body, echoed into the thread
    content: dict[str, Any]  # the `<type>` object
    context_wamid: str | None = None
    biz_opaque_callback_data: str | None = None
    media_ids: list[str] = field(default_factory=list)  # uploaded ids to check exist and are fresh
    needs_payments: bool = False  # order_details: the WABA must have accepted the Payments ToS


def text_of(obj: Any, key: str, *, where: str, limit: int, required: bool = False) -> str | None:
    if not isinstance(obj, dict):
        if required:
            raise missing(where)
        return None
    value = obj.get(key)
    if value is None:
        if required:
            raise missing(f"{where}.{key}")
        return None
    if not isinstance(value, str):
        raise invalid(f"Param {where}.{key} must be a string.")
    if required and not value.strip():
        raise missing(f"{where}.{key}")
    if len(value) > limit:
        raise invalid(f"Param {where}.{key} must be at most {limit} characters long.")
    return value


def recipient(body: dict[str, Any]) -> tuple[str, str]:
    raw = body.get("to", body.get("recipient"))
    if raw is None:
        raise missing("to")
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = str(raw)
    if not isinstance(raw, str):
        raise invalid("Param to must be a string.")
    digits = re.sub(r"[\s\-().]", "", raw).removeprefix("+")
    if not digits.isdigit() or not 5 <= len(digits) <= 15:
        raise GraphFault(131009, f"Recipient phone number '{raw}' is not a valid WhatsApp phone number.")
    return raw, digits


def check_envelope(body: dict[str, Any]) -> Outbound:
    body = strip_nulls(body)
    product = body.get("messaging_product")
    if product is None:
        raise GraphFault(
            100,
            "The parameter messaging_product is required.",
            message="(#100) The parameter messaging_product is required.",
        )
    if not isinstance(product, str) or product.lower() != "whatsapp":
        raise GraphFault(100, "Param messaging_product must be 'whatsapp'.")
    recipient_type = str(body.get("recipient_type", "individual")).lower()
    if recipient_type not in ("individual", "group"):
        raise invalid("Param recipient_type must be one of {individual, group}.")
    to_input, wa_id = recipient(body)
    kind = body.get("type", "text")
    if not isinstance(kind, str):
        raise invalid("Param type must be a string.")
    kind = kind.lower()
    if kind not in MESSAGE_TYPES:
        raise GraphFault(100, f'Param type must be one of {{{", ".join(MESSAGE_TYPES)}}} - got "{kind}".')
    content = body.get(kind)
    if content is None:
        raise missing(kind)
    if kind != "contacts" and not isinstance(content, dict):
        raise invalid(f"Param {kind} must be a JSON object.")
    opaque = body.get("biz_opaque_callback_data")
    if opaque is not None and (not isinstance(opaque, str) or len(opaque) > 512):
        raise invalid("Param biz_opaque_callback_data must be a string of at most 512 characters.")
    context = body.get("context")
    context_wamid = None
    if context is not None:
        if not isinstance(context, dict) or not isinstance(context.get("message_id"), str):
            raise missing("context.message_id")
        context_wamid = context["message_id"]
    out = Outbound(
        type=kind,
        to_input=to_input,
        wa_id=wa_id,
        message={**body, "type": kind},
        content=content,
        context_wamid=context_wamid,
        biz_opaque_callback_data=opaque,
    )
    CHECKS[kind](out)
    return out


def _text(out: Outbound) -> None:
    text_of(out.content, "body", where="text", limit=4096, required=True)
    preview = out.content.get("preview_url")
    if preview is not None and not isinstance(preview, bool):
        raise invalid("Param text.preview_url must be a boolean.")


def check_media_object(out: Outbound, kind: str, media: Any, *, where: str, caption_allowed: bool = True) -> None:
    if not isinstance(media, dict):
        raise invalid(f"Param {where} must be a JSON object.")
    has_id, has_link = "id" in media, "link" in media
    if has_id and has_link:
        raise invalid(f"Param {where} must have exactly one of id or link.")
    if not has_id and not has_link:
        raise missing(f"{where}.id")
    if has_id:
        if not isinstance(media["id"], str | int) or not str(media["id"]).strip():
            raise invalid(f"Param {where}.id must be a media id.")
        out.media_ids.append(str(media["id"]))
    elif not isinstance(media["link"], str) or not URL.match(media["link"]):
        raise invalid(f"Param {where}.link must be an http(s) URL.")
    if "caption" in media:
        if kind not in ("image", "video", "document") or not caption_allowed:
            raise invalid(f"Param {where}.caption is not allowed for {kind}.")
        text_of(media, "caption", where=where, limit=1024)
    if "filename" in media:
        if kind != "document":
            raise invalid(f"Param {where}.filename is only allowed for documents.")
        text_of(media, "filename", where=where, limit=240)
    if "voice" in media:
        if kind != "audio":
            raise invalid(f"Param {where}.voice is only allowed for audio.")
        if not isinstance(media["voice"], bool):
            raise invalid(f"Param {where}.voice must be a boolean.")


def _media(out: Outbound) -> None:
    check_media_object(out, out.type, out.content, where=out.type)


def _location(out: Outbound) -> None:
    for key in ("latitude", "longitude"):
        value = out.content.get(key)
        if value is None:
            raise missing(f"location.{key}")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise invalid(f"Param location.{key} must be a number.") from None
        if abs(number) > (90 if key == "latitude" else 180):
            raise invalid(f"Param location.{key} is out of range.")
    text_of(out.content, "name", where="location", limit=1000)
    text_of(out.content, "address", where="location", limit=1000)


def _contacts(out: Outbound) -> None:
    cards = out.content
    if not isinstance(cards, list) or not cards:
        raise invalid("Param contacts must be a non-empty array.")
    for index, card in enumerate(cards):
        if not isinstance(card, dict):
            raise invalid(f"Param contacts[{index}] must be a JSON object.")
        name = card.get("name")
        text_of(name, "formatted_name", where=f"contacts[{index}].name", limit=1000, required=True)
        parts = ("first_name", "last_name", "middle_name", "suffix", "prefix")
        if not any(isinstance(name.get(p), str) and name[p].strip() for p in parts):
            raise missing(f"contacts[{index}].name.first_name")
        for phone in card.get("phones", []) or []:
            kind = phone.get("type") if isinstance(phone, dict) else None
            if kind is not None and str(kind).upper() not in ("CELL", "MAIN", "IPHONE", "HOME", "WORK"):
                raise invalid(f"Param contacts[{index}].phones.type is not valid.")


def _reaction(out: Outbound) -> None:
    text_of(out.content, "message_id", where="reaction", limit=256, required=True)
    emoji = out.content.get("emoji", "")
    if not isinstance(emoji, str) or len(emoji) > 16:
        raise invalid("Param reaction.emoji must be one emoji or empty.")


def _interactive(out: Outbound) -> None:
    check_interactive(out)


def _template(out: Outbound) -> None:
    text_of(out.content, "name", where="template", limit=512, required=True)
    language = out.content.get("language")
    if isinstance(language, str):  # lenient: a bare code
        language = {"code": language}
        out.content["language"] = language
    text_of(language, "code", where="template.language", limit=16, required=True)
    components = out.content.get("components", [])
    if not isinstance(components, list):
        raise invalid("Param template.components must be an array.")
    for component in components:
        if not isinstance(component, dict) or not isinstance(component.get("type"), str):
            raise missing("template.components.type")
        component["type"] = component["type"].lower()
        if isinstance(component.get("sub_type"), str):
            component["sub_type"] = component["sub_type"].lower()
        parameters = component.get("parameters", [])
        if not isinstance(parameters, list):
            raise invalid("Param template.components.parameters must be an array.")
        for parameter in parameters:
            if not isinstance(parameter, dict) or not isinstance(parameter.get("type"), str):
                raise missing("template.components.parameters.type")
            parameter["type"] = parameter["type"].lower()
            kind = parameter["type"]
            if kind in MEDIA_TYPES:
                check_media_object(out, kind, parameter.get(kind), where=f"template.{kind}")


CHECKS = {
    "text": _text,
    "image": _media,
    "audio": _media,
    "video": _media,
    "document": _media,
    "sticker": _media,
    "location": _location,
    "contacts": _contacts,
    "reaction": _reaction,
    "interactive": _interactive,
    "template": _template,
}
