"""A segment's definition: a tree of groups and conditions, checked and normalised before it is stored or compiled.

    {"all": [                                                    # every child must hold ("any": at least one)
        {"field": "tags", "op": "has_any", "value": ["VIP", "Pune"]},
        {"field": "attribute", "key": "orders", "op": "gte", "value": 3},
        {"any": [{"field": "consent", "op": "is", "value": "opted_in"},
                 {"field": "last_inbound", "op": "within_days", "value": 30}]}]}

Fields and their operators (`value` as shown):
- tags: has_any | has_all | has_none — a list of tag names (case and spacing don't matter).
- attribute (with `key`), by the attribute's type — empty | not_empty (no value) for every type, and
  text: equals | not_equals | contains — text; number: equals | gt | gte | lt | lte — a number, between — [low, high];
  date: equals | before | after — a date, between — [from, to], within_last_days — days (from N days ago
  up to today, in the organization's time zone);
  boolean: is — true/false; choice: in | not_in — a list of the attribute's options.
- consent: is | is_not — opted_in | opted_out | blocked | never_asked.
- last_inbound (the customer's latest message): within_days | not_within_days — days; before | after — a date
  (in the organization's time zone); never | ever (no value).
- window: is — open | closed (a 24-hour customer service window is open on any of the organization's numbers).
- source: in | not_in — import, api, dashboard, inbound, ad (ad: the customer wrote through a Click-to-WhatsApp ad
  or a Page button at least once).
- conversation: is — unread | has_conversation | no_conversation.
- broadcast: outcome | not_outcome — {"broadcast_id": 12, "outcome": "read"}: what happened to the contact in one of
  the organization's broadcasts (retargeting). Outcomes: sent, delivered, not_delivered, read, not_read, replied,
  not_replied, failed, skipped (OUTCOMES below). `not_outcome` also holds for contacts who were not in it at all.

Empty groups hold no condition and are dropped (an empty definition is every contact). Each broken condition is
reported under its path (`definition.all[1].value`), all at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from softdukan.contact.attribute_values import AttributeValueError, coerce
from softdukan.contact.models import BOOLEAN, CHOICE, DATE, NUMBER, TEXT, ContactAttribute
from softdukan.contact.repository import tag_key
from softdukan.kit.ids import MAX_ID
from softdukan.platform.errors import Invalid

MAX_DEPTH = 4  # the root group is depth 1
MAX_CONDITIONS = 50
MAX_LIST = 50
MAX_DAYS = 3650
TAG_MAX = 40

FIELDS = ("tags", "attribute", "consent", "last_inbound", "window", "source", "conversation", "broadcast")
NO_VALUE = frozenset({"empty", "not_empty", "never", "ever"})
OPS_BY_TYPE: dict[str, tuple[str, ...]] = {
    TEXT: ("equals", "not_equals", "contains", "empty", "not_empty"),
    NUMBER: ("equals", "gt", "gte", "lt", "lte", "between", "empty", "not_empty"),
    DATE: ("equals", "before", "after", "between", "within_last_days", "empty", "not_empty"),
    BOOLEAN: ("is", "empty", "not_empty"),
    CHOICE: ("in", "not_in", "empty", "not_empty"),
}
OPS: dict[str, tuple[str, ...]] = {
    "tags": ("has_any", "has_all", "has_none"),
    "consent": ("is", "is_not"),
    "last_inbound": ("within_days", "not_within_days", "before", "after", "never", "ever"),
    "window": ("is",),
    "source": ("in", "not_in"),
    "conversation": ("is",),
    "broadcast": ("outcome", "not_outcome"),
}
# what happened to a recipient of a broadcast (segment/compile.py says how each is read)
OUTCOMES = ("sent", "delivered", "not_delivered", "read", "not_read", "replied", "not_replied", "failed", "skipped")
CHOICES: dict[str, tuple[str, ...]] = {
    "consent": ("opted_in", "opted_out", "blocked", "never_asked"),
    "window": ("open", "closed"),
    "source": ("import", "api", "dashboard", "inbound", "ad"),
    "conversation": ("unread", "has_conversation", "no_conversation"),
}


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: Any = None  # normalised: list[str] of tag keys / choices, int days, a number, "YYYY-MM-DD", [low, high] …
    key: str | None = None  # the attribute's key
    type: str | None = None  # the attribute's type

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"field": self.field}
        if self.key is not None:
            out["key"] = self.key
        out["op"] = self.op
        if self.op not in NO_VALUE:
            out["value"] = self.value
        return out


@dataclass(frozen=True)
class Group:
    mode: str  # all | any
    children: tuple[Condition | Group, ...]

    def to_json(self) -> dict[str, Any]:
        return {self.mode: [c.to_json() for c in self.children]}

    @property
    def flat(self) -> bool:
        """Only conditions, no nested groups (what the dashboard's row builder edits)."""
        return all(isinstance(c, Condition) for c in self.children)


class _Parser:
    def __init__(self, attributes: dict[str, ContactAttribute]) -> None:
        self.attributes = attributes
        self.errors: dict[str, str] = {}
        self.count = 0

    def fail(self, path: str, message: str) -> None:
        self.errors.setdefault(path, message)

    def group(self, raw: Any, path: str, depth: int) -> Group | None:
        if not isinstance(raw, dict):
            self.fail(path, 'Expected a group: {"all": [...]} or {"any": [...]}.')
            return None
        modes = [m for m in ("all", "any") if m in raw]
        if len(modes) != 1 or len(raw) != 1:
            self.fail(path, 'A group has exactly one key, "all" or "any", holding a list of conditions.')
            return None
        mode = modes[0]
        items = raw[mode]
        if not isinstance(items, list):
            self.fail(f"{path}.{mode}", "Expected a list of conditions.")
            return None
        if depth > MAX_DEPTH:
            self.fail(path, f"Groups can be nested at most {MAX_DEPTH} deep.")
            return None
        children: list[Condition | Group] = []
        for i, item in enumerate(items):
            child_path = f"{path}.{mode}[{i}]"
            if isinstance(item, dict) and ("all" in item or "any" in item) and "field" not in item:
                group = self.group(item, child_path, depth + 1)
                if group is not None and group.children:
                    children.append(group)
            else:
                condition = self.condition(item, child_path)
                if condition is not None:
                    children.append(condition)
        return Group(mode, tuple(children))

    def condition(self, raw: Any, path: str) -> Condition | None:
        self.count += 1
        if self.count > MAX_CONDITIONS:
            self.fail("definition", f"A segment can have at most {MAX_CONDITIONS} conditions.")
            return None
        if not isinstance(raw, dict):
            self.fail(path, 'Expected a condition: {"field": …, "op": …, "value": …}.')
            return None
        extra = set(raw) - {"field", "op", "value", "key"}
        if extra:
            self.fail(path, f"Unknown keys: {', '.join(sorted(str(k)[:30] for k in extra))}.")
            return None
        field, op = raw.get("field"), raw.get("op")
        if field not in FIELDS:
            self.fail(f"{path}.field", f"Choose a field: {', '.join(FIELDS)}.")
            return None
        key, type_ = None, None
        if field == "attribute":
            key = raw.get("key")
            attribute = self.attributes.get(key) if isinstance(key, str) else None
            if attribute is None:
                self.fail(f"{path}.key", "No contact attribute with this key; define it in Settings → "
                                         "Contact attributes." if isinstance(key, str) and key
                          else "Name the attribute (its key).")
                return None
            type_ = attribute.type
            ops = OPS_BY_TYPE.get(type_, ("empty", "not_empty"))
        else:
            if "key" in raw:
                self.fail(f"{path}.key", "Only attribute conditions take a key.")
                return None
            ops = OPS[field]
        if op not in ops:
            label = f"a {type_} attribute" if type_ else field
            self.fail(f"{path}.op", f"For {label} choose one of: {', '.join(ops)}.")
            return None
        if op in NO_VALUE:
            if raw.get("value") not in (None, "", []):
                self.fail(f"{path}.value", f"'{op}' takes no value.")
                return None
            return Condition(field, op, None, key, type_)
        if "value" not in raw or raw["value"] is None:
            self.fail(f"{path}.value", "Give a value.")
            return None
        try:
            value = self.value(field, op, raw["value"], self.attributes[key] if key else None)
        except AttributeValueError as exc:
            self.fail(f"{path}.value", str(exc))
            return None
        return Condition(field, op, value, key, type_)

    def value(self, field: str, op: str, raw: Any, attribute: ContactAttribute | None) -> Any:
        if op in ("within_days", "not_within_days", "within_last_days"):
            return _days(raw)
        if field == "broadcast":
            return _outcome(raw)
        if field == "tags":
            names = _text_list(raw)
            if any(len(n) > TAG_MAX for n in names):
                raise AttributeValueError(f"A tag has at most {TAG_MAX} characters.")
            unique: dict[str, str] = {}
            for n in names:
                unique.setdefault(tag_key(n), n)
            return list(unique.values())  # as written; compared case-folded (compile.py)
        if field in CHOICES:
            allowed = CHOICES[field]
            values = _text_list(raw) if field == "source" else [_one_text(raw)]
            wrong = [v for v in values if v not in allowed]
            if wrong:
                raise AttributeValueError(f"Choose from: {', '.join(allowed)}.")
            return sorted(set(values)) if field == "source" else values[0]
        if field == "last_inbound":  # before | after
            return _date_value(raw)
        assert attribute is not None
        if op == "between":
            if not isinstance(raw, list) or len(raw) != 2:
                raise AttributeValueError("Expected two values: [from, to].")
            low, high = (_typed(attribute, v) for v in raw)
            if low > high:  # type: ignore[operator]
                raise AttributeValueError("The first value must not be above the second.")
            return [low, high]
        if attribute.type == CHOICE:  # in | not_in
            return sorted({str(_typed(attribute, v)) for v in _text_list(raw)})
        if attribute.type == BOOLEAN and not isinstance(raw, bool | str | int):
            raise AttributeValueError("Expected true or false.")
        return _typed(attribute, raw)


def _typed(attribute: ContactAttribute, raw: Any) -> Any:
    if isinstance(raw, list | dict):
        raise AttributeValueError("Expected a single value.")
    value = coerce(attribute.type, list(attribute.options or []), raw)
    if value is None:
        raise AttributeValueError("Give a value.")
    return value


def _days(raw: Any) -> int:
    if isinstance(raw, str) and raw.strip().isdecimal() and len(raw.strip()) <= 6:
        raw = int(raw.strip())
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= MAX_DAYS:
        raise AttributeValueError(f"Expected a whole number of days from 1 to {MAX_DAYS}.")
    return raw


def _outcome(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict) or set(raw) != {"broadcast_id", "outcome"}:
        raise AttributeValueError('Expected {"broadcast_id": …, "outcome": …}.')
    broadcast_id, outcome = raw["broadcast_id"], raw["outcome"]
    if isinstance(broadcast_id, str) and broadcast_id.strip().isdecimal() and len(broadcast_id.strip()) <= 19:
        broadcast_id = int(broadcast_id.strip())
    if isinstance(broadcast_id, bool) or not isinstance(broadcast_id, int) or not 1 <= broadcast_id <= MAX_ID:
        raise AttributeValueError("Name the broadcast by its id.")
    if outcome not in OUTCOMES:
        raise AttributeValueError(f"Choose an outcome: {', '.join(OUTCOMES)}.")
    return {"broadcast_id": broadcast_id, "outcome": outcome}


def _one_text(raw: Any) -> str:
    if not isinstance(raw, str):
        raise AttributeValueError("Expected text.")
    return raw.strip()


def _text_list(raw: Any) -> list[str]:
    if isinstance(raw, str):
        raw = [part for part in raw.split(",")]
    if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
        raise AttributeValueError("Expected a list of text values.")
    values = [" ".join(v.split()) for v in raw if v.strip()]
    if not values:
        raise AttributeValueError("Give at least one value.")
    if len(values) > MAX_LIST:
        raise AttributeValueError(f"Give at most {MAX_LIST} values.")
    return values


def _date_value(raw: Any) -> str:
    value = coerce(DATE, [], raw) if isinstance(raw, str) else None
    if not isinstance(value, str):
        raise AttributeValueError("Expected a date as YYYY-MM-DD (or DD/MM/YYYY).")
    return value


def parse_definition(raw: Any, attributes: list[ContactAttribute], path: str = "definition") -> Group:
    """The checked, normalised tree; Invalid naming each broken condition's path otherwise."""
    parser = _Parser({a.key: a for a in attributes})
    group = parser.group(raw if raw not in (None, {}) else {"all": []}, path, 1)
    if parser.errors or group is None:
        raise Invalid("invalid_segment_definition", "Some conditions of the segment need fixing.",
                      parser.errors or {path: "Invalid."})
    return group
