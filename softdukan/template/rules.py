"""Meta's template rules (reference §9.1–9.2, §6.3), checked before anything is submitted.

`check(definition)` returns every broken rule as a `Problem` — one message per rule, naming the field — so a
business owner fixes them all at once instead of learning them one refusal at a time. The definition is Meta's
own create body (`name`, `language`, `category`, `parameter_format`, `components`); it is read defensively:
any JSON at all gives problems, never an exception.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from softdukan.template.variables_syntax import PLACEHOLDER, scan

NAME_MAX, BODY_MAX, HEADER_MAX, FOOTER_MAX = 512, 1024, 60, 60
BUTTONS_MAX, LABEL_MAX, URL_MAX, PHONE_MAX, COPY_CODE_MAX, OTP_CODE_MAX = 10, 25, 2000, 20, 15, 15
NAME = re.compile(r"[a-z0-9_]+")
LANGUAGE = re.compile(r"[a-z]{2,3}(_[A-Z]{2})?")
CATEGORIES = ("MARKETING", "UTILITY", "AUTHENTICATION")
FORMATS = ("POSITIONAL", "NAMED")
COMPONENT_TYPES = ("HEADER", "BODY", "FOOTER", "BUTTONS")
HEADER_FORMATS = ("TEXT", "IMAGE", "VIDEO", "GIF", "DOCUMENT", "LOCATION", "PRODUCT")
MEDIA_FORMATS = ("IMAGE", "VIDEO", "GIF", "DOCUMENT")
BUTTON_TYPES = ("QUICK_REPLY", "URL", "PHONE_NUMBER", "COPY_CODE", "OTP", "MPM", "SPM", "CATALOG", "FLOW",
                "VOICE_CALL", "APP")
BUTTON_MAX = {"QUICK_REPLY": 10, "URL": 2, "PHONE_NUMBER": 1, "COPY_CODE": 1, "OTP": 1}
FIXED_LABEL = frozenset({"OTP", "MPM", "SPM", "CATALOG", "COPY_CODE"})  # Meta writes these labels itself
MARKDOWN = re.compile(r"[*_~`]")
PHONE = re.compile(r"\+?[0-9]{4,19}")


@dataclass(frozen=True, slots=True)
class Problem:
    field: str  # where: name, body.text, buttons[1].url, …
    rule: str  # stable id of the rule, e.g. body_too_long
    message: str  # a sentence a business owner understands


def _upper(value: Any) -> str:
    return value.strip().upper() if isinstance(value, str) else ""


class _Checker:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, field: str, rule: str, message: str) -> None:
        self.problems.append(Problem(field, rule, message))

    # -- variables --------------------------------------------------------------------------------------------

    def variables(self, text: str, where: str, field: str, *, named: bool, body_rules: bool = True) -> list[str]:
        """`body_rules`: the body's own rules (no variable at either end, enough words per variable)."""
        found = scan(text, named=named)
        if found.malformed:
            style = "{{first_name}} (lower case letters, digits and _)" if named else "{{1}}, {{2}}, …"
            self.add(field, "variable_syntax", f"The {where} has a variable written wrongly ({found.malformed[0]}): "
                                               f"write variables as {style}.")
        if found.stray_braces:
            self.add(field, "variable_braces", f"The {where} has an unmatched '{{{{' or '}}}}': "
                                               "a variable is two braces on each side.")
        if not found.names:
            return []
        if not named:
            numbers = sorted({int(n) for n in found.names})
            if numbers != list(range(1, len(numbers) + 1)):
                listed = ", ".join(f"{{{{{n}}}}}" for n in numbers)
                self.add(field, "variables_not_sequential",
                         f"The {where}'s variables must be numbered {{{{1}}}}, {{{{2}}}}, … without gaps; "
                         f"found {listed}.")
        stripped = text.strip()
        if body_rules and (PLACEHOLDER.match(stripped) or re.search(r"\}\}$", stripped)):
            self.add(field, "variable_at_edge", f"The {where} can't start or end with a variable: "
                                                "put some text before and after it.")
        if re.search(r"\}\}\s*\{\{", text):
            self.add(field, "variables_adjacent", f"The {where} has two variables next to each other: "
                                                  "separate them with some words.")
        words = len(re.findall(r"\w+", PLACEHOLDER.sub(" ", text)))
        if body_rules and words < 2 * len(found.distinct):
            self.add(field, "too_many_variables", f"The {where} has too many variables for its length: "
                                                  "add more words around them.")
        return found.distinct

    def examples(self, component: dict[str, Any], kind: str, names: list[str], field: str, *, named: bool) -> None:
        """Every variable needs an example value (positional: `{kind}_text`; named: `{kind}_text_named_params`)."""
        if not names:
            return
        example = component.get("example")
        example = example if isinstance(example, dict) else {}
        given: dict[str, str] = {}
        if named:
            for item in example.get(f"{kind}_text_named_params") or []:
                if isinstance(item, dict) and isinstance(item.get("param_name"), str):
                    given[item["param_name"]] = item.get("example") if isinstance(item.get("example"), str) else ""
        else:
            values = example.get(f"{kind}_text")
            if kind == "body" and isinstance(values, list) and values and isinstance(values[0], list):
                values = values[0]
            if isinstance(values, list):
                given = {str(i + 1): v if isinstance(v, str) else "" for i, v in enumerate(values)}
        missing = [n for n in names if not (given.get(n) or "").strip()]
        if missing:
            self.add(f"{kind}.example", f"{kind}_example_missing",
                     f"Give an example value for each {kind} variable; missing: "
                     + ", ".join(f"{{{{{n}}}}}" for n in missing) + ".")
        if any("{{" in v or "}}" in v for v in given.values()):
            self.add(f"{kind}.example", f"{kind}_example_has_variable", "An example value can't contain a variable.")
        extra = [n for n in given if n not in names]
        if named and extra:
            self.add(f"{kind}.example", f"{kind}_example_unknown",
                     f"Examples were given for variables the {kind} doesn't use: {', '.join(sorted(extra))}.")


def check(definition: Any) -> list[Problem]:
    c = _Checker()
    if not isinstance(definition, dict):
        c.add("template", "not_an_object", "The template must be a JSON object.")
        return c.problems
    _check_identity(c, definition)
    named = _upper(definition.get("parameter_format") or "POSITIONAL") == "NAMED"
    category = _upper(definition.get("category"))
    components = definition.get("components")
    if not isinstance(components, list) or not all(isinstance(x, dict) for x in components):
        c.add("components", "components_not_a_list", "Components must be a list of objects (header, body, "
                                                     "footer, buttons).")
        return c.problems
    by_type: dict[str, list[dict[str, Any]]] = {}
    for index, component in enumerate(components):
        kind = _upper(component.get("type"))
        if kind not in COMPONENT_TYPES:
            c.add(f"components[{index}].type", "component_type",
                  f"A component is one of {', '.join(COMPONENT_TYPES)}; got {str(component.get('type'))[:30]!r}.")
            continue
        by_type.setdefault(kind, []).append(component)
    for kind, found in by_type.items():
        if len(found) > 1:
            c.add(kind.lower(), f"{kind.lower()}_repeated", f"A template has at most one {kind.lower()}.")
    bodies = by_type.get("BODY", [])
    if not bodies:
        c.add("body.text", "body_required", "A template needs a body (the main text of the message).")
    else:
        _check_body(c, bodies[0], named=named, category=category)
    if by_type.get("HEADER"):
        _check_header(c, by_type["HEADER"][0], named=named)
    if by_type.get("FOOTER"):
        _check_footer(c, by_type["FOOTER"][0], named=named)
    buttons_component = (by_type.get("BUTTONS") or [None])[0]
    buttons = buttons_component.get("buttons") if buttons_component is not None else []
    _check_buttons(c, buttons, named=named, category=category, present=buttons_component is not None)
    return c.problems


def _check_identity(c: _Checker, d: dict[str, Any]) -> None:
    name = d.get("name")
    if not isinstance(name, str) or not name:
        c.add("name", "name_required", "Give the template a name.")
    elif len(name) > NAME_MAX:
        c.add("name", "name_too_long", f"The name can have at most {NAME_MAX} characters.")
    elif not NAME.fullmatch(name):
        c.add("name", "name_characters", "The name can use only lower case letters, digits and underscores "
                                         "(for example order_update_2).")
    language = d.get("language")
    if not isinstance(language, str) or not LANGUAGE.fullmatch(language):
        c.add("language", "language_code", "Choose the template's language (a code such as en, en_US or hi).")
    if _upper(d.get("category")) not in CATEGORIES:
        c.add("category", "category", "Choose the category: MARKETING, UTILITY or AUTHENTICATION.")
    fmt = d.get("parameter_format")
    if fmt is not None and _upper(fmt) not in FORMATS:
        c.add("parameter_format", "parameter_format", "Variables are POSITIONAL ({{1}}) or NAMED ({{first_name}}).")


def _check_body(c: _Checker, body: dict[str, Any], *, named: bool, category: str) -> None:
    text = body.get("text")
    if category == "AUTHENTICATION" and text is None:
        return  # Meta writes the code sentence of authentication templates itself
    if not isinstance(text, str) or not text.strip():
        c.add("body.text", "body_required", "A template needs a body (the main text of the message).")
        return
    if len(text) > BODY_MAX:
        c.add("body.text", "body_too_long", f"The body can have at most {BODY_MAX} characters; it has {len(text)}.")
    names = c.variables(text, "body", "body.text", named=named)
    c.examples(body, "body", names, "body.example", named=named)


def _check_header(c: _Checker, header: dict[str, Any], *, named: bool) -> None:
    fmt = _upper(header.get("format"))
    if fmt not in HEADER_FORMATS:
        c.add("header.format", "header_format", f"The header is one of {', '.join(HEADER_FORMATS)}.")
        return
    if fmt == "TEXT":
        text = header.get("text")
        if not isinstance(text, str) or not text.strip():
            c.add("header.text", "header_text_required", "A text header needs its text.")
            return
        if len(text) > HEADER_MAX:
            c.add("header.text", "header_too_long",
                  f"The header can have at most {HEADER_MAX} characters; it has {len(text)}.")
        if "\n" in text:
            c.add("header.text", "header_newline", "The header is one line: remove the line breaks.")
        if MARKDOWN.search(PLACEHOLDER.sub("", text)):
            c.add("header.text", "header_formatting", "The header can't use formatting characters (* _ ~ `).")
        found = scan(text, named=named)
        if len(found.distinct) > 1:
            c.add("header.text", "header_one_variable", "The header can have at most one variable.")
        names = c.variables(text, "header", "header.text", named=named, body_rules=False)
        c.examples(header, "header", names[:1], "header.example", named=named)
    elif fmt in MEDIA_FORMATS:
        example = header.get("example")
        handles = example.get("header_handle") if isinstance(example, dict) else None
        if not isinstance(handles, list) or not handles or not all(isinstance(h, str) and h for h in handles):
            c.add("header.example", "header_media_example",
                  f"A {fmt.lower()} header needs a sample file uploaded to WhatsApp (its upload handle).")


def _check_footer(c: _Checker, footer: dict[str, Any], *, named: bool) -> None:
    text = footer.get("text")
    if not isinstance(text, str) or not text.strip():
        c.add("footer.text", "footer_text_required", "A footer needs its text (or remove the footer).")
        return
    if len(text) > FOOTER_MAX:
        c.add("footer.text", "footer_too_long",
              f"The footer can have at most {FOOTER_MAX} characters; it has {len(text)}.")
    if PLACEHOLDER.search(text) or "{{" in text:
        c.add("footer.text", "footer_variables", "The footer can't have variables.")


def _check_buttons(c: _Checker, buttons: Any, *, named: bool, category: str, present: bool) -> None:
    if not present:
        if category == "AUTHENTICATION":
            c.add("buttons", "otp_button_required", "An authentication template needs a one-time-password button.")
        return
    if not isinstance(buttons, list) or not buttons or not all(isinstance(b, dict) for b in buttons):
        c.add("buttons", "buttons_empty", "Add at least one button, or remove the buttons.")
        return
    if len(buttons) > BUTTONS_MAX:
        c.add("buttons", "too_many_buttons", f"A template can have at most {BUTTONS_MAX} buttons.")
    kinds = [_upper(b.get("type")) for b in buttons]
    for kind, limit in BUTTON_MAX.items():
        if kinds.count(kind) > limit:
            label = kind.replace("_", " ").lower()
            c.add("buttons", f"too_many_{kind.lower()}", f"A template can have at most {limit} {label} "
                                                         f"button{'s' if limit > 1 else ''}.")
    if sum(1 for a, b in pairwise(k == "QUICK_REPLY" for k in kinds) if a != b) > 1:
        c.add("buttons", "quick_replies_grouped", "Keep the quick reply buttons together: they can't be mixed in "
                                                  "between other buttons.")
    if category == "AUTHENTICATION" and "OTP" not in kinds:
        c.add("buttons", "otp_button_required", "An authentication template needs a one-time-password button.")
    if category != "AUTHENTICATION" and "OTP" in kinds:
        c.add("buttons", "otp_button_category", "One-time-password buttons are for authentication templates only.")
    for index, (button, kind) in enumerate(zip(buttons, kinds, strict=True)):
        _check_button(c, button, kind, f"buttons[{index}]", named=named)


def _check_button(c: _Checker, button: dict[str, Any], kind: str, field: str, *, named: bool) -> None:
    if kind not in BUTTON_TYPES:
        c.add(f"{field}.type", "button_type", f"A button is one of {', '.join(BUTTON_TYPES)}.")
        return
    label = button.get("text")
    if kind not in FIXED_LABEL and (not isinstance(label, str) or not label.strip()):
        c.add(f"{field}.text", "button_label_required", "Each button needs its label.")
    elif isinstance(label, str) and len(label) > LABEL_MAX:
        c.add(f"{field}.text", "button_label_too_long", f"A button label can have at most {LABEL_MAX} characters.")
    elif isinstance(label, str) and "{{" in label:
        c.add(f"{field}.text", "button_label_variables", "A button label can't have variables.")
    if kind == "URL":
        _check_url_button(c, button, field, named=named)
    elif kind == "PHONE_NUMBER":
        number = button.get("phone_number")
        if not isinstance(number, str) or len(number) > PHONE_MAX or not PHONE.fullmatch(number.replace(" ", "")):
            c.add(f"{field}.phone_number", "button_phone_number",
                  f"A call button needs a phone number in international format, at most {PHONE_MAX} characters "
                  "(for example +919812345678).")
    elif kind == "COPY_CODE":
        example = button.get("example")
        example = example[0] if isinstance(example, list) and example else example
        if not isinstance(example, str) or not example.strip():
            c.add(f"{field}.example", "copy_code_example", "A copy-code button needs an example code.")
        elif len(example) > COPY_CODE_MAX:
            c.add(f"{field}.example", "copy_code_too_long", f"The example code can have at most {COPY_CODE_MAX} "
                                                            "characters.")
    elif kind == "FLOW" and not (button.get("flow_id") or button.get("flow_name") or button.get("flow_json")):
        c.add(f"{field}.flow_id", "flow_button_flow", "A flow button needs the flow it opens (its flow id).")
    elif kind == "APP" and not button.get("app_id") and not button.get("url"):
        c.add(f"{field}.url", "app_button_target", "An app button needs the app or link it opens.")


def _check_url_button(c: _Checker, button: dict[str, Any], field: str, *, named: bool) -> None:
    url = button.get("url")
    if not isinstance(url, str) or not re.match(r"https?://[^\s/$.?#][^\s]*$", url):
        c.add(f"{field}.url", "button_url", "A link button needs a web address starting with https:// or http://.")
        return
    if len(url) > URL_MAX:
        c.add(f"{field}.url", "button_url_too_long", f"A link can have at most {URL_MAX} characters.")
    found = scan(url, named=False)  # a URL's variable is always {{1}}, whatever the template's format
    if found.malformed or found.stray_braces or len(found.names) > 1 or (found.names and found.names != ["1"]):
        c.add(f"{field}.url", "button_url_variable", "A link can have one variable, written {{1}}.")
    elif found.names and not url.endswith("{{1}}"):
        c.add(f"{field}.url", "button_url_variable_end", "The link's variable must be at the very end of the link.")
    elif found.names:
        example = button.get("example")
        example = example[0] if isinstance(example, list) and example else example
        if not isinstance(example, str) or not example.startswith(("http://", "https://")):
            c.add(f"{field}.example", "button_url_example", "A link with a variable needs an example: the full link "
                                                            "with a sample value in place of {{1}}.")


def details(problems: list[Problem]) -> dict[str, str]:
    """field → message (several rules on one field: their messages one after another)."""
    out: dict[str, str] = {}
    for p in problems:
        out[p.field] = f"{out[p.field]} {p.message}" if p.field in out else p.message
    return out


def normalise(definition: dict[str, Any]) -> dict[str, Any]:
    """The checked definition as submitted: upper-case types, formats and category (Meta matches them so)."""
    components: list[dict[str, Any]] = []
    for component in definition["components"]:
        item = dict(component)
        item["type"] = _upper(item.get("type"))
        if "format" in item:
            item["format"] = _upper(item["format"])
        if isinstance(item.get("buttons"), list):
            item["buttons"] = [{**b, "type": _upper(b.get("type"))} for b in item["buttons"]]
        components.append(item)
    return {"name": definition["name"], "language": definition["language"],
            "category": _upper(definition["category"]),
            "parameter_format": _upper(definition.get("parameter_format") or "POSITIONAL"),
            "components": components}
