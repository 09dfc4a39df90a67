"""Template creation checks (reference §9.2, §6.3): code 100 with the 2388xxx subcode Graph uses."""

from __future__ import annotations

import re
from itertools import pairwise
from typing import Any

from softdukan.sandbox.graph.errors import GraphFault, template_fault
from softdukan.sandbox.graph.messages.template_send import VARIABLE, variables

NAME = re.compile(r"^[a-z0-9_]{1,512}$")
CATEGORIES = ("MARKETING", "UTILITY", "AUTHENTICATION")
HEADER_FORMATS = ("TEXT", "IMAGE", "VIDEO", "GIF", "DOCUMENT", "LOCATION", "PRODUCT")
BUTTON_TYPES = (
    "QUICK_REPLY",
    "URL",
    "PHONE_NUMBER",
    "COPY_CODE",
    "OTP",
    "MPM",
    "SPM",
    "CATALOG",
    "FLOW",
    "VOICE_CALL",
    "APP",
)
BUTTON_MAX = {"QUICK_REPLY": 10, "URL": 2, "PHONE_NUMBER": 1, "COPY_CODE": 1}


def _too_long(field: str, limit: int) -> GraphFault:
    return template_fault(2388040, "Field too long", f"The {field} is longer than {limit} characters.")


def _check_variables(text: str, *, named: bool, where: str, subcode: int) -> list[str]:
    found = variables(text)
    if not found:
        return found
    stripped = text.strip()
    if stripped.startswith("{{") or stripped.endswith("}}"):
        raise template_fault(
            2388299,
            "Variables can't be at the start or end",
            f"The {where} starts or ends with a variable: add text before and after it.",
        )
    if re.search(r"\}\}\s*\{\{", text):
        raise template_fault(
            subcode,
            "Invalid format",
            f"The {where} has variables next to each other (like {{{{1}}}}{{{{2}}}}): separate them with text.",
        )
    if named:
        if any(not re.fullmatch(r"[a-z_][a-z0-9_]*", name) for name in found):
            raise template_fault(
                subcode,
                "Invalid variable",
                f"Named variables of the {where} must be lower case letters, digits and underscores.",
            )
    else:
        if any(not name.isdigit() for name in found):
            raise template_fault(
                subcode,
                "Invalid variable",
                f"The {where} mixes named variables into a template with positional parameters.",
            )
        numbers = sorted({int(n) for n in found})
        if numbers != list(range(1, len(numbers) + 1)):
            raise template_fault(
                subcode, "Invalid variable", f"Variables of the {where} must be {{{{1}}}}, {{{{2}}}}, … in sequence."
            )
    words = len(re.findall(r"\w+", VARIABLE.sub(" ", text)))
    if words < 2 * len(set(found)):
        raise template_fault(2388293, "Too many variables", f"The {where} has too many variables for its length.")
    return found


def _examples(component: dict[str, Any], kind: str, named: bool) -> int:
    example = component.get("example") or {}
    if not isinstance(example, dict):
        return 0
    if named:
        values = example.get(f"{kind}_text_named_params") or []
        return len(values) if isinstance(values, list) else 0
    values = example.get(f"{kind}_text") or []
    if kind == "body" and values and isinstance(values[0], list):
        return len(values[0])
    return len(values) if isinstance(values, list) else 0


def check_template(body: dict[str, Any]) -> tuple[str, str, str, str, list[dict[str, Any]]]:
    """Returns (name, language, category, parameter_format, components) or raises Meta's creation error."""
    name, language, category = body.get("name"), body.get("language"), body.get("category")
    if not isinstance(name, str) or not name:
        raise GraphFault(100, "The parameter name is required.")
    if len(name) > 512:
        raise _too_long("template name", 512)
    if not NAME.match(name):
        raise GraphFault(100, "Param name must contain only lowercase letters, digits and underscores.")
    if not isinstance(language, str) or not re.fullmatch(r"[a-z]{2,3}(_[A-Z]{2})?", language):
        raise GraphFault(100, "Param language must be a language code such as en_US or hi.")
    if not isinstance(category, str) or category.upper() not in CATEGORIES:
        raise GraphFault(100, "Param category must be one of MARKETING, UTILITY, AUTHENTICATION.")
    category = category.upper()
    parameter_format = str(body.get("parameter_format") or "POSITIONAL").upper()
    if parameter_format not in ("POSITIONAL", "NAMED"):
        raise GraphFault(100, "Param parameter_format must be POSITIONAL or NAMED.")
    named = parameter_format == "NAMED"
    components = body.get("components")
    if not isinstance(components, list) or not all(isinstance(c, dict) for c in components):
        raise GraphFault(100, "Param components must be an array of objects.")
    by_type: dict[str, list[dict[str, Any]]] = {}
    for component in components:
        kind = str(component.get("type", "")).upper()
        if kind not in ("HEADER", "BODY", "FOOTER", "BUTTONS"):
            raise GraphFault(100, f"Param components[].type '{kind}' is not valid.")
        component["type"] = kind
        by_type.setdefault(kind, []).append(component)
    if any(len(v) > 1 for v in by_type.values()):
        raise GraphFault(100, "Each component type may appear only once.")
    bodies = by_type.get("BODY", [])
    if not bodies:
        raise template_fault(2388072, "Body is required", "The template needs exactly one BODY component.")
    body_component = bodies[0]
    text = body_component.get("text")
    if category != "AUTHENTICATION" or text is not None:
        if not isinstance(text, str) or not text.strip():
            raise template_fault(2388072, "Body is required", "The BODY component needs text.")
        if len(text) > 1024:
            raise _too_long("body", 1024)
        found = _check_variables(text, named=named, where="body", subcode=2388072)
        if found and _examples(body_component, "body", named) < len(set(found)):
            raise template_fault(2388072, "Missing examples", "Every body variable needs an example value.")
    for header in by_type.get("HEADER", []):
        fmt = str(header.get("format", "")).upper()
        if fmt not in HEADER_FORMATS:
            raise template_fault(
                2388047, "Invalid header", f"Header format must be one of {', '.join(HEADER_FORMATS)}."
            )
        header["format"] = fmt
        if fmt == "TEXT":
            htext = header.get("text")
            if not isinstance(htext, str) or not htext.strip():
                raise template_fault(2388047, "Invalid header", "A TEXT header needs text.")
            if len(htext) > 60:
                raise _too_long("header", 60)
            found = variables(htext)
            if len(set(found)) > 1:
                raise template_fault(2388047, "Invalid header", "A header may have at most one variable.")
            if found and _examples(header, "header", named) < 1:
                raise template_fault(2388047, "Missing examples", "The header variable needs an example value.")
            if re.search(r"[*_~`]", VARIABLE.sub("", htext)):
                raise template_fault(2388047, "Invalid header", "Header text can't have formatting characters.")
    for footer in by_type.get("FOOTER", []):
        ftext = footer.get("text")
        if not isinstance(ftext, str) or not ftext.strip():
            raise template_fault(2388073, "Invalid footer", "The FOOTER component needs text.")
        if len(ftext) > 60:
            raise _too_long("footer", 60)
        if variables(ftext):
            raise template_fault(2388073, "Invalid footer", "The footer can't have variables.")
    for buttons_component in by_type.get("BUTTONS", []):
        _check_buttons(buttons_component.get("buttons"))
    return name, language, category, parameter_format, components


def _check_buttons(buttons: Any) -> None:
    if not isinstance(buttons, list) or not buttons or len(buttons) > 10:
        raise GraphFault(100, "Param BUTTONS.buttons must have 1 to 10 buttons.")
    counts: dict[str, int] = {}
    kinds = []
    for button in buttons:
        if not isinstance(button, dict):
            raise GraphFault(100, "Each button must be an object.")
        kind = str(button.get("type", "")).upper()
        if kind not in BUTTON_TYPES:
            raise GraphFault(100, f"Button type '{kind}' is not valid.")
        button["type"] = kind
        kinds.append(kind)
        counts[kind] = counts.get(kind, 0) + 1
        if counts[kind] > BUTTON_MAX.get(kind, 10):
            raise GraphFault(100, f"At most {BUTTON_MAX[kind]} {kind} buttons are allowed.")
        label = button.get("text")
        # Meta fixes the label of copy-code ("Copy offer code"), OTP and catalogue buttons itself
        fixed_label = kind in ("OTP", "MPM", "CATALOG", "SPM", "COPY_CODE")
        if not fixed_label and (not isinstance(label, str) or not label.strip()):
            raise GraphFault(100, f"The {kind} button needs a text label.")
        if isinstance(label, str) and len(label) > 25:
            raise _too_long("button label", 25)
        if kind == "URL":
            url = button.get("url")
            if not isinstance(url, str) or not url.startswith(("http://", "https://")) or len(url) > 2000:
                raise GraphFault(100, "A URL button needs an http(s) url of at most 2000 characters.")
            found = variables(url)
            if len(found) > 1 or (found and not url.rstrip().endswith("}}")):
                raise GraphFault(100, "A URL button may have one variable, at the end of the url.")
            if found and not button.get("example"):
                raise GraphFault(100, "A URL button with a variable needs an example.")
        if kind == "PHONE_NUMBER":
            number = button.get("phone_number")
            if not isinstance(number, str) or not 1 <= len(number) <= 20:
                raise GraphFault(100, "A PHONE_NUMBER button needs a phone_number of at most 20 characters.")
        if kind == "COPY_CODE":
            example = button.get("example")
            example = example[0] if isinstance(example, list) and example else example
            if not isinstance(example, str) or len(example) > 15:
                raise GraphFault(100, "A COPY_CODE button needs an example of at most 15 characters.")
    # quick replies grouped: QR,URL,QR is invalid
    groups = [k == "QUICK_REPLY" for k in kinds]
    switches = sum(1 for a, b in pairwise(groups) if a != b)
    if switches > 1:
        raise GraphFault(100, "Quick reply buttons must be grouped together, not interleaved with other buttons.")
