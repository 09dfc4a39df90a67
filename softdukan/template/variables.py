"""Filling a template's variables for one contact: a mapping says where each variable's value comes from.

```python
mapping = {"body.1": VariableSource("field", "name", fallback="there"),
           "body.2": VariableSource("attribute", "city"),
           "button.0": VariableSource("fixed", "summer-sale")}
message = build_message(template, mapping, recipient_values(contact))   # a whatsapp.messages.TemplateMessage
```

Variable keys: `header.<var>`, `body.<var>` (`<var>` is `1`, `2`, … or the named variable), `button.<index>` for a
link's `{{1}}` or a copy-code button's code, and `header` for a media header (a link or an uploaded media id) or a
location header (`latitude,longitude[,name[,address]]`). A value that is missing or blank falls back to the
mapping's fallback; with neither, `MissingVariable` names the variable (broadcasts skip that contact with it).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from softdukan.platform.errors import Invalid
from softdukan.template.models import NAMED, MessageTemplate
from softdukan.template.variables_syntax import scan
from softdukan.whatsapp.messages import (
    CouponCodeParameter,
    LocationParameter,
    MediaParameter,
    MessageValidationError,
    TemplateBody,
    TemplateButton,
    TemplateHeader,
    TemplateMessage,
    TextParameter,
)

CONTACT_FIELDS = ("name", "profile_name", "phone", "wa_id", "first_name")
SourceKind = Literal["field", "attribute", "fixed"]


class MissingVariable(Invalid):
    default_code = "template_variable_missing"


@dataclass(frozen=True, slots=True)
class VariableSource:
    source: SourceKind
    value: str  # the contact field's name, the attribute's key, or the fixed text
    fallback: str | None = None

    def __post_init__(self) -> None:
        if self.source not in ("field", "attribute", "fixed"):
            raise Invalid("invalid_mapping", f"A variable's value comes from a contact field, an attribute or a "
                                             f"fixed text; got {str(self.source)[:30]!r}.")
        if self.source == "field" and self.value not in CONTACT_FIELDS:
            raise Invalid("invalid_mapping", f"Unknown contact field {self.value[:40]!r}; use one of "
                                             f"{', '.join(CONTACT_FIELDS)}.")


@dataclass(frozen=True, slots=True)
class RecipientValues:
    """What a mapping may read about one contact: its fields and its custom attribute values."""

    fields: Mapping[str, str | None]
    attributes: Mapping[str, Any] = field(default_factory=dict)
    label: str = "this contact"  # how errors name the contact, e.g. "+919812345678"


def recipient_values(contact: Any) -> RecipientValues:
    """From a contact row (softdukan.contact.models.Contact): its name fields, number and attribute values."""
    name = getattr(contact, "name", None) or getattr(contact, "profile_name", None)
    phone = getattr(contact, "phone", None) or getattr(contact, "wa_id", None)
    fields = {"name": name, "profile_name": getattr(contact, "profile_name", None),
              "phone": f"+{phone}" if phone else None, "wa_id": getattr(contact, "wa_id", None),
              "first_name": name.split()[0] if isinstance(name, str) and name.split() else None}
    attributes = getattr(contact, "attributes", None)
    return RecipientValues(fields, attributes if isinstance(attributes, dict) else {},
                           label=f"+{phone}" if phone else "this contact")


@dataclass(frozen=True, slots=True)
class TemplateVariable:
    key: str  # header.1, body.first_name, button.0, header (media or location)
    component: Literal["header", "body", "button"]
    name: str  # the variable as written ("1", "first_name"), the button index, or the header's format
    kind: Literal["text", "media", "location", "coupon"] = "text"


@dataclass(frozen=True, eq=False)
class FrozenTemplate:
    """A detached, read-only copy of a template with what a send reads from it worked out once: for one template
    sent to many contacts (a broadcast chunk), so no contact pays for ORM attribute reads or rescans the text. The
    functions here and in template/sending.py take it wherever they take a MessageTemplate."""

    id: int
    name: str
    language: str
    category: str
    parameter_format: str
    status: str
    components: list[dict[str, Any]]
    parts: dict[str, dict[str, Any]]
    variables: tuple[TemplateVariable, ...]

    @classmethod
    def of(cls, template: MessageTemplate) -> FrozenTemplate:
        components = copy.deepcopy(list(template.components or []))
        return cls(template.id, template.name, template.language, template.category, template.parameter_format,
                   template.status, components, template_parts(template), tuple(template_variables(template)))


AnyTemplate = MessageTemplate | FrozenTemplate


def template_parts(template: AnyTemplate) -> dict[str, dict[str, Any]]:
    """The template's components by type (HEADER, BODY, FOOTER, BUTTONS)."""
    if isinstance(template, FrozenTemplate):
        return template.parts
    out: dict[str, dict[str, Any]] = {}
    for component in template.components or []:
        if isinstance(component, dict) and isinstance(component.get("type"), str):
            out.setdefault(component["type"].upper(), component)
    return out


def template_variables(template: AnyTemplate) -> list[TemplateVariable]:
    """Every value a send of this template needs, in the order Meta expects them."""
    if isinstance(template, FrozenTemplate):
        return list(template.variables)
    named = template.parameter_format == NAMED
    parts = template_parts(template)
    found: list[TemplateVariable] = []
    header = parts.get("HEADER")
    if header is not None:
        fmt = str(header.get("format") or "").upper()
        if fmt == "TEXT":
            found += [TemplateVariable(f"header.{n}", "header", n) for n in scan(header.get("text"), named=named)
                      .distinct[:1]]
        elif fmt in ("IMAGE", "VIDEO", "GIF", "DOCUMENT"):
            found.append(TemplateVariable("header", "header", fmt.lower(), "media"))
        elif fmt == "LOCATION":
            found.append(TemplateVariable("header", "header", "location", "location"))
    body = parts.get("BODY")
    if body is not None:
        found += [TemplateVariable(f"body.{n}", "body", n) for n in scan(body.get("text"), named=named).distinct]
    buttons = (parts.get("BUTTONS") or {}).get("buttons")
    for index, button in enumerate(buttons if isinstance(buttons, list) else []):
        kind = str(button.get("type") or "").upper() if isinstance(button, dict) else ""
        if kind == "URL" and scan(str(button.get("url") or ""), named=False).names:
            found.append(TemplateVariable(f"button.{index}", "button", str(index)))
        elif kind == "COPY_CODE":
            found.append(TemplateVariable(f"button.{index}", "button", str(index), "coupon"))
    return found


def resolve(source: VariableSource | None, recipient: RecipientValues) -> str | None:
    if source is None:
        return None
    raw: Any
    if source.source == "fixed":
        raw = source.value
    elif source.source == "field":
        raw = recipient.fields.get(source.value)
    else:
        raw = recipient.attributes.get(source.value)
    if isinstance(raw, bool):
        raw = "Yes" if raw else "No"
    text = str(raw).strip() if raw is not None else ""
    if not text:
        text = (source.fallback or "").strip()
    return text or None


def build_message(template: AnyTemplate, mapping: Mapping[str, VariableSource],
                  recipient: RecipientValues) -> TemplateMessage:
    """The template message for one recipient, every variable filled; MissingVariable names the first one that
    has neither a value nor a fallback."""
    named = template.parameter_format == NAMED
    header: list[TemplateHeader] = []
    body_params: list[TextParameter] = []
    buttons: list[TemplateButton] = []
    for variable in template_variables(template):
        value = resolve(mapping.get(variable.key), recipient)
        if value is None:
            raise MissingVariable(
                "template_variable_missing",
                f"No value for {_label(variable)} of template {template.name} for {recipient.label}: "
                "map it to a field, an attribute or a fixed text, or give a fallback.",
                {"variable": variable.key})
        try:
            if variable.component == "header":
                header.append(TemplateHeader([_header_parameter(variable, value, named)]))
            elif variable.component == "body":
                body_params.append(TextParameter(value, variable.name if named else None))
            elif variable.kind == "coupon":
                buttons.append(TemplateButton("copy_code", int(variable.name), [CouponCodeParameter(value)]))
            else:
                buttons.append(TemplateButton("url", int(variable.name), [TextParameter(value)]))
        except MessageValidationError as exc:
            raise Invalid("template_variable_invalid", f"The value for {_label(variable)} can't be sent: {exc}",
                          {"variable": variable.key}) from None
    components: list[TemplateHeader | TemplateBody | TemplateButton] = [*header]
    if body_params:
        components.append(TemplateBody(body_params))
    components += buttons
    return TemplateMessage(name=template.name, language_code=template.language, components=components)


def _label(variable: TemplateVariable) -> str:
    if variable.kind == "media":
        return f"the header {variable.name}"
    if variable.kind == "location":
        return "the header location"
    if variable.component == "button":
        return f"button {int(variable.name) + 1}"
    return f"{{{{{variable.name}}}}} in the {variable.component}"


def _header_parameter(variable: TemplateVariable, value: str, named: bool
                      ) -> TextParameter | MediaParameter | LocationParameter:
    if variable.kind == "media":
        kind = "video" if variable.name in ("video", "gif") else variable.name
        is_link = value.startswith(("https://", "http://"))
        return MediaParameter(kind, id=None if is_link else value, link=value if is_link else None)  # type: ignore[arg-type]
    if variable.kind == "location":
        parts = [p.strip() for p in value.split(",", 3)]
        try:
            latitude, longitude = float(parts[0]), float(parts[1])
        except (ValueError, IndexError):
            raise MessageValidationError("template.header.location",
                                         "Give the location as latitude,longitude[,name[,address]].") from None
        return LocationParameter(latitude, longitude, *[*parts[2:4], None, None][:2])
    return TextParameter(value, variable.name if named else None)
