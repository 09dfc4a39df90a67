"""The dashboard's condition builder: rows of (field, operator, value) ↔ a flat definition {"all"|"any": [...]}.

Rows are posted as `c<i>_field`, `c<i>_op`, `c<i>_value` (repeated for multi-choice) and `c<i>_value2` (the upper
end of "between"); `match` is "all" or "any". Nested groups are edited as JSON (`definition_json`, "advanced").
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import FormData

from softdukan.contact.models import BOOLEAN, CHOICE, DATE, NUMBER, ContactAttribute
from softdukan.segment.definition import CHOICES, MAX_CONDITIONS, NO_VALUE, OPS, OPS_BY_TYPE, Condition, Group

FIELD_LABELS = {"tags": "Tags", "consent": "Consent", "last_inbound": "Last message from them",
                "window": "24-hour window", "source": "Source", "conversation": "Conversation"}
OP_LABELS = {"has_any": "has any of", "has_all": "has all of", "has_none": "has none of", "equals": "is",
             "not_equals": "is not", "contains": "contains", "empty": "is empty", "not_empty": "is set",
             "gt": "is more than", "gte": "is at least", "lt": "is less than", "lte": "is at most",
             "between": "is between", "before": "is before", "after": "is after",
             "within_last_days": "is within the last … days", "is": "is", "is_not": "is not", "in": "is one of",
             "not_in": "is none of", "within_days": "within the last … days",
             "not_within_days": "not within the last … days", "never": "never", "ever": "at any time"}
CHOICE_LABELS = {"opted_in": "opted in", "opted_out": "opted out", "blocked": "blocked",
                 "never_asked": "never asked", "open": "open now", "closed": "closed",
                 "import": "imported", "api": "API", "dashboard": "added in the dashboard",
                 "inbound": "wrote to us first", "ad": "came through an ad", "unread": "has unread messages",
                 "has_conversation": "has a conversation", "no_conversation": "has no conversation"}
OUTCOME_LABELS = {"sent": "Was sent {b}", "delivered": "Received {b} (delivered)",
                  "not_delivered": "Was sent {b}, not delivered", "read": "Read {b}", "not_read": "Didn't read {b}",
                  "replied": "Replied to {b}", "not_replied": "Didn't reply to {b}", "failed": "{B} failed for them",
                  "skipped": "Was skipped by {b}"}
MULTI = {"source"}  # choice fields whose value is a list
_ROW = re.compile(r"^c(\d{1,3})_field$")


@dataclass
class Row:
    field: str = ""  # "tags", …, or "attr:<key>"
    op: str = ""
    value: str = ""
    value2: str = ""
    values: list[str] = dataclasses.field(default_factory=list)  # multi-choice values

    def kind(self, attributes: dict[str, ContactAttribute]) -> str | None:
        """The attribute type, "choice-field" for consent etc., or None for free values."""
        if self.field.startswith("attr:"):
            attribute = attributes.get(self.field[5:])
            return attribute.type if attribute else None
        return "choice-field" if self.field in CHOICES else None


def ops_for(row_field: str, attributes: dict[str, ContactAttribute]) -> tuple[str, ...]:
    if row_field.startswith("attr:"):
        attribute = attributes.get(row_field[5:])
        return OPS_BY_TYPE.get(attribute.type, ()) if attribute else ()
    return OPS.get(row_field, ())


@dataclass
class BuilderForm:
    match: str = "all"
    rows: list[Row] = dataclasses.field(default_factory=list)
    advanced: bool = False
    definition_json: str = ""

    @classmethod
    def parse(cls, form: FormData, attributes: dict[str, ContactAttribute]) -> BuilderForm:
        builder = cls(match="any" if form.get("match") == "any" else "all", advanced=form.get("advanced") == "1",
                      definition_json=str(form.get("definition_json") or "")[:20_000])
        indices = sorted({int(m.group(1)) for key in form if (m := _ROW.match(key))})[:MAX_CONDITIONS]
        for i in indices:
            row = Row(field=str(form.get(f"c{i}_field") or "")[:60], op=str(form.get(f"c{i}_op") or "")[:30],
                      value=str(form.get(f"c{i}_value") or "")[:1000], value2=str(form.get(f"c{i}_value2") or "")[:100],
                      values=[str(v)[:60] for v in form.getlist(f"c{i}_value")][:MAX_CONDITIONS])
            ops = ops_for(row.field, attributes)
            if row.op not in ops:
                row.op = ops[0] if ops else ""
            builder.rows.append(row)
        return builder

    @classmethod
    def of(cls, group: Group) -> BuilderForm:
        """The builder for a saved definition (advanced JSON when it nests groups or names broadcast outcomes)."""
        if not group.flat or any(isinstance(c, Condition) and c.field == "broadcast" for c in group.children):
            return cls(match=group.mode, advanced=True, definition_json=json.dumps(group.to_json(), indent=2))
        rows = []
        for c in group.children:
            assert isinstance(c, Condition)
            row = Row(field=f"attr:{c.key}" if c.field == "attribute" else c.field, op=c.op)
            if isinstance(c.value, list) and c.op == "between":
                row.value, row.value2 = _text(c.value[0]), _text(c.value[1])
            elif isinstance(c.value, list):
                row.values = [str(v) for v in c.value]
                row.value = ", ".join(row.values)
            elif c.value is not None:
                row.value = _text(c.value)
            rows.append(row)
        return cls(match=group.mode, rows=rows)

    def definition(self, attributes: dict[str, ContactAttribute]) -> Any:
        """The definition the rows describe; (str) JSON text in advanced mode is parsed here (None if not JSON)."""
        if self.advanced:
            try:
                return json.loads(self.definition_json or "{}")
            except ValueError:
                return None
        return {self.match: [self.condition(row, attributes) for row in self.rows if row.field]}

    def condition(self, row: Row, attributes: dict[str, ContactAttribute]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        kind = row.kind(attributes)
        if row.field.startswith("attr:"):
            out = {"field": "attribute", "key": row.field[5:], "op": row.op}
        else:
            out = {"field": row.field, "op": row.op}
        if row.op in NO_VALUE:
            return out
        if row.op == "between":
            out["value"] = [row.value, row.value2]
        elif row.field == "tags" or (kind == CHOICE and row.op in ("in", "not_in")) or row.field in MULTI:
            chosen = row.values if len(row.values) > 1 else row.value.split(",")
            out["value"] = [v.strip() for v in chosen if v.strip()]
        elif kind == BOOLEAN:
            out["value"] = row.value
        elif row.value.strip():
            out["value"] = row.value.strip()
        return out

    def add_row(self) -> None:
        if len(self.rows) < MAX_CONDITIONS:
            self.rows.append(Row(field="tags", op="has_any"))

    def remove_row(self, index: int) -> None:
        if 0 <= index < len(self.rows):
            del self.rows[index]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def row_errors(errors: dict[str, str]) -> tuple[dict[int, str], list[str]]:
    """Definition error paths → the row they belong to (flat builder), and the rest."""
    by_row: dict[int, str] = {}
    other: list[str] = []
    for path, message in errors.items():
        match = re.match(r"^definition\.(?:all|any)\[(\d+)\]", path)
        if match:
            by_row.setdefault(int(match.group(1)), message)
        else:
            other.append(message)
    return by_row, other


def describe(condition: Condition | Group, attributes: dict[str, ContactAttribute],
             broadcast_names: dict[int, str] | None = None) -> str:
    """One line a business owner reads: "Tags has any of VIP, Pune"; "Read broadcast “Diwali offer”"."""
    if isinstance(condition, Group):
        joiner = " and " if condition.mode == "all" else " or "
        parts = [describe(c, attributes, broadcast_names) for c in condition.children]
        return joiner.join(f"({p})" if isinstance(c, Group) else p for c, p in zip(condition.children, parts,
                                                                                      strict=True)) or "Everyone"
    if condition.field == "broadcast":
        return _describe_outcome(condition, broadcast_names or {})
    if condition.field == "attribute":
        attribute = attributes.get(condition.key or "")
        label = attribute.label if attribute else condition.key
    else:
        label = FIELD_LABELS.get(condition.field, condition.field)
    op = OP_LABELS.get(condition.op, condition.op)
    value = condition.value
    if condition.op in NO_VALUE:
        return f"{label} {op}"
    if condition.op == "between":
        return f"{label} {op} {_text(value[0])} and {_text(value[1])}"
    if "…" in op:
        return f"{label} {op.replace('…', str(value))}"
    if isinstance(value, list):
        shown = ", ".join(CHOICE_LABELS.get(str(v), str(v)) for v in value)
    else:
        shown = CHOICE_LABELS.get(str(value), _text(value)) if isinstance(value, str | bool) else _text(value)
    return f"{label} {op} {shown}"


def _describe_outcome(condition: Condition, names: dict[int, str]) -> str:
    broadcast_id, outcome = condition.value["broadcast_id"], condition.value["outcome"]
    name = f"broadcast “{names[broadcast_id]}”" if broadcast_id in names else f"broadcast #{broadcast_id}"
    text = OUTCOME_LABELS.get(outcome, "{B}: " + outcome).format(b=name, B=name[0].upper() + name[1:])
    return text if condition.op == "outcome" else f"Not: {text[0].lower()}{text[1:]}"


def field_choices(attributes: Sequence[ContactAttribute]) -> list[tuple[str, str]]:
    return [*FIELD_LABELS.items(), *[(f"attr:{a.key}", f"Attribute: {a.label}") for a in attributes]]


def value_widget(row: Row, attributes: dict[str, ContactAttribute]) -> str:
    """How the value is entered: none | text | number | date | days | boolean | select | multi | between-number |
    between-date | tags."""
    if row.op in NO_VALUE or not row.field:
        return "none"
    if row.op in ("within_days", "not_within_days", "within_last_days"):
        return "days"
    if row.field == "tags":
        return "tags"
    if row.field in CHOICES:
        return "multi" if row.field in MULTI else "select"
    if row.field == "last_inbound":
        return "date"
    kind = row.kind(attributes)
    if row.op == "between":
        return "between-date" if kind == DATE else "between-number"
    if kind == CHOICE:
        return "multi"
    return {NUMBER: "number", DATE: "date", BOOLEAN: "boolean"}.get(kind or "", "text")


def options_for(row: Row, attributes: dict[str, ContactAttribute]) -> list[tuple[str, str]]:
    if row.field in CHOICES:
        return [(v, CHOICE_LABELS.get(v, v)) for v in CHOICES[row.field]]
    attribute = attributes.get(row.field[5:]) if row.field.startswith("attr:") else None
    return [(o, o) for o in (attribute.options or [])] if attribute else []
