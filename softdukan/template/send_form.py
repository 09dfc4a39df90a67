"""The conversation page's "Send a template" form: the approved templates of the number's account, one input per
variable (prefilled from the contact), and the WhatsApp-style preview with the values filled in.

Inputs are named `var:<variable key>` (`var:body.1`, `var:header`, `var:button.0`); `values_from_form` reads them
back into the explicit `values` of a TemplateSpec, so the dashboard sends through the same path as the API.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from softdukan.auth.subject import Subject
from softdukan.number.models import PhoneNumber
from softdukan.platform.uow import UnitOfWork
from softdukan.template.form import Preview, preview, whatsapp_markup
from softdukan.template.models import APPROVED, NAMED, MessageTemplate
from softdukan.template.repository import TemplateRepository
from softdukan.template.sending import TemplateSpec, prefilled_values
from softdukan.template.variables import TemplateVariable, template_parts, template_variables
from softdukan.template.variables_syntax import fill

PREFIX = "var:"
VALUE_MAX = 1024


@dataclass(frozen=True)
class VariableInput:
    key: str  # body.1, header, button.0 …
    label: str
    value: str
    hint: str


async def approved_templates(uow: UnitOfWork, subject: Subject, phone: PhoneNumber) -> list[MessageTemplate]:
    """What this number can send: the approved templates of its WhatsApp account, by name."""
    found = await TemplateRepository(uow.session).page(subject, status=APPROVED, account_id=phone.account_id,
                                                       limit=200)
    return sorted(found, key=lambda t: (t.name, t.language))


def _label(variable: TemplateVariable) -> tuple[str, str]:
    if variable.kind == "media":
        return f"Header {variable.name}", "A link (https://…) or an uploaded media id"
    if variable.kind == "location":
        return "Header location", "latitude,longitude[,name[,address]]"
    if variable.kind == "coupon":
        return f"Button {int(variable.name) + 1}: offer code", "Up to 15 characters"
    if variable.component == "button":
        return f"Button {int(variable.name) + 1}: end of the link", "Completes the button's URL"
    return f"{{{{{variable.name}}}}} in the {variable.component}", ""


def variable_inputs(template: MessageTemplate, contact: Any, given: Mapping[str, str] | None = None
                    ) -> list[VariableInput]:
    """One input per variable: what was typed, else a value guessed from the contact."""
    prefilled = prefilled_values(template, contact)
    out = []
    for variable in template_variables(template):
        label, hint = _label(variable)
        value = given[variable.key] if given is not None and variable.key in given else prefilled[variable.key]
        out.append(VariableInput(variable.key, label, value, hint))
    return out


def values_from_form(form: Mapping[str, Any]) -> dict[str, str]:
    return {key[len(PREFIX):][:80]: str(value)[:VALUE_MAX] for key, value in form.items()
            if isinstance(key, str) and key.startswith(PREFIX) and isinstance(value, str)}


def spec_from_form(template_id: int, values: Mapping[str, str]) -> TemplateSpec:
    return TemplateSpec(template_id=template_id, name=None, language=None, values=dict(values))


def template_id_from(raw: Any) -> int | None:
    text = raw.strip() if isinstance(raw, str) else ""
    return int(text) if text.isdigit() and 1 <= len(text) <= 15 else None


def filled_preview(template: MessageTemplate, values: Mapping[str, str]) -> Preview:
    """The template as the customer will see it with these values (a variable left empty stays as written)."""
    named = template.parameter_format == NAMED
    base = preview(list(template.components or []), named=named)
    parts = template_parts(template)
    header, body = parts.get("HEADER") or {}, parts.get("BODY") or {}

    def of(component: str) -> dict[str, str]:
        prefix = f"{component}."
        return {k[len(prefix):]: v for k, v in values.items() if k.startswith(prefix) and v.strip()}

    header_text = base.header_text
    if str(header.get("format") or "").upper() == "TEXT":
        header_text = whatsapp_markup(fill(str(header.get("text") or ""), of("header")))
    return dataclasses.replace(base, header_text=header_text,
                               body=whatsapp_markup(fill(str(body.get("text") or ""), of("body"))))
