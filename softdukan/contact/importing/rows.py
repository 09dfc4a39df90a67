"""The column mapping of an import and what one row becomes: a number, a name, tags and attribute values, or
the reason the row is refused. Pure functions."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from softdukan.contact.attribute_values import AttributeValueError, coerce
from softdukan.contact.directory import NAME_MAX, TAG_MAX, TAGS_PER_CONTACT
from softdukan.contact.importing.models import NAME, PHONE, SKIP, TAGS
from softdukan.contact.models import ContactAttribute
from softdukan.contact.phones import PhoneError, normalize_phone
from softdukan.contact.repository import tag_key
from softdukan.platform.errors import Invalid

ATTR = "attr:"
_TAG_SPLIT = re.compile(r"[,;|]")
# header names that map themselves in the suggested mapping
_GUESS = {PHONE: ("phone", "mobile", "number", "whatsapp", "phone number", "mobile number", "contact number",
                  "whatsapp number", "cell", "msisdn"),
          NAME: ("name", "full name", "customer name", "contact name", "customer"),
          TAGS: ("tags", "tag", "labels", "groups")}


class RowError(ValueError):
    """Why this row is not imported."""


@dataclass(frozen=True)
class AttributeSpec:
    """What parsing needs of an attribute definition (plain data: it crosses to the helper process)."""

    key: str
    label: str
    type: str
    options: list[str]

    @classmethod
    def of(cls, definition: ContactAttribute) -> AttributeSpec:
        return cls(definition.key, definition.label, definition.type, list(definition.options or []))


@dataclass
class ParsedRow:
    wa_id: str
    name: str | None
    tags: list[str] = field(default_factory=list)
    attributes: dict[str, Any] = field(default_factory=dict)
    row_number: int = 0  # the file's row that first gave this number (as a spreadsheet shows it)


def suggest(headers: list[str], definitions: list[ContactAttribute]) -> dict[str, str]:
    """A first mapping guessed from the column names (the person confirms or changes it)."""
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    by_name = {d.key: d for d in definitions} | {d.label.casefold(): d for d in definitions}
    for index, header in enumerate(headers):
        name = header.strip().casefold().replace("_", " ")
        target = next((t for t, names in _GUESS.items() if name in names), None)
        if target is None and (name in by_name or name.replace(" ", "_") in by_name):
            target = ATTR + (by_name.get(name) or by_name[name.replace(" ", "_")]).key
        if target and target not in taken:
            mapping[str(index)] = target
            taken.add(target)
    return mapping


def check_mapping(raw: dict[str, str], headers: list[str], definitions: list[ContactAttribute]) -> dict[str, str]:
    """{column index: target} with skipped columns left out; Invalid naming the problem otherwise."""
    keys = {d.key for d in definitions}
    mapping: dict[str, str] = {}
    seen: dict[str, str] = {}
    for column, target in raw.items():
        target = (target or "").strip()
        if not column.isdecimal() or int(column) >= len(headers) or target == SKIP:
            continue
        if target not in (PHONE, NAME, TAGS) and not (target.startswith(ATTR) and target[len(ATTR):] in keys):
            raise Invalid("invalid_mapping", f"'{target[:40]}' is not a contact field or attribute.",
                          {f"col_{column}": "Unknown field."})
        if target in seen:
            raise Invalid("invalid_mapping", f"Two columns ('{headers[int(seen[target])]}' and "
                                             f"'{headers[int(column)]}') are mapped to the same field.",
                          {f"col_{column}": "Already mapped by another column."})
        seen[target] = column
        mapping[column] = target
    if PHONE not in seen:
        raise Invalid("missing_phone_column", "Choose the column that holds the phone numbers.",
                      {"mapping": "No column is mapped to Phone."})
    return mapping


def parse_row(cells: list[str], mapping: dict[str, str], definitions: Mapping[str, AttributeSpec],
              region: str) -> ParsedRow:
    def cell(column: str) -> str:
        index = int(column)
        return cells[index].strip() if index < len(cells) else ""

    phone_column = next(c for c, t in mapping.items() if t == PHONE)
    try:
        wa_id = normalize_phone(cell(phone_column), region)
    except PhoneError as exc:
        raise RowError(f"Phone: {exc}") from None
    row = ParsedRow(wa_id=wa_id, name=None)
    problems: list[str] = []
    for column, target in mapping.items():
        value = cell(column)
        if target == NAME:
            row.name = " ".join(value.split())[:NAME_MAX] or None
        elif target == TAGS:
            tags: dict[str, str] = {}
            for part in _TAG_SPLIT.split(value):
                text = " ".join(part.split())
                if len(text) > TAG_MAX:
                    problems.append(f"Tag '{text[:20]}…' is longer than {TAG_MAX} characters.")
                elif text:
                    tags.setdefault(tag_key(text), text)
            if len(tags) > TAGS_PER_CONTACT:
                problems.append(f"At most {TAGS_PER_CONTACT} tags per contact.")
            row.tags = list(tags.values())
        elif target.startswith(ATTR):
            definition = definitions[target[len(ATTR):]]
            try:
                stored = coerce(definition.type, definition.options, value)
            except AttributeValueError as exc:
                problems.append(f"{definition.label}: {exc}")
                continue
            if stored is not None:
                row.attributes[definition.key] = stored
    if problems:
        raise RowError(" ".join(problems))
    return row
