"""Inbound messages (`value.messages[]`, reference §5.5) parsed into typed objects.

Every known type has its content class; a type we don't know (Meta adds them) becomes `unsupported` with the
original type and the raw object kept, never an error. Only what identifies a message is required: `id`,
`from` and `timestamp`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from softdukan.whatsapp.webhook.common import (
    PayloadError,
    WebhookError,
    as_dict,
    as_list,
    flag,
    integer,
    number,
    required_text,
    text,
    timestamp,
)

MEDIA_TYPES = frozenset({"image", "video", "audio", "sticker", "document"})
MESSAGE_TYPES = frozenset({"text", "location", "contacts", "reaction", "interactive", "button", "order", "system",
                           "unsupported", *MEDIA_TYPES})
INTERACTIVE_KINDS = frozenset({"button_reply", "list_reply", "nfm_reply"})
SYSTEM_KINDS = frozenset({"user_changed_number", "customer_identity_changed", "customer_changed_number"})


class Content:
    """Base of every message content; `to_json()` is what the Message row stores."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload, no-any-return]

    def preview(self) -> str:
        return ""


@dataclass(frozen=True, slots=True)
class TextContent(Content):
    body: str

    def preview(self) -> str:
        return self.body


@dataclass(frozen=True, slots=True)
class MediaContent(Content):
    kind: str  # image | video | audio | sticker | document
    media_id: str | None
    mime_type: str | None
    sha256: str | None
    caption: str | None = None
    filename: str | None = None
    url: str | None = None
    voice: bool = False  # audio: a voice note rather than an audio file
    animated: bool = False  # sticker

    def preview(self) -> str:
        label = "Voice message" if self.voice else self.kind.capitalize()
        return f"[{label}] {self.caption or self.filename or ''}".strip()


@dataclass(frozen=True, slots=True)
class LocationContent(Content):
    latitude: float | None
    longitude: float | None
    name: str | None = None
    address: str | None = None
    url: str | None = None

    def preview(self) -> str:
        return f"[Location] {self.name or self.address or ''}".strip()


@dataclass(frozen=True, slots=True)
class ContactsContent(Content):
    contacts: list[dict[str, Any]]  # contact cards as Meta sends them (§3.11 shape)

    def preview(self) -> str:
        names = [text(as_dict(c.get("name")).get("formatted_name")) or "" for c in self.contacts]
        return "[Contact] " + ", ".join(n for n in names if n)


@dataclass(frozen=True, slots=True)
class ReactionContent(Content):
    message_id: str | None  # the wamid reacted to
    emoji: str | None  # None: the reaction was removed

    def preview(self) -> str:
        return f"Reacted {self.emoji}" if self.emoji else "Removed a reaction"


@dataclass(frozen=True, slots=True)
class InteractiveContent(Content):
    kind: str  # button_reply | list_reply | nfm_reply | unknown
    reply_id: str | None = None
    title: str | None = None
    description: str | None = None
    response_json: str | None = None  # nfm_reply (Flows): the flow's answers as a JSON string
    body: str | None = None
    name: str | None = None
    original_kind: str | None = None

    def preview(self) -> str:
        return self.title or self.body or f"[{self.kind}]"


@dataclass(frozen=True, slots=True)
class ButtonContent(Content):
    """A quick-reply button of a template message."""

    payload: str | None
    text: str | None

    def preview(self) -> str:
        return self.text or self.payload or ""


@dataclass(frozen=True, slots=True)
class OrderItem:
    product_retailer_id: str | None
    quantity: int | None
    item_price: float | None
    currency: str | None


@dataclass(frozen=True, slots=True)
class OrderContent(Content):
    catalog_id: str | None
    text: str | None
    product_items: list[OrderItem] = field(default_factory=list)

    def preview(self) -> str:
        return f"[Order] {len(self.product_items)} item(s)"


@dataclass(frozen=True, slots=True)
class SystemContent(Content):
    kind: str  # user_changed_number | customer_identity_changed | … | unknown
    body: str | None
    new_wa_id: str | None = None  # user_changed_number: the customer's new number
    identity: dict[str, Any] | None = None
    original_kind: str | None = None

    def preview(self) -> str:
        return self.body or f"[{self.kind}]"


@dataclass(frozen=True, slots=True)
class UnsupportedContent(Content):
    original_type: str
    errors: list[dict[str, Any]] = field(default_factory=list)
    raw: dict[str, Any] | None = None  # the object of a type we don't know yet, kept for later

    def preview(self) -> str:
        return "[Unsupported message]"


@dataclass(frozen=True, slots=True)
class Context:
    from_: str | None = None  # the business number a reply points at
    message_id: str | None = None  # the wamid replied to (or the interactive message answered)
    forwarded: bool = False
    frequently_forwarded: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"from": self.from_, "id": self.message_id, "forwarded": self.forwarded,
                "frequently_forwarded": self.frequently_forwarded}


@dataclass(frozen=True, slots=True)
class Referral:
    """A Click-to-WhatsApp ad or post the customer came from; on the first message only."""

    source_type: str | None
    source_id: str | None
    source_url: str | None
    headline: str | None
    body: str | None
    media_type: str | None
    ctwa_clid: str | None
    raw: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return dict(self.raw)


@dataclass(frozen=True, slots=True)
class InboundMessage:
    wamid: str
    from_: str  # the customer's wa_id
    timestamp: datetime
    type: str  # one of MESSAGE_TYPES
    content: Content
    context: Context | None = None
    referral: Referral | None = None
    errors: tuple[WebhookError, ...] = ()

    @property
    def is_user_message(self) -> bool:
        """Sent by the customer (opens the customer-service window); system notices are not."""
        return self.type != "system"


def _media(kind: str, obj: dict[str, Any]) -> MediaContent:
    return MediaContent(kind=kind, media_id=text(obj.get("id")), mime_type=text(obj.get("mime_type")),
                        sha256=text(obj.get("sha256")), caption=text(obj.get("caption")),
                        filename=text(obj.get("filename")), url=text(obj.get("url")), voice=flag(obj.get("voice")),
                        animated=flag(obj.get("animated")))


def _interactive(obj: dict[str, Any]) -> InteractiveContent:
    kind = text(obj.get("type")) or ""
    reply = as_dict(obj.get(kind))
    if kind not in INTERACTIVE_KINDS:
        return InteractiveContent(kind="unknown", original_kind=kind or None, title=text(reply.get("title")),
                                  reply_id=text(reply.get("id")))
    return InteractiveContent(kind=kind, reply_id=text(reply.get("id")), title=text(reply.get("title")),
                              description=text(reply.get("description")),
                              response_json=text(reply.get("response_json")), body=text(reply.get("body")),
                              name=text(reply.get("name")))


def _order(obj: dict[str, Any]) -> OrderContent:
    items = [OrderItem(product_retailer_id=text(i.get("product_retailer_id")), quantity=integer(i.get("quantity")),
                       item_price=number(i.get("item_price")), currency=text(i.get("currency")))
             for i in as_list(obj.get("product_items")) if isinstance(i, dict)]
    return OrderContent(catalog_id=text(obj.get("catalog_id")), text=text(obj.get("text")), product_items=items)


def _system(message: dict[str, Any]) -> SystemContent:
    obj = as_dict(message.get("system"))
    kind = text(obj.get("type")) or ""
    identity = message.get("identity") if isinstance(message.get("identity"), dict) else None
    return SystemContent(kind=kind if kind in SYSTEM_KINDS else "unknown", body=text(obj.get("body")),
                         new_wa_id=text(obj.get("wa_id")) or text(obj.get("new_wa_id")), identity=identity,
                         original_kind=None if kind in SYSTEM_KINDS else kind or None)


def _content(kind: str, message: dict[str, Any]) -> tuple[str, Content]:
    obj = as_dict(message.get(kind))
    if kind == "text":
        return kind, TextContent(body=text(obj.get("body")) or "")
    if kind in MEDIA_TYPES:
        return kind, _media(kind, obj)
    if kind == "location":
        return kind, LocationContent(latitude=number(obj.get("latitude")), longitude=number(obj.get("longitude")),
                                     name=text(obj.get("name")), address=text(obj.get("address")),
                                     url=text(obj.get("url")))
    if kind == "contacts":
        return kind, ContactsContent(contacts=[c for c in as_list(message.get("contacts")) if isinstance(c, dict)])
    if kind == "reaction":
        return kind, ReactionContent(message_id=text(obj.get("message_id")), emoji=text(obj.get("emoji")) or None)
    if kind == "interactive":
        return kind, _interactive(obj)
    if kind == "button":
        return kind, ButtonContent(payload=text(obj.get("payload")), text=text(obj.get("text")))
    if kind == "order":
        return kind, _order(obj)
    if kind == "system":
        return kind, _system(message)
    errors = [e.to_json() for e in WebhookError.parse_all(message.get("errors"))]
    raw = None if kind == "unsupported" else {k: v for k, v in message.items() if k not in ("from", "id")}
    return "unsupported", UnsupportedContent(original_type=kind or "unknown", errors=errors, raw=raw)


def _context(value: Any) -> Context | None:
    if not isinstance(value, dict):
        return None
    return Context(from_=text(value.get("from")), message_id=text(value.get("id")),
                   forwarded=flag(value.get("forwarded")), frequently_forwarded=flag(value.get("frequently_forwarded")))


def _referral(value: Any) -> Referral | None:
    if not isinstance(value, dict) or not value:
        return None
    return Referral(source_type=text(value.get("source_type")), source_id=text(value.get("source_id")),
                    source_url=text(value.get("source_url")), headline=text(value.get("headline")),
                    body=text(value.get("body")), media_type=text(value.get("media_type")),
                    ctwa_clid=text(value.get("ctwa_clid")), raw=value)


def parse_message(obj: Any, path: str) -> InboundMessage:
    if not isinstance(obj, dict):
        raise PayloadError(path, "a message object is required")
    kind = text(obj.get("type")) or ""
    stored_type, content = _content(kind, obj)
    return InboundMessage(wamid=required_text(obj, "id", path),
                          from_=required_text(obj, "from", path, max_length=64),
                          timestamp=timestamp(obj.get("timestamp"), f"{path}.timestamp"), type=stored_type,
                          content=content, context=_context(obj.get("context")),
                          referral=_referral(obj.get("referral")), errors=WebhookError.parse_all(obj.get("errors")))
