"""The dashboard's "New template" form: its fields → Meta's create body, and the live preview's view model.

Examples are typed one per line: for `{{1}}`, `{{2}}`, … in that order; named variables in the order they first
appear. The preview shows which example fills which variable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup, escape

from softdukan.template.rules import check, details
from softdukan.template.variables_syntax import fill, scan

LANGUAGES = (("en", "English"), ("en_US", "English (US)"), ("en_GB", "English (UK)"), ("hi", "Hindi"),
             ("bn", "Bengali"), ("gu", "Gujarati"), ("kn", "Kannada"), ("ml", "Malayalam"), ("mr", "Marathi"),
             ("pa", "Punjabi"), ("ta", "Tamil"), ("te", "Telugu"), ("ur", "Urdu"), ("ar", "Arabic"),
             ("es", "Spanish"), ("fr", "French"), ("de", "German"), ("id", "Indonesian"), ("pt_BR", "Portuguese (BR)"))
HEADER_CHOICES = (("NONE", "None"), ("TEXT", "Text"), ("IMAGE", "Image"), ("VIDEO", "Video"),
                  ("DOCUMENT", "Document"), ("LOCATION", "Location"))
BUTTON_CHOICES = (("QUICK_REPLY", "Quick reply"), ("URL", "Visit website"), ("PHONE_NUMBER", "Call phone number"),
                  ("COPY_CODE", "Copy offer code"), ("OTP", "One-time password"), ("FLOW", "Open a flow"))
FIELD_LIMITS = {"name": 600, "language": 20, "category": 20, "parameter_format": 20, "header_format": 20,
                "header_text": 200, "header_example": 500, "header_handle": 2000, "header_file_name": 255,
                "body": 5000, "body_examples": 5000, "footer": 200}
BUTTON_LIMIT = 12


@dataclass
class TemplateForm:
    values: dict[str, str]
    buttons: list[dict[str, str]] = field(default_factory=list)

    @classmethod
    def parse(cls, form: Any) -> TemplateForm:
        """From a Starlette FormData (several `button_*` fields, one per button row)."""
        def one(name: str) -> str:
            raw = form.get(name)
            return raw[: FIELD_LIMITS.get(name, 200)] if isinstance(raw, str) else ""

        values = {name: one(name) for name in FIELD_LIMITS}
        columns = {key: [v for v in form.getlist(f"button_{key}") if isinstance(v, str)]
                   for key in ("type", "text", "value", "example")}
        buttons = []
        for i in range(min(len(columns["type"]), BUTTON_LIMIT)):
            row = {key: (columns[key][i] if i < len(columns[key]) else "")[:2000] for key in columns}
            if row["type"] and (row["text"].strip() or row["value"].strip() or row["type"] in ("OTP", "COPY_CODE")):
                buttons.append(row)
        return cls(values, buttons)

    @property
    def named(self) -> bool:
        return self.values.get("parameter_format") == "NAMED"

    def _examples(self, text: str, raw: str) -> dict[str, str]:
        names = scan(text, named=self.named).distinct
        if not self.named:
            names = sorted(names, key=int)  # positional examples go {{1}}, {{2}}, … whatever the order in the text
        lines = [line.strip() for line in raw.splitlines()]
        return {name: lines[i] for i, name in enumerate(names) if i < len(lines) and lines[i]}

    def definition(self) -> dict[str, Any]:
        v = self.values
        named = self.named
        components: list[dict[str, Any]] = []
        header_format = v.get("header_format") or "NONE"
        if header_format == "TEXT":
            header: dict[str, Any] = {"type": "HEADER", "format": "TEXT", "text": v.get("header_text", "")}
            examples = self._examples(v.get("header_text", ""), v.get("header_example", ""))
            if examples:
                header["example"] = ({"header_text_named_params": [{"param_name": k, "example": e}
                                                                   for k, e in examples.items()]} if named
                                     else {"header_text": list(examples.values())})
            components.append(header)
        elif header_format != "NONE":
            header = {"type": "HEADER", "format": header_format}
            handle = v.get("header_handle", "").strip()
            if handle:
                header["example"] = {"header_handle": [handle]}
            components.append(header)
        body: dict[str, Any] = {"type": "BODY", "text": v.get("body", "")}
        examples = self._examples(v.get("body", ""), v.get("body_examples", ""))
        if examples:
            body["example"] = ({"body_text_named_params": [{"param_name": k, "example": e}
                                                           for k, e in examples.items()]} if named
                               else {"body_text": [list(examples.values())]})
        components.append(body)
        if v.get("footer", "").strip():
            components.append({"type": "FOOTER", "text": v["footer"]})
        if self.buttons:
            components.append({"type": "BUTTONS", "buttons": [_button(b) for b in self.buttons]})
        return {"name": v.get("name", "").strip(), "language": v.get("language", ""),
                "category": v.get("category", ""), "parameter_format": "NAMED" if named else "POSITIONAL",
                "components": components}

    def problems(self) -> dict[str, str]:
        found = details(check(self.definition()))
        if self.values.get("header_file_name", "").strip() and not self.values.get("header_handle", "").strip():
            found.pop("header.example", None)  # a sample file is chosen: it is uploaded when the form is submitted
        return found


def _button(row: dict[str, str]) -> dict[str, Any]:
    kind, text, value, example = row["type"], row["text"].strip(), row["value"].strip(), row["example"].strip()
    button: dict[str, Any] = {"type": kind}
    if text:
        button["text"] = text
    if kind == "URL":
        button["url"] = value
        if example:
            button["example"] = [example]
    elif kind == "PHONE_NUMBER":
        button["phone_number"] = value
    elif kind == "COPY_CODE":
        button["example"] = value or example
    elif kind == "OTP":
        button["otp_type"] = "COPY_CODE"
    elif kind == "FLOW":
        button["flow_id"] = value
    return button


# -- the live preview: WhatsApp's own formatting, applied to escaped text ---------------------------------------

_FORMATS = ((re.compile(r"\*([^*\n]+)\*"), "strong"), (re.compile(r"_([^_\n]+)_"), "em"),
            (re.compile(r"~([^~\n]+)~"), "s"), (re.compile(r"```([^`]+)```"), "code"))


def whatsapp_markup(text: str) -> Markup:
    html = str(escape(text))
    for pattern, tag in _FORMATS:
        html = pattern.sub(lambda m, t=tag: f"<{t}>{m.group(1)}</{t}>", html)  # type: ignore[misc]
    return Markup(html.replace("\n", "<br>"))


@dataclass(frozen=True)
class Preview:
    header_text: Markup | None
    header_media: str | None  # image | video | document | location
    body: Markup
    footer: str | None
    buttons: list[tuple[str, str]]  # (icon, label)
    variables: list[tuple[str, str]]  # (variable as written, its example or "")
    header_media_url: str | None = None  # the sample file, when Meta shows it as a URL (templates synced from Meta)


ICONS = {"QUICK_REPLY": "reply", "URL": "box-arrow-up-right", "PHONE_NUMBER": "telephone", "COPY_CODE": "copy",
         "OTP": "copy", "FLOW": "ui-checks", "CATALOG": "shop", "MPM": "shop", "SPM": "shop",
         "VOICE_CALL": "telephone", "APP": "phone"}


def preview(components: list[dict[str, Any]], *, named: bool) -> Preview:
    """The message as a customer would see it, examples filled in (a template's own components, Meta's shape)."""
    parts = {str(c.get("type", "")).upper(): c for c in components if isinstance(c, dict)}
    header, body = parts.get("HEADER") or {}, parts.get("BODY") or {}
    header_examples = _example_values(header, "header", str(header.get("text") or ""), named)
    body_text = str(body.get("text") or "")
    body_examples = _example_values(body, "body", body_text, named)
    fmt = str(header.get("format") or "").upper()
    header_text = whatsapp_markup(fill(str(header.get("text") or ""), header_examples)) if fmt == "TEXT" else None
    buttons_raw = (parts.get("BUTTONS") or {}).get("buttons")
    buttons = []
    for b in buttons_raw if isinstance(buttons_raw, list) else []:
        if isinstance(b, dict):
            kind = str(b.get("type") or "").upper()
            label = b.get("text") or {"COPY_CODE": "Copy offer code", "OTP": "Copy code"}.get(kind, kind.title())
            buttons.append((ICONS.get(kind, "app"), str(label)))
    names = scan(body_text, named=named).distinct
    variables = [(f"{{{{{n}}}}}", body_examples.get(n, "")) for n in (names if named else sorted(names, key=int))]
    return Preview(header_text=header_text, header_media_url=_sample_url(header) if fmt in MEDIA else None,
                   header_media=fmt.lower() if fmt in ("IMAGE", "VIDEO", "GIF", "DOCUMENT", "LOCATION") else None,
                   body=whatsapp_markup(fill(body_text, body_examples)),
                   footer=str(parts["FOOTER"].get("text") or "") if "FOOTER" in parts else None,
                   buttons=buttons, variables=variables)


MEDIA = ("IMAGE", "VIDEO", "GIF", "DOCUMENT")


def _sample_url(header: dict[str, Any]) -> str | None:
    """Meta answers a media header's sample as a URL (a handle while we hold only what we submitted)."""
    example = header.get("example")
    handles = example.get("header_handle") if isinstance(example, dict) else None
    first = handles[0] if isinstance(handles, list) and handles else None
    if isinstance(first, str) and re.match(r"https?://[^\s\"'<>]+$", first):
        return first
    return None


def _example_values(component: dict[str, Any], kind: str, text: str, named: bool) -> dict[str, str]:
    example = component.get("example")
    if not isinstance(example, dict):
        return {}
    if named:
        items = example.get(f"{kind}_text_named_params")
        return {str(i.get("param_name")): str(i.get("example") or "") for i in items or []
                if isinstance(i, dict)} if isinstance(items, list) else {}
    values = example.get(f"{kind}_text")
    if kind == "body" and isinstance(values, list) and values and isinstance(values[0], list):
        values = values[0]
    if not isinstance(values, list):
        return {}
    names = scan(text, named=False).distinct
    ordered = sorted(names, key=int) if kind == "body" else names
    return {name: str(values[i]) for i, name in enumerate(ordered) if i < len(values)}
