"""Template sends: the template must exist in that language and be APPROVED, and the parameters must match it
(reference §1.1 "Template", §3.3)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from softdukan.platform.uow import UnitOfWork
from softdukan.sandbox.graph.errors import GraphFault
from softdukan.sandbox.models import SandboxTemplate, SandboxWaba

VARIABLE = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
MEDIA_FORMATS = {"IMAGE": "image", "VIDEO": "video", "DOCUMENT": "document", "GIF": "video", "LOCATION": "location"}


def variables(text: str | None) -> list[str]:
    return VARIABLE.findall(text or "")


def _component(components: list[Any], kind: str) -> dict[str, Any] | None:
    for component in components:
        if isinstance(component, dict) and str(component.get("type", "")).upper() == kind:
            return component
    return None


async def find_sendable(uow: UnitOfWork, waba: SandboxWaba, name: str, language: str) -> SandboxTemplate:
    template = (
        (
            await uow.session.execute(
                select(SandboxTemplate).where(
                    SandboxTemplate.waba_pk == waba.id,
                    SandboxTemplate.name == name,
                    SandboxTemplate.language == language,
                    SandboxTemplate.deleted_at.is_(None),
                )
            )
        )
        .scalars()
        .first()
    )
    if template is None:
        raise GraphFault(132001, f"template name ({name}) does not exist in {language}")
    if template.status == "PAUSED":
        raise GraphFault(132015, f"Template {name} is paused because of low quality.")
    if template.status == "DISABLED":
        raise GraphFault(132016, f"Template {name} is disabled because it was paused too many times.")
    if template.status != "APPROVED":
        raise GraphFault(
            132001, f"template name ({name}) does not exist in {language} or is not approved (status {template.status})"
        )
    return template


def _text_params(params: list[Any], named: bool, expected: list[str], where: str) -> dict[str, str]:
    """Returns variable → value after checking count, naming and values."""
    if len(params) != len(expected):
        raise GraphFault(
            132000,
            f"Number of parameters in {where} ({len(params)}) does not match the expected number "
            f"of params ({len(expected)})",
        )
    values: dict[str, str] = {}
    for position, param in enumerate(params, start=1):
        if param.get("type") not in ("text", "currency", "date_time"):
            raise GraphFault(132012, f"Parameter {position} of {where} must be of type text, currency or date_time.")
        name = param.get("parameter_name")
        if named != (name is not None):
            raise GraphFault(
                132012,
                f"The template uses {'named' if named else 'positional'} parameters; "
                f"parameter {position} of {where} "
                f"{'has no parameter_name' if named else 'has a parameter_name'}.",
            )
        if param["type"] == "text":
            value = param.get("text")
        else:
            value = (param.get(param["type"]) or {}).get("fallback_value")
        if not isinstance(value, str) or not value.strip():
            raise GraphFault(132008, f"Parameter {position} of {where} has an empty or invalid value.")
        key = str(name) if named else str(position)
        if named and key not in expected:
            raise GraphFault(132000, f"Parameter name '{key}' is not a variable of {where}.")
        values[key] = value
    return values


def check_parameters(template: SandboxTemplate, request_components: list[dict[str, Any]]) -> None:
    named = template.parameter_format == "NAMED"
    given: dict[str, dict[str, Any]] = {}
    buttons: dict[int, dict[str, Any]] = {}
    for component in request_components:
        kind = component.get("type")
        if kind == "button":
            try:
                buttons[int(component.get("index", -1))] = component
            except (TypeError, ValueError):
                raise GraphFault(131009, "Param template.components.index must be an integer.") from None
        elif kind in ("header", "body"):
            given[kind] = component
    header = _component(template.components, "HEADER")
    if header is not None:
        fmt = str(header.get("format", "TEXT")).upper()
        params = list(given.get("header", {}).get("parameters", []))
        if fmt == "TEXT":
            _text_params(params, named, variables(header.get("text")), "header")
        elif fmt in MEDIA_FORMATS:
            wanted = MEDIA_FORMATS[fmt]
            if len(params) != 1:
                raise GraphFault(132000, f"Header of format {fmt} needs exactly 1 parameter, got {len(params)}.")
            if params[0].get("type") != wanted:
                raise GraphFault(132012, f"Header is of format {fmt}; the parameter must be of type {wanted}.")
    elif given.get("header", {}).get("parameters"):
        raise GraphFault(132000, "The template has no header, but header parameters were given.")
    body = _component(template.components, "BODY") or {}
    expected = variables(body.get("text"))
    values = _text_params(list(given.get("body", {}).get("parameters", [])), named, expected, "body")
    hydrated = VARIABLE.sub(lambda m: values.get(m.group(1), ""), body.get("text", ""))
    if len(hydrated) > 1024:
        raise GraphFault(132005, "The body text is longer than 1024 characters once the parameters are filled in.")
    template_buttons = (_component(template.components, "BUTTONS") or {}).get("buttons", [])
    for index, button in enumerate(template_buttons):
        kind = str(button.get("type", "")).upper()
        needs = (kind == "URL" and variables(button.get("url"))) or kind in ("COPY_CODE", "OTP")
        if kind == "OTP" and str(button.get("otp_type", "")).upper() in ("ONE_TAP", "ZERO_TAP"):
            needs = True
        if needs and not buttons.get(index, {}).get("parameters"):
            raise GraphFault(132000, f"Button at index {index} ({kind}) needs a parameter.")
