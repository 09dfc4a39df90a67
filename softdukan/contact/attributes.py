"""Custom contact attributes: the organization's definitions (key, label, type, choice options) and the check of
contacts' values against them. Services never commit."""

from __future__ import annotations

from typing import Any

from softdukan.auth.service import clean_name
from softdukan.auth.subject import Subject
from softdukan.contact.attribute_values import KEY_PATTERN, AttributeValueError, coerce
from softdukan.contact.models import ATTRIBUTE_TYPES, CHOICE, ContactAttribute
from softdukan.contact.repository import AttributeRepository
from softdukan.platform.errors import Conflict, Invalid, NotFound
from softdukan.platform.uow import UnitOfWork

MAX_ATTRIBUTES = 100
MAX_OPTIONS, OPTION_MAX = 50, 60
LABEL_MAX = 80
# names of the contact's own fields: an attribute can't shadow them in imports, exports and templates
RESERVED = frozenset({"phone", "wa_id", "name", "profile_name", "tags", "id", "source", "opt_in_source",
                      "opted_in_at", "opted_out_at", "blocked_at", "created_at", "updated_at"})


def clean_options(type_: str, options: list[str] | None) -> list[str]:
    if type_ != CHOICE:
        return []
    cleaned: list[str] = []
    for option in options or []:
        text = " ".join(str(option).split())
        if text and text.casefold() not in {o.casefold() for o in cleaned}:
            cleaned.append(text)
    if not cleaned:
        raise Invalid("invalid_attribute", "A choice attribute needs at least one option.",
                      {"options": "Give at least one option."})
    if len(cleaned) > MAX_OPTIONS or any(len(o) > OPTION_MAX for o in cleaned):
        raise Invalid("invalid_attribute", f"Use at most {MAX_OPTIONS} options of {OPTION_MAX} characters each.",
                      {"options": f"At most {MAX_OPTIONS} options, {OPTION_MAX} characters each."})
    return cleaned


def check_values(definitions: list[ContactAttribute], raw: dict[str, Any]) -> dict[str, Any]:
    """{key: stored value or None (remove)} for `raw`; Invalid naming each bad key (`attributes.<key>`)."""
    by_key = {d.key: d for d in definitions}
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key, value in raw.items():
        definition = by_key.get(key)
        if definition is None:
            errors[f"attributes.{str(key)[:60]}"] = "No such attribute; define it in Settings → Contact attributes."
            continue
        try:
            values[key] = coerce(definition.type, definition.options, value)
        except AttributeValueError as exc:
            errors[f"attributes.{key}"] = f"{definition.label}: {exc}"
    if errors:
        raise Invalid("invalid_attribute_value", "Some attribute values don't fit their type.", errors)
    return values


def merge_values(current: dict[str, Any] | None, changes: dict[str, Any]) -> dict[str, Any]:
    merged = dict(current or {})
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


class AttributeService:
    async def list(self, uow: UnitOfWork, subject: Subject) -> list[ContactAttribute]:
        subject.require("contacts:read")
        return await AttributeRepository(uow.session).all_of(subject)

    async def get(self, uow: UnitOfWork, subject: Subject, attribute_id: int) -> ContactAttribute:
        subject.require("contacts:read")
        attribute = await AttributeRepository(uow.session).get(subject, attribute_id)
        if attribute is None:
            raise NotFound("attribute_not_found", "No such contact attribute in this organization.")
        return attribute

    async def create(self, uow: UnitOfWork, subject: Subject, *, key: str, label: str, type_: str,
                     options: list[str] | None = None) -> ContactAttribute:
        subject.require("contact_attributes:write")
        attributes = AttributeRepository(uow.session)
        key = key.strip().lower()
        if not KEY_PATTERN.match(key):
            raise Invalid("invalid_attribute", "The key must start with a letter and use only a-z, 0-9 and _ "
                                               "(at most 40 characters).", {"key": "Use a-z, 0-9 and _ ."})
        if key in RESERVED:
            raise Invalid("invalid_attribute", f"'{key}' is a built-in contact field.",
                          {"key": "Choose another key; this one is a built-in field."})
        if type_ not in ATTRIBUTE_TYPES:
            raise Invalid("invalid_attribute", f"The type must be one of {', '.join(ATTRIBUTE_TYPES)}.",
                          {"type": "Choose a type."})
        label_text = clean_name(label, "label", "The label", max_length=LABEL_MAX)
        cleaned = clean_options(type_, options)
        if await attributes.by_key(subject, key) is not None:
            raise Conflict("attribute_key_taken", f"An attribute with the key '{key}' exists already.",
                           {"key": "Taken."})
        if len(await attributes.all_of(subject)) >= MAX_ATTRIBUTES:
            raise Conflict("too_many_attributes", f"An organization can define at most {MAX_ATTRIBUTES} attributes.")
        return attributes.add(ContactAttribute(organization_id=subject.organization_id, key=key, label=label_text,
                                               type=type_, options=cleaned, created_at=uow.clock.now()))

    async def update(self, uow: UnitOfWork, subject: Subject, attribute_id: int, *, label: str | None,
                     options: list[str] | None) -> ContactAttribute:
        """Label and choice options can change; key and type can't (stored values depend on them). Removing an
        option leaves contacts that hold it as they are until they are edited."""
        subject.require("contact_attributes:write")
        attribute = await self.get(uow, subject, attribute_id)
        if label is not None:
            attribute.label = clean_name(label, "label", "The label", max_length=LABEL_MAX)
        if options is not None and attribute.type == CHOICE:
            attribute.options = clean_options(attribute.type, options)
        return attribute

    async def delete(self, uow: UnitOfWork, subject: Subject, attribute_id: int) -> None:
        """The definition and every contact's value of it go (the key may be reused with another type)."""
        subject.require("contact_attributes:write")
        attribute = await self.get(uow, subject, attribute_id)
        attributes = AttributeRepository(uow.session)
        await attributes.remove_values(subject, attribute.key)
        await attributes.delete(attribute)


attribute_service = AttributeService()
