"""Typed builders for WhatsApp Cloud API send-message payloads.

Every builder is a frozen dataclass that validates the limits of the reference
(``/work/shared/reference/whatsapp-cloud-api.md`` §1.1, §3) locally, at construction,
and renders the exact ``POST /{version}/{phone-number-id}/messages`` body with
``to_payload``. A broken message raises :class:`MessageValidationError` before any
HTTP call is made, so a business owner sees *which* field is wrong and *why*.

Lengths are counted in Unicode code points (``len(str)``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

__all__ = [
    "AudioMessage",
    "CatalogMessage",
    "Contact",
    "ContactAddress",
    "ContactEmail",
    "ContactName",
    "ContactOrg",
    "ContactPhone",
    "ContactUrl",
    "ContactsMessage",
    "CouponCodeParameter",
    "CtaUrlMessage",
    "CurrencyParameter",
    "DateTimeParameter",
    "DocumentMessage",
    "FlowMessage",
    "ImageMessage",
    "ListMessage",
    "ListRow",
    "ListSection",
    "LocationMessage",
    "LocationParameter",
    "LocationRequestMessage",
    "MediaHeader",
    "MediaParameter",
    "Message",
    "MessageValidationError",
    "PayloadParameter",
    "ProductListMessage",
    "ProductMessage",
    "ProductSection",
    "ReactionMessage",
    "ReplyButton",
    "ReplyButtonsMessage",
    "StickerMessage",
    "TemplateBody",
    "TemplateButton",
    "TemplateHeader",
    "TemplateMessage",
    "TextHeader",
    "TextMessage",
    "TextParameter",
    "VideoMessage",
]

# --- limits (reference §1.1, §3, §9.2) -------------------------------------------------
BIZ_OPAQUE_CALLBACK_DATA_MAX = 512
TEXT_BODY_MAX = 4096
E164_DIGITS_MAX = 15

HEADER_TEXT_MAX = 60
FOOTER_MAX = 60

REPLY_BUTTONS_MIN = 1
REPLY_BUTTONS_MAX = 3
REPLY_BUTTON_ID_MAX = 256
REPLY_BUTTON_TITLE_MAX = 20
REPLY_BUTTONS_BODY_MAX = 1024

LIST_BUTTON_MAX = 20
LIST_BODY_MAX = 4096
LIST_SECTIONS_MAX = 10
LIST_SECTION_TITLE_MAX = 24
LIST_ROWS_TOTAL_MAX = 10
LIST_ROW_ID_MAX = 200
LIST_ROW_TITLE_MAX = 24
LIST_ROW_DESCRIPTION_MAX = 72

PRODUCT_LIST_PRODUCTS_MAX = 30
PRODUCT_LIST_SECTIONS_MAX = 10
PRODUCT_LIST_SECTION_TITLE_MAX = 24
CATALOG_BODY_MAX = 1024

FLOW_CTA_MAX = 20

TEMPLATE_NAME_MAX = 512
TEMPLATE_BUTTONS_MAX = 10
TEMPLATE_COUPON_CODE_MAX = 15

LATITUDE_RANGE = (-90.0, 90.0)
LONGITUDE_RANGE = (-180.0, 180.0)


class MessageValidationError(ValueError):
    """A message breaks a WhatsApp limit; raised locally, before anything is sent."""

    def __init__(self, field: str, limit_description: str) -> None:
        self.field = field
        self.limit_description = limit_description
        super().__init__(f"{field}: {limit_description}")


# --- validation helpers ------------------------------------------------------------------
def _check_text(field_name: str, value: object, max_len: int, *, label: str, required: bool = True) -> None:
    if value is None:
        if required:
            raise MessageValidationError(field_name, f"{label} is required.")
        return
    if not isinstance(value, str):
        raise MessageValidationError(field_name, f"{label} must be text.")
    if required and not value.strip():
        raise MessageValidationError(field_name, f"{label} cannot be empty.")
    if len(value) > max_len:
        raise MessageValidationError(
            field_name,
            f"{label} can be at most {max_len} characters long; yours is {len(value)} characters.",
        )


def _check_count(field_name: str, count: int, *, minimum: int, maximum: int, label: str) -> None:
    if count < minimum:
        raise MessageValidationError(field_name, f"You need at least {minimum} {label}; you have {count}.")
    if count > maximum:
        raise MessageValidationError(field_name, f"WhatsApp allows at most {maximum} {label}; you have {count}.")


def _check_range(field_name: str, value: object, bounds: tuple[float, float], *, label: str) -> None:
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MessageValidationError(field_name, f"{label} must be a number between {low:g} and {high:g}.")
    if not low <= value <= high:
        raise MessageValidationError(field_name, f"{label} must be between {low:g} and {high:g}; you gave {value}.")


def _check_media_source(field_prefix: str, id_: str | None, link: str | None) -> None:
    if (id_ is None) == (link is None):
        raise MessageValidationError(
            field_prefix, "Give exactly one of an uploaded media ID or a link to the file, not both or neither."
        )
    if id_ is not None and not (isinstance(id_, str) and id_.strip()):
        raise MessageValidationError(f"{field_prefix}.id", "The media ID cannot be empty.")
    if link is not None and not (isinstance(link, str) and re.match(r"^https?://\S+$", link)):
        raise MessageValidationError(f"{field_prefix}.link", "The media link must be an http:// or https:// URL.")


def _media_source(id_: str | None, link: str | None) -> dict[str, Any]:
    return {"id": id_} if id_ is not None else {"link": link}


def _contains_emoji(value: str) -> bool:
    for ch in value:
        cp = ord(ch)
        if unicodedata.category(ch) == "So" or 0x1F000 <= cp <= 0x1FAFF or cp in (0x200D, 0xFE0F):
            return True
    return False


def _tuple(obj: Any, name: str) -> None:
    """Freeze a sequence field into a tuple (dataclasses stay hashable and immutable)."""
    value = getattr(obj, name)
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise MessageValidationError(name, f"{name} must be a list.")
    object.__setattr__(obj, name, tuple(value))


def _check_to(to: object) -> None:
    if not isinstance(to, str) or not to.isascii() or not to.isdigit():
        raise MessageValidationError(
            "to",
            "The recipient's number must be digits only, in international format without '+', "
            "spaces or dashes (for example 919812345678).",
        )
    if len(to) > E164_DIGITS_MAX:
        raise MessageValidationError("to", f"A phone number has at most {E164_DIGITS_MAX} digits; yours has {len(to)}.")


# --- base ----------------------------------------------------------------------------------
class Message:
    """Base of every builder. Subclasses set ``message_type`` and implement ``_content``."""

    message_type: ClassVar[str]

    def _content(self) -> dict[str, Any] | list[Any]:
        raise NotImplementedError

    def to_payload(
        self,
        to: str,
        *,
        context_message_id: str | None = None,
        biz_opaque_callback_data: str | None = None,
    ) -> dict[str, Any]:
        _check_to(to)
        payload: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            "type": self.message_type,
        }
        if context_message_id is not None:
            if not isinstance(context_message_id, str) or not context_message_id.strip():
                raise MessageValidationError("context.message_id", "The message being replied to needs an ID.")
            payload["context"] = {"message_id": context_message_id}
        if biz_opaque_callback_data is not None:
            _check_text(
                "biz_opaque_callback_data",
                biz_opaque_callback_data,
                BIZ_OPAQUE_CALLBACK_DATA_MAX,
                label="Tracking data",
                required=False,
            )
            payload["biz_opaque_callback_data"] = biz_opaque_callback_data
        payload[self.message_type] = self._content()
        return payload


# --- 3.1 text ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class TextMessage(Message):
    body: str
    preview_url: bool = False

    message_type: ClassVar[str] = "text"

    def __post_init__(self) -> None:
        _check_text("text.body", self.body, TEXT_BODY_MAX, label="Message text")

    def _content(self) -> dict[str, Any]:
        return {"body": self.body, "preview_url": self.preview_url}


# --- 3.2 media -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Media(Message):
    id: str | None = None
    link: str | None = None

    def __post_init__(self) -> None:
        _check_media_source(self.message_type, self.id, self.link)

    def _content(self) -> dict[str, Any]:
        return _media_source(self.id, self.link)


@dataclass(frozen=True, slots=True)
class _CaptionedMedia(_Media):
    caption: str | None = None

    def __post_init__(self) -> None:
        _Media.__post_init__(self)
        # The reference allows a caption on image/video/document but gives no length limit.
        _check_text(f"{self.message_type}.caption", self.caption, 10**9, label="Caption", required=False)

    def _content(self) -> dict[str, Any]:
        content = _media_source(self.id, self.link)
        if self.caption is not None:
            content["caption"] = self.caption
        return content


@dataclass(frozen=True, slots=True)
class ImageMessage(_CaptionedMedia):
    message_type: ClassVar[str] = "image"


@dataclass(frozen=True, slots=True)
class VideoMessage(_CaptionedMedia):
    message_type: ClassVar[str] = "video"


@dataclass(frozen=True, slots=True)
class DocumentMessage(_CaptionedMedia):
    filename: str | None = None

    message_type: ClassVar[str] = "document"

    def __post_init__(self) -> None:
        _CaptionedMedia.__post_init__(self)
        if self.filename is not None and (not isinstance(self.filename, str) or not self.filename.strip()):
            raise MessageValidationError("document.filename", "The file name cannot be empty.")

    def _content(self) -> dict[str, Any]:
        content = _CaptionedMedia._content(self)
        if self.filename is not None:
            content["filename"] = self.filename
        return content


@dataclass(frozen=True, slots=True)
class AudioMessage(_Media):
    """Audio has no caption; ``voice=True`` sends it as a voice note."""

    voice: bool | None = None

    message_type: ClassVar[str] = "audio"

    def _content(self) -> dict[str, Any]:
        content = _media_source(self.id, self.link)
        if self.voice is not None:
            content["voice"] = self.voice
        return content


@dataclass(frozen=True, slots=True)
class StickerMessage(_Media):
    """Stickers carry no caption."""

    message_type: ClassVar[str] = "sticker"


# --- 3.3 template --------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class TextParameter:
    text: str
    parameter_name: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.text, str):
            raise MessageValidationError("template.parameter.text", "A text variable must be text.")
        if self.parameter_name is not None and not re.fullmatch(r"[a-z0-9_]+", self.parameter_name):
            raise MessageValidationError(
                "template.parameter.parameter_name",
                "A named variable uses lowercase letters, digits and '_' only.",
            )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "text", "text": self.text}
        if self.parameter_name is not None:
            out["parameter_name"] = self.parameter_name
        return out


@dataclass(frozen=True, slots=True)
class CurrencyParameter:
    fallback_value: str
    code: str
    amount_1000: int
    parameter_name: str | None = None

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Z]{3}", self.code or ""):
            raise MessageValidationError("template.parameter.currency.code", "Use a 3-letter currency code, e.g. INR.")
        if isinstance(self.amount_1000, bool) or not isinstance(self.amount_1000, int):
            raise MessageValidationError(
                "template.parameter.currency.amount_1000", "The amount must be a whole number (amount × 1000)."
            )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": "currency",
            "currency": {"fallback_value": self.fallback_value, "code": self.code, "amount_1000": self.amount_1000},
        }
        if self.parameter_name is not None:
            out["parameter_name"] = self.parameter_name
        return out


@dataclass(frozen=True, slots=True)
class DateTimeParameter:
    fallback_value: str
    parameter_name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "date_time", "date_time": {"fallback_value": self.fallback_value}}
        if self.parameter_name is not None:
            out["parameter_name"] = self.parameter_name
        return out


@dataclass(frozen=True, slots=True)
class MediaParameter:
    """Header media: image, video or document (document may carry a filename)."""

    kind: Literal["image", "video", "document"]
    id: str | None = None
    link: str | None = None
    filename: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("image", "video", "document"):
            raise MessageValidationError(
                "template.header.type", "A template header can show an image, video or document."
            )
        _check_media_source(f"template.header.{self.kind}", self.id, self.link)
        if self.filename is not None and self.kind != "document":
            raise MessageValidationError("template.header.filename", "Only a document can have a file name.")

    def to_dict(self) -> dict[str, Any]:
        media = _media_source(self.id, self.link)
        if self.filename is not None:
            media["filename"] = self.filename
        return {"type": self.kind, self.kind: media}


@dataclass(frozen=True, slots=True)
class LocationParameter:
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None

    def __post_init__(self) -> None:
        _check_range("template.header.location.latitude", self.latitude, LATITUDE_RANGE, label="Latitude")
        _check_range("template.header.location.longitude", self.longitude, LONGITUDE_RANGE, label="Longitude")

    def to_dict(self) -> dict[str, Any]:
        loc: dict[str, Any] = {"latitude": self.latitude, "longitude": self.longitude}
        if self.name is not None:
            loc["name"] = self.name
        if self.address is not None:
            loc["address"] = self.address
        return {"type": "location", "location": loc}


@dataclass(frozen=True, slots=True)
class PayloadParameter:
    """Quick-reply button payload."""

    payload: str

    def to_dict(self) -> dict[str, Any]:
        return {"type": "payload", "payload": self.payload}


@dataclass(frozen=True, slots=True)
class CouponCodeParameter:
    coupon_code: str

    def __post_init__(self) -> None:
        _check_text("template.button.coupon_code", self.coupon_code, TEMPLATE_COUPON_CODE_MAX, label="Coupon code")

    def to_dict(self) -> dict[str, Any]:
        return {"type": "coupon_code", "coupon_code": self.coupon_code}


_BodyParam = TextParameter | CurrencyParameter | DateTimeParameter
_HeaderParam = TextParameter | MediaParameter | LocationParameter
_ButtonParam = TextParameter | PayloadParameter | CouponCodeParameter


def _check_named_positional(field_name: str, params: Sequence[Any]) -> None:
    names = [getattr(p, "parameter_name", None) for p in params]
    named = [n for n in names if n is not None]
    if named and len(named) != len(names):
        raise MessageValidationError(
            field_name, "Use either named variables or numbered variables in one part of the template, not both."
        )
    if len(set(named)) != len(named):
        raise MessageValidationError(field_name, "Each named variable can be given only once.")


@dataclass(frozen=True, slots=True)
class TemplateHeader:
    parameters: Sequence[_HeaderParam]

    def __post_init__(self) -> None:
        _tuple(self, "parameters")
        _check_count("template.header.parameters", len(self.parameters), minimum=1, maximum=1, label="header value")
        (param,) = self.parameters
        if not isinstance(param, TextParameter | MediaParameter | LocationParameter):
            raise MessageValidationError("template.header.parameters", "A header value is text, media or a location.")
        if isinstance(param, TextParameter):
            _check_text("template.header.parameters", param.text, HEADER_TEXT_MAX, label="Header text")

    def to_dict(self) -> dict[str, Any]:
        return {"type": "header", "parameters": [p.to_dict() for p in self.parameters]}


@dataclass(frozen=True, slots=True)
class TemplateBody:
    parameters: Sequence[_BodyParam]

    def __post_init__(self) -> None:
        _tuple(self, "parameters")
        for p in self.parameters:
            if not isinstance(p, TextParameter | CurrencyParameter | DateTimeParameter):
                raise MessageValidationError("template.body.parameters", "A body value is text, currency or a date.")
        _check_named_positional("template.body.parameters", self.parameters)

    def to_dict(self) -> dict[str, Any]:
        return {"type": "body", "parameters": [p.to_dict() for p in self.parameters]}


TemplateButtonSubType = Literal["quick_reply", "url", "copy_code", "flow", "catalog", "mpm"]


@dataclass(frozen=True, slots=True)
class TemplateButton:
    sub_type: TemplateButtonSubType
    index: int
    parameters: Sequence[_ButtonParam] = ()

    _ALLOWED: ClassVar[dict[str, tuple[type, ...]]] = {
        "quick_reply": (PayloadParameter,),
        "url": (TextParameter,),
        "copy_code": (CouponCodeParameter,),
    }

    def __post_init__(self) -> None:
        _tuple(self, "parameters")
        if self.sub_type not in ("quick_reply", "url", "copy_code", "flow", "catalog", "mpm"):
            raise MessageValidationError("template.button.sub_type", f"Unknown button kind {self.sub_type!r}.")
        if (
            isinstance(self.index, bool)
            or not isinstance(self.index, int)
            or not 0 <= self.index < TEMPLATE_BUTTONS_MAX
        ):
            raise MessageValidationError(
                "template.button.index",
                f"The button position must be 0 to {TEMPLATE_BUTTONS_MAX - 1} (a template has at most "
                f"{TEMPLATE_BUTTONS_MAX} buttons).",
            )
        allowed = self._ALLOWED.get(self.sub_type)
        if allowed is not None:
            for p in self.parameters:
                if not isinstance(p, allowed):
                    raise MessageValidationError(
                        "template.button.parameters",
                        f"A {self.sub_type} button takes {' or '.join(a.__name__ for a in allowed)} values.",
                    )

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "button",
            "sub_type": self.sub_type,
            "index": self.index,
            "parameters": [p.to_dict() for p in self.parameters],
        }


@dataclass(frozen=True, slots=True)
class TemplateMessage(Message):
    name: str
    language_code: str
    components: Sequence[TemplateHeader | TemplateBody | TemplateButton] = ()

    message_type: ClassVar[str] = "template"

    def __post_init__(self) -> None:
        _check_text("template.name", self.name, TEMPLATE_NAME_MAX, label="Template name")
        if not re.fullmatch(r"[a-z0-9_]+", self.name):
            raise MessageValidationError(
                "template.name", "A template name uses lowercase letters, digits and '_' only."
            )
        if not isinstance(self.language_code, str) or not re.fullmatch(
            r"[a-z]{2,3}(_[A-Za-z]{2,4})?", self.language_code
        ):
            raise MessageValidationError(
                "template.language.code", "Use the template's language code, for example en or en_US."
            )
        _tuple(self, "components")
        headers = [c for c in self.components if isinstance(c, TemplateHeader)]
        bodies = [c for c in self.components if isinstance(c, TemplateBody)]
        buttons = [c for c in self.components if isinstance(c, TemplateButton)]
        if len(headers) + len(bodies) + len(buttons) != len(self.components):
            raise MessageValidationError("template.components", "Components are header, body or button values.")
        _check_count("template.components", len(headers), minimum=0, maximum=1, label="header")
        _check_count("template.components", len(bodies), minimum=0, maximum=1, label="body")
        _check_count("template.components", len(buttons), minimum=0, maximum=TEMPLATE_BUTTONS_MAX, label="buttons")
        indexes = [b.index for b in buttons]
        if len(set(indexes)) != len(indexes):
            raise MessageValidationError("template.button.index", "Two button values point at the same button.")

    def _content(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "language": {"code": self.language_code}}
        if self.components:
            out["components"] = [c.to_dict() for c in self.components]
        return out


# --- interactive common ----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class TextHeader:
    text: str

    def __post_init__(self) -> None:
        _check_text("interactive.header.text", self.text, HEADER_TEXT_MAX, label="Header text")

    def to_dict(self) -> dict[str, Any]:
        return {"type": "text", "text": self.text}


@dataclass(frozen=True, slots=True)
class MediaHeader:
    """Image/video/document header of a reply-buttons message. Header media carries no caption."""

    kind: Literal["image", "video", "document"]
    id: str | None = None
    link: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("image", "video", "document"):
            raise MessageValidationError(
                "interactive.header.type", "A header can be text, an image, video or document."
            )
        _check_media_source(f"interactive.header.{self.kind}", self.id, self.link)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.kind, self.kind: _media_source(self.id, self.link)}


class _Interactive(Message):
    message_type: ClassVar[str] = "interactive"
    interactive_type: ClassVar[str]

    def _parts(self) -> dict[str, Any]:
        raise NotImplementedError

    def _content(self) -> dict[str, Any]:
        return {"type": self.interactive_type, **self._parts()}


def _common_parts(header: TextHeader | MediaHeader | None, body: str | None, footer: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if header is not None:
        out["header"] = header.to_dict()
    if body is not None:
        out["body"] = {"text": body}
    if footer is not None:
        out["footer"] = {"text": footer}
    return out


def _check_footer(footer: str | None) -> None:
    _check_text("interactive.footer.text", footer, FOOTER_MAX, label="Footer", required=False)


def _check_text_header(header: object, *, required: bool = False) -> None:
    if header is None:
        if required:
            raise MessageValidationError("interactive.header", "This message needs a text header.")
        return
    if not isinstance(header, TextHeader):
        raise MessageValidationError("interactive.header", "This message can only have a text header.")


# --- 3.4 reply buttons --------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ReplyButton:
    id: str
    title: str

    def __post_init__(self) -> None:
        _check_text("interactive.action.buttons.id", self.id, REPLY_BUTTON_ID_MAX, label="Button ID")
        _check_text("interactive.action.buttons.title", self.title, REPLY_BUTTON_TITLE_MAX, label="Button title")

    def to_dict(self) -> dict[str, Any]:
        return {"type": "reply", "reply": {"id": self.id, "title": self.title}}


@dataclass(frozen=True, slots=True)
class ReplyButtonsMessage(_Interactive):
    body: str
    buttons: Sequence[ReplyButton]
    header: TextHeader | MediaHeader | None = None
    footer: str | None = None

    interactive_type: ClassVar[str] = "button"

    def __post_init__(self) -> None:
        _check_text("interactive.body.text", self.body, REPLY_BUTTONS_BODY_MAX, label="Message text")
        _check_footer(self.footer)
        if self.header is not None and not isinstance(self.header, TextHeader | MediaHeader):
            raise MessageValidationError("interactive.header", "A header is text, an image, video or document.")
        _tuple(self, "buttons")
        _check_count(
            "interactive.action.buttons",
            len(self.buttons),
            minimum=REPLY_BUTTONS_MIN,
            maximum=REPLY_BUTTONS_MAX,
            label="buttons",
        )
        ids = [b.id for b in self.buttons]
        if len(set(ids)) != len(ids):
            raise MessageValidationError("interactive.action.buttons.id", "Each button needs a different ID.")

    def _parts(self) -> dict[str, Any]:
        return {
            **_common_parts(self.header, self.body, self.footer),
            "action": {"buttons": [b.to_dict() for b in self.buttons]},
        }


# --- 3.5 list ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ListRow:
    id: str
    title: str
    description: str | None = None

    def __post_init__(self) -> None:
        _check_text("interactive.action.sections.rows.id", self.id, LIST_ROW_ID_MAX, label="Row ID")
        _check_text("interactive.action.sections.rows.title", self.title, LIST_ROW_TITLE_MAX, label="Row title")
        _check_text(
            "interactive.action.sections.rows.description",
            self.description,
            LIST_ROW_DESCRIPTION_MAX,
            label="Row description",
            required=False,
        )

    def to_dict(self) -> dict[str, Any]:
        out = {"id": self.id, "title": self.title}
        if self.description is not None:
            out["description"] = self.description
        return out


@dataclass(frozen=True, slots=True)
class ListSection:
    title: str | None
    rows: Sequence[ListRow]

    def __post_init__(self) -> None:
        _check_text(
            "interactive.action.sections.title",
            self.title,
            LIST_SECTION_TITLE_MAX,
            label="Section title",
            required=False,
        )
        _tuple(self, "rows")
        _check_count(
            "interactive.action.sections.rows", len(self.rows), minimum=1, maximum=LIST_ROWS_TOTAL_MAX, label="rows"
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.title is not None:
            out["title"] = self.title
        out["rows"] = [r.to_dict() for r in self.rows]
        return out


@dataclass(frozen=True, slots=True)
class ListMessage(_Interactive):
    body: str
    button: str
    sections: Sequence[ListSection]
    header: TextHeader | None = None
    footer: str | None = None

    interactive_type: ClassVar[str] = "list"

    def __post_init__(self) -> None:
        _check_text("interactive.body.text", self.body, LIST_BODY_MAX, label="Message text")
        _check_text("interactive.action.button", self.button, LIST_BUTTON_MAX, label="Menu button text")
        _check_footer(self.footer)
        _check_text_header(self.header)
        _tuple(self, "sections")
        _check_count(
            "interactive.action.sections", len(self.sections), minimum=1, maximum=LIST_SECTIONS_MAX, label="sections"
        )
        rows = [r for s in self.sections for r in s.rows]
        _check_count(
            "interactive.action.sections.rows",
            len(rows),
            minimum=1,
            maximum=LIST_ROWS_TOTAL_MAX,
            label="rows in total across all sections",
        )
        ids = [r.id for r in rows]
        if len(set(ids)) != len(ids):
            raise MessageValidationError("interactive.action.sections.rows.id", "Each row needs a different ID.")

    def _parts(self) -> dict[str, Any]:
        return {
            **_common_parts(self.header, self.body, self.footer),
            "action": {"button": self.button, "sections": [s.to_dict() for s in self.sections]},
        }


# --- 3.11 location, reaction, contacts ---------------------------------------------------------
@dataclass(frozen=True, slots=True)
class LocationMessage(Message):
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None

    message_type: ClassVar[str] = "location"

    def __post_init__(self) -> None:
        _check_range("location.latitude", self.latitude, LATITUDE_RANGE, label="Latitude")
        _check_range("location.longitude", self.longitude, LONGITUDE_RANGE, label="Longitude")

    def _content(self) -> dict[str, Any]:
        out: dict[str, Any] = {"latitude": self.latitude, "longitude": self.longitude}
        if self.name is not None:
            out["name"] = self.name
        if self.address is not None:
            out["address"] = self.address
        return out


@dataclass(frozen=True, slots=True)
class ReactionMessage(Message):
    """React to a message with one emoji; ``emoji=""`` removes the reaction."""

    message_id: str
    emoji: str

    message_type: ClassVar[str] = "reaction"

    def __post_init__(self) -> None:
        if not isinstance(self.message_id, str) or not self.message_id.strip():
            raise MessageValidationError("reaction.message_id", "Say which message to react to.")
        if not isinstance(self.emoji, str):
            raise MessageValidationError("reaction.emoji", "A reaction is a single emoji.")
        if self.emoji and not _is_single_emoji(self.emoji):
            raise MessageValidationError(
                "reaction.emoji", "A reaction is a single emoji (or empty to remove your reaction)."
            )

    def _content(self) -> dict[str, Any]:
        return {"message_id": self.message_id, "emoji": self.emoji}


_EMOJI_JOINERS = {0x200D, 0xFE0F, 0xFE0E, 0x20E3}


def _is_single_emoji(value: str) -> bool:
    """One emoji grapheme: a base emoji plus modifiers/ZWJ sequences/flags, no letters or spaces."""
    if any(ch.isspace() for ch in value):
        return False
    cps = [ord(ch) for ch in value]
    # regional-indicator flag: exactly two indicators
    if all(0x1F1E6 <= cp <= 0x1F1FF for cp in cps):
        return len(cps) == 2
    bases = 0
    for i, cp in enumerate(cps):
        ch = value[i]
        if cp in _EMOJI_JOINERS or 0x1F3FB <= cp <= 0x1F3FF or 0xE0020 <= cp <= 0xE007F:
            continue  # joiner, variation selector, keycap, skin tone, tag
        is_keycap_base = (cp in (0x23, 0x2A) or 0x30 <= cp <= 0x39) and cps[i + 1 : i + 2] in ([0xFE0F], [0x20E3])
        if not is_keycap_base and not _contains_emoji(ch):
            return False
        if i == 0 or cps[i - 1] == 0x200D:
            bases += 1
        else:
            return False
    return bases >= 1


PhoneType = Literal["CELL", "MAIN", "IPHONE", "HOME", "WORK"]
WorkHome = Literal["WORK", "HOME"]


def _check_enum(field_name: str, value: object, allowed: tuple[str, ...]) -> None:
    if value is not None and value not in allowed:
        raise MessageValidationError(field_name, f"Type must be one of {', '.join(allowed)}.")


@dataclass(frozen=True, slots=True)
class ContactName:
    formatted_name: str
    first_name: str | None = None
    last_name: str | None = None
    middle_name: str | None = None
    suffix: str | None = None
    prefix: str | None = None

    def __post_init__(self) -> None:
        _check_text("contacts.name.formatted_name", self.formatted_name, 10**9, label="Contact's full name")
        others = (self.first_name, self.last_name, self.middle_name, self.suffix, self.prefix)
        if not any(isinstance(p, str) and p.strip() for p in others):
            raise MessageValidationError(
                "contacts.name",
                "Besides the full name, give at least one other name part (first name, last name, middle name, "
                "prefix or suffix).",
            )

    def to_dict(self) -> dict[str, Any]:
        out = {"formatted_name": self.formatted_name}
        for key in ("first_name", "last_name", "middle_name", "suffix", "prefix"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


def _drop_none(**kwargs: Any) -> dict[str, Any]:
    return {k: v for k, v in kwargs.items() if v is not None}


@dataclass(frozen=True, slots=True)
class ContactPhone:
    phone: str
    type: PhoneType | None = None
    wa_id: str | None = None

    def __post_init__(self) -> None:
        _check_enum("contacts.phones.type", self.type, ("CELL", "MAIN", "IPHONE", "HOME", "WORK"))

    def to_dict(self) -> dict[str, Any]:
        return _drop_none(phone=self.phone, type=self.type, wa_id=self.wa_id)


@dataclass(frozen=True, slots=True)
class ContactEmail:
    email: str
    type: WorkHome | None = None

    def __post_init__(self) -> None:
        _check_enum("contacts.emails.type", self.type, ("WORK", "HOME"))

    def to_dict(self) -> dict[str, Any]:
        return _drop_none(email=self.email, type=self.type)


@dataclass(frozen=True, slots=True)
class ContactUrl:
    url: str
    type: WorkHome | None = None

    def __post_init__(self) -> None:
        _check_enum("contacts.urls.type", self.type, ("WORK", "HOME"))

    def to_dict(self) -> dict[str, Any]:
        return _drop_none(url=self.url, type=self.type)


@dataclass(frozen=True, slots=True)
class ContactAddress:
    street: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    country: str | None = None
    country_code: str | None = None
    type: WorkHome | None = None

    def __post_init__(self) -> None:
        _check_enum("contacts.addresses.type", self.type, ("WORK", "HOME"))

    def to_dict(self) -> dict[str, Any]:
        return _drop_none(
            street=self.street,
            city=self.city,
            state=self.state,
            zip=self.zip,
            country=self.country,
            country_code=self.country_code,
            type=self.type,
        )


@dataclass(frozen=True, slots=True)
class ContactOrg:
    company: str | None = None
    department: str | None = None
    title: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return _drop_none(company=self.company, department=self.department, title=self.title)


@dataclass(frozen=True, slots=True)
class Contact:
    name: ContactName
    birthday: str | None = None
    phones: Sequence[ContactPhone] = ()
    emails: Sequence[ContactEmail] = ()
    urls: Sequence[ContactUrl] = ()
    addresses: Sequence[ContactAddress] = ()
    org: ContactOrg | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, ContactName):
            raise MessageValidationError("contacts.name", "A contact needs a name.")
        if self.birthday is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", self.birthday):
            raise MessageValidationError("contacts.birthday", "Write the birthday as YYYY-MM-DD, e.g. 1990-05-14.")
        for name in ("phones", "emails", "urls", "addresses"):
            _tuple(self, name)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name.to_dict()}
        if self.birthday is not None:
            out["birthday"] = self.birthday
        for name in ("phones", "emails", "urls", "addresses"):
            items = getattr(self, name)
            if items:
                out[name] = [i.to_dict() for i in items]
        if self.org is not None:
            out["org"] = self.org.to_dict()
        return out


@dataclass(frozen=True, slots=True)
class ContactsMessage(Message):
    contacts: Sequence[Contact]

    message_type: ClassVar[str] = "contacts"

    def __post_init__(self) -> None:
        _tuple(self, "contacts")
        if not self.contacts:
            raise MessageValidationError("contacts", "Share at least one contact.")

    def _content(self) -> list[Any]:
        return [c.to_dict() for c in self.contacts]


# --- 3.10 cta_url, location request ------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CtaUrlMessage(_Interactive):
    body: str
    display_text: str
    url: str
    header: TextHeader | MediaHeader | None = None
    footer: str | None = None

    interactive_type: ClassVar[str] = "cta_url"

    def __post_init__(self) -> None:
        # The reference gives only the shape of cta_url; no length limits are enforced beyond
        # the generic header/footer ones.
        _check_text("interactive.body.text", self.body, 10**9, label="Message text")
        _check_text("interactive.action.parameters.display_text", self.display_text, 10**9, label="Button text")
        if not isinstance(self.url, str) or not re.match(r"^https?://\S+$", self.url):
            raise MessageValidationError(
                "interactive.action.parameters.url", "The link must be an http:// or https:// URL."
            )
        _check_footer(self.footer)

    def _parts(self) -> dict[str, Any]:
        return {
            **_common_parts(self.header, self.body, self.footer),
            "action": {"name": "cta_url", "parameters": {"display_text": self.display_text, "url": self.url}},
        }


@dataclass(frozen=True, slots=True)
class LocationRequestMessage(_Interactive):
    body: str

    interactive_type: ClassVar[str] = "location_request_message"

    def __post_init__(self) -> None:
        _check_text("interactive.body.text", self.body, 10**9, label="Message text")

    def _parts(self) -> dict[str, Any]:
        return {"body": {"text": self.body}, "action": {"name": "send_location"}}


# --- 3.6 product, product list, catalog -----------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ProductMessage(_Interactive):
    catalog_id: str
    product_retailer_id: str
    body: str | None = None
    footer: str | None = None

    interactive_type: ClassVar[str] = "product"

    def __post_init__(self) -> None:
        _check_text("interactive.action.catalog_id", self.catalog_id, 10**9, label="Catalog ID")
        _check_text("interactive.action.product_retailer_id", self.product_retailer_id, 10**9, label="Product SKU")
        _check_text("interactive.body.text", self.body, 10**9, label="Message text", required=False)
        _check_footer(self.footer)

    def _parts(self) -> dict[str, Any]:
        return {
            **_common_parts(None, self.body, self.footer),
            "action": {"catalog_id": self.catalog_id, "product_retailer_id": self.product_retailer_id},
        }


@dataclass(frozen=True, slots=True)
class ProductSection:
    title: str
    product_retailer_ids: Sequence[str]

    def __post_init__(self) -> None:
        _check_text(
            "interactive.action.sections.title", self.title, PRODUCT_LIST_SECTION_TITLE_MAX, label="Section title"
        )
        _tuple(self, "product_retailer_ids")
        if not self.product_retailer_ids:
            raise MessageValidationError("interactive.action.sections.product_items", "A section needs a product.")

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "product_items": [{"product_retailer_id": p} for p in self.product_retailer_ids],
        }


@dataclass(frozen=True, slots=True)
class ProductListMessage(_Interactive):
    header: TextHeader
    body: str
    catalog_id: str
    sections: Sequence[ProductSection]
    footer: str | None = None

    interactive_type: ClassVar[str] = "product_list"

    def __post_init__(self) -> None:
        _check_text_header(self.header, required=True)
        _check_text("interactive.body.text", self.body, CATALOG_BODY_MAX, label="Message text")
        _check_footer(self.footer)
        _check_text("interactive.action.catalog_id", self.catalog_id, 10**9, label="Catalog ID")
        _tuple(self, "sections")
        _check_count(
            "interactive.action.sections",
            len(self.sections),
            minimum=1,
            maximum=PRODUCT_LIST_SECTIONS_MAX,
            label="sections",
        )
        total = sum(len(s.product_retailer_ids) for s in self.sections)
        _check_count(
            "interactive.action.sections.product_items",
            total,
            minimum=1,
            maximum=PRODUCT_LIST_PRODUCTS_MAX,
            label="products in total",
        )

    def _parts(self) -> dict[str, Any]:
        return {
            **_common_parts(self.header, self.body, self.footer),
            "action": {"catalog_id": self.catalog_id, "sections": [s.to_dict() for s in self.sections]},
        }


@dataclass(frozen=True, slots=True)
class CatalogMessage(_Interactive):
    body: str
    thumbnail_product_retailer_id: str | None = None
    footer: str | None = None

    interactive_type: ClassVar[str] = "catalog_message"

    def __post_init__(self) -> None:
        _check_text("interactive.body.text", self.body, CATALOG_BODY_MAX, label="Message text")
        _check_footer(self.footer)

    def _parts(self) -> dict[str, Any]:
        action: dict[str, Any] = {"name": "catalog_message"}
        if self.thumbnail_product_retailer_id is not None:
            action["parameters"] = {"thumbnail_product_retailer_id": self.thumbnail_product_retailer_id}
        return {**_common_parts(None, self.body, self.footer), "action": action}


# --- 3.9 flow ----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class FlowMessage(_Interactive):
    body: str
    flow_token: str
    flow_cta: str
    flow_id: str | None = None
    flow_name: str | None = None
    mode: Literal["published", "draft"] = "published"
    flow_action: Literal["navigate", "data_exchange"] = "navigate"
    screen: str | None = None
    data: dict[str, Any] | None = None
    header: TextHeader | None = None
    footer: str | None = None
    flow_message_version: str = "3"

    interactive_type: ClassVar[str] = "flow"

    def __post_init__(self) -> None:
        _check_text("interactive.body.text", self.body, 10**9, label="Message text")
        _check_text("interactive.action.parameters.flow_cta", self.flow_cta, FLOW_CTA_MAX, label="Flow button text")
        if _contains_emoji(self.flow_cta):
            raise MessageValidationError(
                "interactive.action.parameters.flow_cta", "Flow button text cannot contain emoji."
            )
        if (self.flow_id is None) == (self.flow_name is None):
            raise MessageValidationError(
                "interactive.action.parameters.flow_id", "Give exactly one of the flow ID or the flow name."
            )
        if self.mode not in ("published", "draft"):
            raise MessageValidationError("interactive.action.parameters.mode", "Mode must be published or draft.")
        if self.flow_action not in ("navigate", "data_exchange"):
            raise MessageValidationError(
                "interactive.action.parameters.flow_action", "Flow action must be navigate or data_exchange."
            )
        _check_text("interactive.action.parameters.flow_token", self.flow_token, 10**9, label="Flow token")
        _check_text_header(self.header)
        _check_footer(self.footer)

    def _parts(self) -> dict[str, Any]:
        params: dict[str, Any] = {
            "mode": self.mode,
            "flow_message_version": self.flow_message_version,
            "flow_token": self.flow_token,
        }
        if self.flow_id is not None:
            params["flow_id"] = self.flow_id
        else:
            params["flow_name"] = self.flow_name
        params["flow_cta"] = self.flow_cta
        params["flow_action"] = self.flow_action
        if self.screen is not None or self.data is not None:
            fap: dict[str, Any] = {}
            if self.screen is not None:
                fap["screen"] = self.screen
            if self.data is not None:
                fap["data"] = dict(self.data)
            params["flow_action_payload"] = fap
        return {
            **_common_parts(self.header, self.body, self.footer),
            "action": {"name": "flow", "parameters": params},
        }
