"""The webhook envelope (reference §5.4): entries per WABA, changes per field, and the `messages` field's value."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from softdukan.whatsapp.webhook.common import (
    PayloadError,
    WebhookError,
    as_dict,
    as_list,
    optional_timestamp,
    required_text,
    text,
)
from softdukan.whatsapp.webhook.messages import InboundMessage, parse_message
from softdukan.whatsapp.webhook.statuses import MessageStatus, PaymentStatus, parse_status

OBJECT = "whatsapp_business_account"


@dataclass(frozen=True, slots=True)
class Change:
    field: str
    value: dict[str, Any]
    path: str  # e.g. "entry[0].changes[1]", for error messages


@dataclass(frozen=True, slots=True)
class Entry:
    waba_id: str
    time: datetime | None  # non-message fields carry it
    changes: tuple[Change, ...]


@dataclass(frozen=True, slots=True)
class Envelope:
    entries: tuple[Entry, ...]

    @property
    def waba_ids(self) -> set[str]:
        return {entry.waba_id for entry in self.entries}


@dataclass(frozen=True, slots=True)
class Metadata:
    phone_number_id: str
    display_phone_number: str | None


@dataclass(frozen=True, slots=True)
class WaContact:
    wa_id: str | None
    profile_name: str | None
    user_id: str | None = None  # business-scoped user id (2026 addition)
    username: str | None = None


@dataclass(frozen=True, slots=True)
class MessagesValue:
    metadata: Metadata
    contacts: tuple[WaContact, ...]
    messages: tuple[InboundMessage, ...]
    statuses: tuple[MessageStatus | PaymentStatus, ...]
    errors: tuple[WebhookError, ...]

    def contact_for(self, wa_id: str) -> WaContact | None:
        for contact in self.contacts:
            if contact.wa_id == wa_id:
                return contact
        return self.contacts[0] if len(self.contacts) == 1 and self.contacts[0].wa_id is None else None


def parse_envelope(data: Any) -> Envelope:
    """The frame only: what is needed to find the accounts and check the signature. Raises PayloadError."""
    if not isinstance(data, dict):
        raise PayloadError("body", "a JSON object is required")
    if data.get("object") != OBJECT:
        raise PayloadError("object", f'"{OBJECT}" is required')
    raw_entries = data.get("entry")
    if not isinstance(raw_entries, list) or not raw_entries:
        raise PayloadError("entry", "a non-empty list is required")
    entries = []
    for i, raw in enumerate(raw_entries):
        path = f"entry[{i}]"
        if not isinstance(raw, dict):
            raise PayloadError(path, "an object is required")
        changes = raw.get("changes")
        if not isinstance(changes, list):
            raise PayloadError(f"{path}.changes", "a list is required")
        parsed = []
        for j, change in enumerate(changes):
            cpath = f"{path}.changes[{j}]"
            if not isinstance(change, dict) or not isinstance(change.get("value"), dict):
                raise PayloadError(cpath, "an object with a `value` object is required")
            parsed.append(Change(field=required_text(change, "field", cpath), value=change["value"], path=cpath))
        entries.append(Entry(waba_id=required_text(raw, "id", path, max_length=64),
                             time=optional_timestamp(raw.get("time")),
                             changes=tuple(parsed)))
    return Envelope(entries=tuple(entries))


def parse_messages_value(change: Change) -> MessagesValue:
    value, path = change.value, f"{change.path}.value"
    metadata = value.get("metadata")
    if not isinstance(metadata, dict):
        raise PayloadError(f"{path}.metadata", "an object is required")
    contacts = tuple(
        WaContact(wa_id=text(c.get("wa_id")), profile_name=text(as_dict(c.get("profile")).get("name")),
                  user_id=text(c.get("user_id")), username=text(as_dict(c.get("profile")).get("username")))
        for c in as_list(value.get("contacts")) if isinstance(c, dict))
    for key in ("messages", "statuses"):
        if key in value and not isinstance(value[key], list):
            raise PayloadError(f"{path}.{key}", "a list is required")
    return MessagesValue(
        metadata=Metadata(phone_number_id=required_text(metadata, "phone_number_id", f"{path}.metadata",
                                                        max_length=64),
                          display_phone_number=text(metadata.get("display_phone_number"))),
        contacts=contacts,
        messages=tuple(parse_message(m, f"{path}.messages[{i}]") for i, m in enumerate(as_list(value.get("messages")))),
        statuses=tuple(parse_status(s, f"{path}.statuses[{i}]") for i, s in enumerate(as_list(value.get("statuses")))),
        errors=WebhookError.parse_all(value.get("errors")))
