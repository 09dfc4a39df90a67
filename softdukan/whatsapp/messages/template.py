"""Template messages and their parameters (reference §3.3)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from softdukan.whatsapp.messages.base import (
    HEADER_TEXT_MAX,
    LATITUDE_RANGE,
    LONGITUDE_RANGE,
    TEMPLATE_BUTTONS_MAX,
    TEMPLATE_COUPON_CODE_MAX,
    TEMPLATE_NAME_MAX,
    Message,
    MessageValidationError,
    _check_count,
    _check_media_source,
    _check_range,
    _check_text,
    _media_source,
    _tuple,
)


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
