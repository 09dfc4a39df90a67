"""The dashboard's broadcast form ↔ the service's BroadcastInput.

Fields: `name`, `phone_number_id`, `audience_kind` (segment | tags | list | all) with `segment_id`, `tags` (comma
separated) and `tag_match`, or `numbers` (pasted, one per line or comma separated) and `numbers_file` (a CSV or TXT
upload: every cell with a digit in it is read as a number, so a header row is ignored); `template_id`; per template
variable `src:<key>` (field | attribute | fixed), `val:<key>` and `fb:<key>` (the fallback); `retry_days_131049`;
`scheduled_local` ("YYYY-MM-DDTHH:MM", a datetime-local in the organization's time zone).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from softdukan.broadcast.models import Broadcast
from softdukan.broadcast.schemas import LIST_MAX, NAME_MAX, TAG_MAX, VALUE_MAX
from softdukan.platform.errors import Invalid
from softdukan.template.models import MessageTemplate
from softdukan.template.variables import CONTACT_FIELDS, template_variables

KINDS = ("segment", "tags", "list", "all", "outcome")  # outcome: "resend to failed" drafts (another broadcast's)
OUTCOME_KINDS = ("failed",)
SOURCES = ("field", "attribute", "fixed")
FIELD_LABELS = {"name": "Name", "first_name": "First name", "profile_name": "WhatsApp profile name",
                "phone": "Phone number", "wa_id": "WhatsApp number (digits)"}
FILE_MAX = 2_000_000  # bytes of an uploaded list
TEXT_MAX = 400_000  # characters of a pasted list


@dataclass
class VariableRow:
    key: str
    label: str
    source: str = "field"
    value: str = ""
    fallback: str = ""


@dataclass
class BroadcastForm:
    name: str = ""
    phone_number_id: str = ""
    audience_kind: str = "segment"
    segment_id: str = ""
    tags: str = ""
    tag_match: str = "any"
    numbers: str = ""
    outcome_broadcast_id: str = ""
    outcome: str = "failed"
    template_id: str = ""
    variables: dict[str, VariableRow] = dataclasses.field(default_factory=dict)
    retry_days_131049: str = "2"
    scheduled_local: str = ""

    @classmethod
    def parse(cls, form: Mapping[str, Any], uploaded: bytes | None = None) -> BroadcastForm:
        def text(name: str, limit: int = 200) -> str:
            value = form.get(name)
            return value[:limit] if isinstance(value, str) else ""

        numbers = text("numbers", TEXT_MAX)
        if uploaded:
            numbers = "\n".join(filter(None, [numbers.strip(), "\n".join(numbers_in_file(uploaded))]))
        out = cls(name=text("name", NAME_MAX + 20), phone_number_id=text("phone_number_id", 20),
                  audience_kind=text("audience_kind", 20) if text("audience_kind", 20) in KINDS else "segment",
                  segment_id=text("segment_id", 20), tags=text("tags", 2000),
                  tag_match="all" if text("tag_match") == "all" else "any", numbers=numbers,
                  outcome_broadcast_id=text("outcome_broadcast_id", 20), outcome=text("outcome", 20) or "failed",
                  template_id=text("template_id", 20), retry_days_131049=text("retry_days_131049", 3) or "2",
                  scheduled_local=text("scheduled_local", 40))
        for key in form:
            if isinstance(key, str) and key.startswith("src:") and len(key) < 90:
                name = key[4:]
                source = text(key, 20)
                out.variables[name] = VariableRow(name, name, source if source in SOURCES else "fixed",
                                                  text(f"val:{name}", VALUE_MAX), text(f"fb:{name}", VALUE_MAX))
        return out

    @classmethod
    def of(cls, broadcast: Broadcast) -> BroadcastForm:
        audience = dict(broadcast.audience or {})
        variables = dict(broadcast.variables or {})
        rows = {k: VariableRow(k, k, "fixed", str(v)) for k, v in (variables.get("values") or {}).items()}
        for key, source in (variables.get("mapping") or {}).items():
            if isinstance(source, dict):
                rows[key] = VariableRow(key, key, str(source.get("source") or "fixed"), str(source.get("value") or ""),
                                        str(source.get("fallback") or ""))
        kind = audience.get("kind")
        return cls(name=broadcast.name, phone_number_id=str(broadcast.phone_number_id),
                   audience_kind=kind if kind in KINDS else "segment",
                   segment_id=str(audience.get("segment_id") or ""), tags=", ".join(audience.get("tags") or []),
                   tag_match=audience.get("match") or "any", numbers="\n".join(audience.get("numbers") or []),
                   outcome_broadcast_id=str(audience.get("broadcast_id") or ""),
                   outcome=str(audience.get("outcome") or "failed"),
                   template_id=str(broadcast.template_id or ""), variables=rows,
                   retry_days_131049=str(broadcast.retry_days_131049))

    def rows_for(self, template: MessageTemplate | None) -> list[VariableRow]:
        """One mapping row per variable of the template; a new variable starts as "first name" for the body's first
        one, else as fixed text."""
        if template is None:
            return []
        rows = []
        for i, variable in enumerate(template_variables(template)):
            given = self.variables.get(variable.key)
            label = _label(variable.key)
            if given is not None:
                rows.append(dataclasses.replace(given, label=label))
            elif i == 0 and variable.key.startswith("body."):
                rows.append(VariableRow(variable.key, label, "field", "first_name", "there"))
            else:
                rows.append(VariableRow(variable.key, label, "fixed"))
        return rows

    def audience(self) -> dict[str, Any]:
        if self.audience_kind == "segment":
            return {"kind": "segment", "segment_id": _id(self.segment_id, "segment_id", "a segment")}
        if self.audience_kind == "tags":
            tags = sorted({t.strip()[:TAG_MAX] for t in self.tags.split(",") if t.strip()})[:50]
            if not tags:
                raise Invalid("invalid_audience", "Choose at least one tag.", {"tags": "Choose at least one tag."})
            return {"kind": "tags", "tags": tags, "match": self.tag_match}
        if self.audience_kind == "list":
            numbers = [n for n in re.split(r"[\n,;\t]+", self.numbers) if n.strip()]
            if not numbers:
                raise Invalid("invalid_audience", "Paste or upload the numbers to send to.",
                              {"numbers": "Paste or upload the numbers."})
            if len(numbers) > LIST_MAX:
                raise Invalid("audience_too_large", f"A pasted list holds at most {LIST_MAX:,} numbers: import "
                                                    "bigger lists as contacts with a tag and send to the tag.",
                              {"numbers": f"At most {LIST_MAX:,} numbers."})
            return {"kind": "list", "numbers": [n.strip()[:64] for n in numbers]}
        if self.audience_kind == "outcome":
            if self.outcome not in OUTCOME_KINDS:
                raise Invalid("invalid_audience", "Only the failed recipients of a broadcast can be sent to again.",
                              {"audience": "Choose another audience."})
            return {"kind": "outcome", "broadcast_id": _id(self.outcome_broadcast_id, "audience", "a broadcast"),
                    "outcome": self.outcome}
        return {"kind": "all"}

    def variables_for(self, template: MessageTemplate | None) -> dict[str, Any]:
        values: dict[str, str] = {}
        mapping: dict[str, dict[str, Any]] = {}
        for row in self.rows_for(template):
            if row.source == "fixed":
                if row.value.strip():
                    values[row.key] = row.value
                elif row.fallback.strip():
                    values[row.key] = row.fallback
                else:
                    raise Invalid("template_variable_unmapped", f"Give the text for {row.label} ({row.key}), or "
                                                                "take it from the contact.",
                                  {f"val:{row.key}": "Give the text."})
            else:
                if row.source == "field" and row.value not in CONTACT_FIELDS:
                    raise Invalid("invalid_mapping", "Choose a contact field for each variable.",
                                  {f"val:{row.key}": "Choose a contact field."})
                if row.source == "attribute" and not row.value.strip():
                    raise Invalid("invalid_mapping", "Choose the attribute a variable comes from.",
                                  {f"val:{row.key}": "Choose an attribute."})
                mapping[row.key] = {"source": row.source, "value": row.value.strip(),
                                    "fallback": row.fallback.strip() or None}
        return {"values": values, "mapping": mapping}

    def retry_days(self) -> int:
        text = self.retry_days_131049.strip()
        if not text.isdecimal() or not 0 <= int(text) <= 7:
            raise Invalid("invalid_input", "Retry on 0 to 7 following days.",
                          {"retry_days_131049": "A whole number from 0 to 7."})
        return int(text)

    def scheduled_at(self, timezone: str) -> datetime:
        """The datetime-local value read in the organization's time zone, as UTC-aware; Invalid if missing."""
        text = self.scheduled_local.strip()
        try:
            local = datetime.fromisoformat(text) if text else None
        except ValueError:
            local = None
        if local is None or local.tzinfo is not None or not 2000 <= local.year <= 2100:
            raise Invalid("invalid_schedule", "Choose the date and time to send it.",
                          {"scheduled_local": "Choose a date and time."})
        return local.replace(tzinfo=ZoneInfo(timezone))


def _id(raw: str, field: str, what: str) -> int:
    text = raw.strip()
    if text.isdecimal() and len(text) <= 18 and int(text) >= 1:
        return int(text)
    raise Invalid("missing_field", f"Choose {what}.", {field: f"Choose {what}."})


def form_id(raw: str) -> int | None:
    text = raw.strip()
    return int(text) if text.isdecimal() and len(text) <= 18 and int(text) >= 1 else None


def _label(key: str) -> str:
    component, _, name = key.partition(".")
    if key == "header":
        return "Header media or location"
    if component == "button":
        return f"Button {int(name) + 1 if name.isdecimal() else name}"
    return f"{{{{{name}}}}} in the {component}"


def numbers_in_file(data: bytes) -> list[str]:
    """Numbers from a CSV or TXT upload (UTF-8, with or without BOM, else Latin-1): the column headed phone, mobile,
    number or WhatsApp when there is such a header, else every cell with a digit in it."""
    if len(data) > FILE_MAX:
        raise Invalid("file_too_large", f"Upload a list of at most {FILE_MAX // 1_000_000} MB.",
                      {"numbers_file": "Too large."})
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    found: list[str] = []
    column: int | None = None
    try:
        for i, row in enumerate(csv.reader(io.StringIO(text.replace("\x00", "")))):
            if i == 0 and not any(ch.isdigit() for cell in row for ch in cell):
                column = next((j for j, cell in enumerate(row) if _HEADER.search(cell)), None)
                continue
            cells = [row[column]] if column is not None and column < len(row) else row
            found.extend(cell.strip()[:64] for cell in cells if any(ch.isdigit() for ch in cell))
            if len(found) > LIST_MAX:
                break
    except csv.Error as exc:
        raise Invalid("invalid_file", "This file can't be read as a list of numbers (CSV or TXT).",
                      {"numbers_file": str(exc)[:200]}) from None
    return found[:LIST_MAX + 1]


_HEADER = re.compile(r"phone|mobile|number|whats|wa_id|msisdn", re.IGNORECASE)
