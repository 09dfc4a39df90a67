"""Meta's `template` send object (reference §3.3) → the typed `whatsapp.messages.TemplateMessage`.

Used twice: `POST /v1/messages` may give the filled-in `components` in Meta's own shape (code written against the
Cloud API moves over unchanged), and the send job rebuilds the message from the row's stored content. `type` and
`sub_type` are matched case-insensitively, as Meta does; `language.policy` is accepted and ignored.

    message = parse_template_object({"name": "order_shipped", "language": {"code": "en"}, "components": [...]})
"""

from __future__ import annotations

from typing import Any

from softdukan.whatsapp.messages import (
    CouponCodeParameter,
    CurrencyParameter,
    DateTimeParameter,
    LocationParameter,
    MediaParameter,
    MessageValidationError,
    PayloadParameter,
    TemplateBody,
    TemplateButton,
    TemplateHeader,
    TemplateMessage,
    TextParameter,
)

_Component = TemplateHeader | TemplateBody | TemplateButton


def _obj(value: Any, field: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MessageValidationError(field, "Expected an object.")
    return value


def _text(obj: dict[str, Any], key: str, field: str, *, required: bool = True) -> str | None:
    value = obj.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise MessageValidationError(f"{field}.{key}", "Expected text." if value is not None
                                     else "This field is required.")
    return value


def _name(param: dict[str, Any], field: str) -> str | None:
    return _text(param, "parameter_name", field, required=False)


def _parameter(raw: Any, field: str) -> Any:
    param = _obj(raw, field)
    kind = str(param.get("type") or "").lower()
    if kind == "text":
        return TextParameter(_text(param, "text", field) or "", _name(param, field))
    if kind == "currency":
        currency = _obj(param.get("currency"), f"{field}.currency")
        return CurrencyParameter(_text(currency, "fallback_value", f"{field}.currency") or "",
                                 _text(currency, "code", f"{field}.currency") or "",
                                 currency.get("amount_1000"), _name(param, field))  # the builder checks it
    if kind == "date_time":
        moment = _obj(param.get("date_time"), f"{field}.date_time")
        return DateTimeParameter(_text(moment, "fallback_value", f"{field}.date_time") or "", _name(param, field))
    if kind in ("image", "video", "document"):
        media = _obj(param.get(kind), f"{field}.{kind}")
        return MediaParameter(kind, id=_text(media, "id", f"{field}.{kind}", required=False),  # type: ignore[arg-type]
                              link=_text(media, "link", f"{field}.{kind}", required=False),
                              filename=_text(media, "filename", f"{field}.{kind}", required=False))
    if kind == "location":
        place = _obj(param.get("location"), f"{field}.location")
        try:
            latitude, longitude = float(place.get("latitude")), float(place.get("longitude"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise MessageValidationError(f"{field}.location", "Give latitude and longitude as numbers.") from None
        return LocationParameter(latitude, longitude, _text(place, "name", f"{field}.location", required=False),
                                 _text(place, "address", f"{field}.location", required=False))
    if kind == "payload":
        return PayloadParameter(_text(param, "payload", field) or "")
    if kind == "coupon_code":
        return CouponCodeParameter(_text(param, "coupon_code", field) or "")
    raise MessageValidationError(f"{field}.type", "A value is text, currency, date_time, image, video, document, "
                                                  "location, payload or coupon_code.")


def _parameters(component: dict[str, Any], field: str) -> list[Any]:
    raw = component.get("parameters") or []
    if not isinstance(raw, list):
        raise MessageValidationError(f"{field}.parameters", "Expected a list.")
    return [_parameter(p, f"{field}.parameters") for p in raw]


def _component(raw: Any) -> _Component:
    field = "template.components"
    component = _obj(raw, field)
    kind = str(component.get("type") or "").lower()
    if kind == "header":
        return TemplateHeader(_parameters(component, f"{field}.header"))
    if kind == "body":
        return TemplateBody(_parameters(component, f"{field}.body"))
    if kind == "button":
        index = component.get("index")
        if isinstance(index, str) and index.isdigit():
            index = int(index)
        sub_type = str(component.get("sub_type") or "").lower()
        return TemplateButton(sub_type, index if isinstance(index, int) else -1,  # type: ignore[arg-type]
                              _parameters(component, f"{field}.button"))
    raise MessageValidationError(f"{field}.type", "A component is header, body or button.")


def parse_template_object(raw: Any) -> TemplateMessage:
    """Meta's `template` object → TemplateMessage; MessageValidationError names the broken field."""
    template = _obj(raw, "template")
    language = template.get("language")
    code = _text(_obj(language, "template.language"), "code", "template.language") if isinstance(language, dict) \
        else _text(template, "language", "template")
    components = template.get("components") or []
    if not isinstance(components, list):
        raise MessageValidationError("template.components", "Expected a list.")
    return TemplateMessage(name=_text(template, "name", "template") or "", language_code=code or "",
                           components=[_component(c) for c in components])


def template_object(message: TemplateMessage) -> dict[str, Any]:
    """The message's `template` object in Meta's shape (what the outbound row stores)."""
    return dict(message.to_payload("0")["template"])
