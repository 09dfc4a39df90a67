"""Sending one approved template to one contact (issue 4 item 6): which template, the values of its variables, and
the template checks the send path (`conversation/send.py`) makes before it writes the message row.

A send names the template by our id, or by name and language on the sending number's WhatsApp account, and gives
each variable's value either explicitly (`values`), through a `mapping` to contact fields, attributes or fixed text
with fallbacks (`template/variables.py`), or as Meta's own filled-in `components`:

    spec = parse_spec({"name": "order_shipped", "language": "en", "values": {"body.2": "#1042"},
                       "mapping": {"body.1": {"source": "field", "value": "first_name", "fallback": "there"}}})
    template = await template_for_spec(uow, subject, phone, spec)
    message = message_for_contact(template, spec, contact)            # a whatsapp.messages.TemplateMessage
    row = await send_message(uow, subject, target=target, message=message)   # checks again: the one gate

`checked_template` is that gate's template part: the template exists on the number's account, is APPROVED, the
message fills exactly its variables, and a MARKETING template never goes to a contact who opted out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from softdukan.auth.subject import Subject
from softdukan.kit.ids import MAX_ID
from softdukan.number.models import PhoneNumber
from softdukan.platform.errors import Conflict, Invalid, NotFound
from softdukan.platform.uow import UnitOfWork
from softdukan.template.models import APPROVED, NAMED, MessageTemplate
from softdukan.template.repository import TemplateRepository
from softdukan.template.send_wire import parse_template_object, template_object
from softdukan.template.variables import (
    AnyTemplate,
    MissingVariable,
    TemplateVariable,
    VariableSource,
    build_message,
    recipient_values,
    template_parts,
    template_variables,
)
from softdukan.template.variables_syntax import fill
from softdukan.whatsapp.messages import (
    LocationParameter,
    MediaParameter,
    MessageValidationError,
    TemplateBody,
    TemplateButton,
    TemplateHeader,
    TemplateMessage,
    TextParameter,
)

MARKETING = "MARKETING"
HYDRATED_BODY_MAX = 1024  # Meta's 132005: the body, once its values are filled in
VALUE_MAX = 1024
Value = Annotated[str, Field(max_length=VALUE_MAX)]


# --- what the API (and the dashboard form) give ------------------------------------------------------------------


class _SourceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source: Literal["field", "attribute", "fixed"]
    value: str = Field(max_length=VALUE_MAX)
    fallback: str | None = Field(default=None, max_length=VALUE_MAX)


class _LanguageIn(BaseModel):
    model_config = ConfigDict(extra="ignore")  # Meta's {"code", "policy"}; policy is ignored, as Meta does
    code: str = Field(max_length=16)


class TemplateSendIn(BaseModel):
    """The `template` object of `POST /v1/messages` with `"type": "template"`."""

    model_config = ConfigDict(extra="forbid")
    id: int | None = Field(default=None, ge=1, le=MAX_ID, description="our template id (GET /v1/templates)")
    name: str | None = Field(default=None, max_length=512)
    language: str | _LanguageIn | None = Field(default=None, description='"en_US" or Meta\'s {"code": "en_US"}')
    values: dict[str, Value] | None = Field(default=None, max_length=60, description=(
        'variable → its value, e.g. {"body.1": "Asha", "header.1": "#1042", "button.0": "1042"}'))
    mapping: dict[str, _SourceIn] | None = Field(default=None, max_length=60, description=(
        'variable → {"source": "field"|"attribute"|"fixed", "value", "fallback"}, filled from the contact'))
    components: list[Any] | None = Field(default=None, max_length=20, description="Meta's filled-in components, "
                                                                                   "instead of values/mapping")
    namespace: str | None = Field(default=None, max_length=100)  # old Cloud API clients send it; ignored


@dataclass(frozen=True)
class TemplateSpec:
    template_id: int | None
    name: str | None
    language: str | None
    values: dict[str, str] = field(default_factory=dict)
    mapping: dict[str, VariableSource] = field(default_factory=dict)
    components: list[Any] | None = None


def parse_spec(raw: Any) -> TemplateSpec:
    """The API's `template` object → TemplateSpec; Invalid (422) names the field."""
    if raw is None:
        raise Invalid("invalid_message", "A 'template' message needs its 'template' object.", {"template": "Required."})
    try:
        body = TemplateSendIn.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in ("template", *first["loc"]))
        raise Invalid("invalid_message", f"{where}: {first['msg']}", {where: first["msg"]}) from None
    language = body.language.code if isinstance(body.language, _LanguageIn) else body.language
    if body.components is not None and (body.values or body.mapping):
        raise Invalid("invalid_message", "Give the template's values either as 'values'/'mapping' or as Meta's "
                                         "'components', not both.", {"template.components": "Leave it out."})
    return TemplateSpec(body.id, body.name, language, dict(body.values or {}),
                        {k: VariableSource(v.source, v.value, v.fallback) for k, v in (body.mapping or {}).items()},
                        body.components)


# --- which template ------------------------------------------------------------------------------------------------


def _status_words(template: MessageTemplate) -> str:
    status = template.status.lower().replace("_", " ")
    if template.status == "REJECTED" and template.rejected_reason:
        return f"{status} ({template.rejected_reason})"
    if template.status == "PAUSED":
        return "paused by WhatsApp because of low quality"
    return status


def check_sendable(template: MessageTemplate, phone: PhoneNumber) -> None:
    """The template belongs to the number's WhatsApp account and is approved (else 422 / 409 saying which)."""
    if template.account_id != phone.account_id:
        raise Invalid("template_wrong_account",
                      f"Template {template.name} belongs to another WhatsApp Business account than the number "
                      f"{phone.display_phone_number}: a template can only be sent from its own account's numbers.",
                      {"template": "Choose a template of this number's account, or send from another number."})
    if template.status != APPROVED:
        raise Conflict("template_not_approved",
                       f"Template {template.name} ({template.language}) is {_status_words(template)}, not approved: "
                       "WhatsApp only delivers approved templates.",
                       {"template_id": template.id, "status": template.status})


async def template_for_spec(uow: UnitOfWork, subject: Subject, phone: PhoneNumber, spec: TemplateSpec
                            ) -> MessageTemplate:
    """The template the send names: by our id, or by name and language on the number's account."""
    repository = TemplateRepository(uow.session)
    if spec.template_id is not None:
        template = await repository.get(subject, spec.template_id)
        if template is None:
            raise NotFound("template_not_found", "No such template in this organization.")
        if (spec.name and spec.name != template.name) or (spec.language and spec.language != template.language):
            raise Invalid("conflicting_template", f"Template {spec.template_id} is {template.name} "
                                                  f"({template.language}), not the name or language given.",
                          {"template.name": "Leave name and language out when you give the id."})
    else:
        if not spec.name or not spec.language:
            raise Invalid("template_required", "Say which template to send: its id, or its name and language.",
                          {"template.name" if not spec.name else "template.language": "Required without 'id'."})
        template = await _by_name(uow, subject, phone, spec.name, spec.language)
    check_sendable(template, phone)
    return template


async def _by_name(uow: UnitOfWork, subject: Subject, phone: PhoneNumber, name: str, language: str
                   ) -> MessageTemplate:
    repository = TemplateRepository(uow.session)
    template = await repository.by_name(subject, phone.account_id, name, language)
    if template is not None:
        return template
    elsewhere = await repository.one_or_none(repository.readable(subject).where(
        MessageTemplate.name == name, MessageTemplate.language == language).limit(1))
    if elsewhere is not None:
        check_sendable(elsewhere, phone)  # another account's: says so
    raise NotFound("template_not_found", f"There is no template {name[:80]} in {language[:16]} on the WhatsApp "
                                         f"account of {phone.display_phone_number}. Sync templates or create it.",
                   {"template.name": name[:80], "template.language": language[:16]})


async def checked_template(uow: UnitOfWork, subject: Subject, phone: PhoneNumber, contact: Any,
                           message: TemplateMessage) -> MessageTemplate:
    """The send path's template check: approved on the number's account, every variable filled and nothing else,
    the body not too long once filled, and no MARKETING template to a contact who opted out."""
    template = await _by_name(uow, subject, phone, message.name, message.language_code)
    check_sendable(template, phone)
    check_parameters(template, message)
    if template.category == MARKETING and getattr(contact, "opted_out_at", None) is not None:
        raise Conflict("contact_opted_out",
                       f"This contact opted out of marketing messages, so the marketing template {template.name} "
                       "can't be sent to them. Utility and authentication templates still can.",
                       {"category": template.category})
    return template


# --- the values ------------------------------------------------------------------------------------------------------


def message_for_contact(template: AnyTemplate, spec: TemplateSpec, contact: Any) -> TemplateMessage:
    """The filled-in template message for this contact: explicit values first, then the mapping (with fallbacks);
    MissingVariable names a variable that has neither."""
    if spec.components is not None:
        try:
            message = parse_template_object({"name": template.name, "language": {"code": template.language},
                                             "components": spec.components})
        except (MessageValidationError, TypeError, ValueError) as exc:
            where = exc.field if isinstance(exc, MessageValidationError) else "template.components"
            text = exc.limit_description if isinstance(exc, MessageValidationError) else str(exc)[:200]
            raise Invalid("invalid_message", f"{where}: {text}", {where: text}) from None
        check_parameters(template, message)
        return message
    known = {v.key for v in template_variables(template)}
    for key in [*spec.values, *spec.mapping]:
        if key not in known:
            raise Invalid("unknown_template_variable",
                          f"Template {template.name} has no variable {key[:60]!r}; its variables are: "
                          f"{', '.join(sorted(known)) or 'none'}.", {f"template.variables.{key[:60]}": "Unknown."})
    mapping: dict[str, VariableSource] = dict(spec.mapping)
    for key, value in spec.values.items():
        if value.strip() or key not in mapping:  # a blank explicit value leaves the mapping's value and fallback
            mapping[key] = VariableSource("fixed", value)
    message = with_otp_buttons(template, build_message(template, mapping, recipient_values(contact)))
    check_parameters(template, message)
    return message


def otp_button_indexes(template: AnyTemplate) -> list[int]:
    """Buttons of an authentication template that carry the one-time code (Meta: a `url` button parameter)."""
    parts = template_parts(template)
    buttons = (parts.get("BUTTONS") or {}).get("buttons")
    return [i for i, b in enumerate(buttons if isinstance(buttons, list) else [])
            if isinstance(b, dict) and str(b.get("type") or "").upper() == "OTP"]


def with_otp_buttons(template: AnyTemplate, message: TemplateMessage) -> TemplateMessage:
    """An authentication template's code button gets the code of its body ({{1}}), as Meta's send syntax wants."""
    body = next((c for c in message.components if isinstance(c, TemplateBody)), None)
    code = getattr(body.parameters[0], "text", None) if body and body.parameters else None
    given = {c.index for c in message.components if isinstance(c, TemplateButton)}
    missing = [i for i in otp_button_indexes(template) if i not in given]
    if missing and not isinstance(code, str):
        # Meta writes an authentication body itself ("{{1}} is your verification code"); our stored copy has no
        # text to map the code to yet, so say so rather than let WhatsApp refuse it later
        raise Invalid("authentication_template_unsupported",
                      f"Template {template.name} sends a one-time code: give Meta's filled-in 'components' (the code "
                      "in the body and in the code button); values and mappings can't fill it yet.",
                      {"template.components": "Required for authentication templates."})
    extra = [TemplateButton("url", i, [TextParameter(str(code))]) for i in missing]
    if not extra:
        return message
    return TemplateMessage(name=message.name, language_code=message.language_code,
                           components=[*message.components, *extra])


def prefilled_values(template: MessageTemplate, contact: Any) -> dict[str, str]:
    """What the dashboard's form shows first: a name variable gets the contact's name, the rest stay empty."""
    values = recipient_values(contact)
    out: dict[str, str] = {}
    for variable in template_variables(template):
        guess = None
        if variable.kind == "text" and variable.component != "button":
            if "first" in variable.name:
                guess = values.fields.get("first_name")
            elif "name" in variable.name or variable.key == "body.1":
                guess = values.fields.get("name")
            elif variable.name in values.attributes:
                guess = values.attributes.get(variable.name)
        out[variable.key] = str(guess) if guess not in (None, "") else ""
    return out


# --- checking a filled-in message against its template ---------------------------------------------------------------


def _mismatch(message: str, key: str) -> Invalid:
    return Invalid("template_parameters_mismatch", message, {"variable": key})


def _missing(template: AnyTemplate, variable: TemplateVariable) -> MissingVariable:
    return MissingVariable("template_variable_missing",
                           f"No value for {variable.key} of template {template.name}: give every variable a value.",
                           {"variable": variable.key})


def _check_header(template: AnyTemplate, wanted: TemplateVariable | None, header: TemplateHeader | None) -> None:
    if wanted is None:
        if header is not None:
            raise _mismatch(f"Template {template.name} has no header variable, but a header value was given.",
                            "header")
        return
    if header is None:
        raise _missing(template, wanted)
    (param,) = header.parameters
    if wanted.kind == "media":
        kind = "video" if wanted.name in ("video", "gif") else wanted.name
        if not isinstance(param, MediaParameter) or param.kind != kind:
            raise _mismatch(f"The header of template {template.name} is a {wanted.name}: give a {kind}.", wanted.key)
    elif wanted.kind == "location":
        if not isinstance(param, LocationParameter):
            raise _mismatch(f"The header of template {template.name} is a location.", wanted.key)
    elif not isinstance(param, TextParameter) or param.parameter_name != (
            wanted.name if template.parameter_format == NAMED else None):
        raise _mismatch(f"The header of template {template.name} takes text for {{{{{wanted.name}}}}}.", wanted.key)


def _body_names(template: AnyTemplate, body: TemplateBody | None) -> list[str]:
    params = list(body.parameters) if body else []
    if template.parameter_format == NAMED:
        return [str(getattr(p, "parameter_name", None) or "") for p in params]
    if any(getattr(p, "parameter_name", None) for p in params):
        raise _mismatch(f"Template {template.name} uses numbered variables: leave parameter_name out.", "body")
    return [str(i) for i in range(1, len(params) + 1)]


def check_parameters(template: AnyTemplate, message: TemplateMessage) -> None:
    """The message fills exactly the template's variables (Meta: 132000 / 132012 / 132005), before anything is
    stored; a missing one is MissingVariable naming it."""
    variables = template_variables(template)
    headers = [c for c in message.components if isinstance(c, TemplateHeader)]
    bodies = [c for c in message.components if isinstance(c, TemplateBody)]
    _check_header(template, next((v for v in variables if v.component == "header"), None),
                  headers[0] if headers else None)
    wanted = [v for v in variables if v.component == "body"]
    given = _body_names(template, bodies[0] if bodies else None)
    for variable in wanted:
        if variable.name not in given:
            raise _missing(template, variable)
    if otp_button_indexes(template) and not wanted and given == ["1"]:
        given = []  # an authentication body is Meta's own text: its one value is the code
    for name in given:
        if name not in {v.name for v in wanted}:
            raise _mismatch(f"Template {template.name} has no body variable {{{{{name}}}}}.", f"body.{name}")
    buttons = {b.index: b for b in message.components if isinstance(b, TemplateButton)}
    for variable in (v for v in variables if v.component == "button"):
        button = buttons.pop(int(variable.name), None)
        if button is None or not button.parameters:
            raise _missing(template, variable)
        if button.sub_type != ("copy_code" if variable.kind == "coupon" else "url"):
            raise _mismatch(f"Button {int(variable.name) + 1} of template {template.name} is not a "
                            f"{button.sub_type} button.", variable.key)
    for index in otp_button_indexes(template):
        button = buttons.pop(index, None)
        if button is None or not button.parameters or button.sub_type != "url":
            raise _missing(template, TemplateVariable(f"button.{index}", "button", str(index)))
    for index, button in buttons.items():
        if button.sub_type != "quick_reply":  # a quick reply may carry its own payload; anything else is extra
            raise _mismatch(f"Template {template.name} has no value for button {index + 1}.", f"button.{index}")
    body_text = filled(template, message)[1]
    if len(body_text) > HYDRATED_BODY_MAX:
        raise Invalid("template_text_too_long", f"With these values the message is {len(body_text)} characters "
                                                f"long; WhatsApp allows {HYDRATED_BODY_MAX}.", {"template": "Shorten "
                                                                                               "the values."})


# --- what the row keeps and shows ------------------------------------------------------------------------------------


def _text_values(template: AnyTemplate, params: Any) -> dict[str, str]:
    named = template.parameter_format == NAMED
    out: dict[str, str] = {}
    for position, param in enumerate(params or [], start=1):
        text = getattr(param, "text", None) or getattr(param, "fallback_value", None)
        if isinstance(text, str):
            out[str(getattr(param, "parameter_name", None) or position) if named else str(position)] = text
    return out


def filled(template: AnyTemplate, message: TemplateMessage) -> tuple[str | None, str]:
    """(header text, body text) as the customer reads them."""
    parts = template_parts(template)
    header, body = parts.get("HEADER") or {}, parts.get("BODY") or {}
    header_params = next((c.parameters for c in message.components if isinstance(c, TemplateHeader)), ())
    body_params = next((c.parameters for c in message.components if isinstance(c, TemplateBody)), ())
    header_text = None
    if str(header.get("format") or "").upper() == "TEXT":
        header_text = fill(str(header.get("text") or ""), _text_values(template, header_params))
    return header_text, fill(str(body.get("text") or ""), _text_values(template, body_params))


def stored_content(template: AnyTemplate, message: TemplateMessage) -> dict[str, Any]:
    """What the outbound row keeps: Meta's template object as sent, plus the template's id and category at send
    time (billing holds and reports read the category; Meta may re-categorize the template later)."""
    return {**template_object(message), "template_id": template.id, "category": template.category}


def preview_text(template: AnyTemplate, message: TemplateMessage) -> str:
    header, body = filled(template, message)
    text = " ".join(part for part in (header, body) if part).replace("\n", " ").strip()
    return text or f"[Template] {template.name}"


def as_variable_map(values: Mapping[str, str]) -> dict[str, str]:
    """Form fields `var:<key>` → {key: value} (the dashboard's variable inputs)."""
    return {key[4:]: value for key, value in values.items() if key.startswith("var:")}
