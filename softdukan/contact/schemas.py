"""Wire shapes of /v1/contacts and /v1/contact-attributes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from softdukan.contact.directory import ContactView
from softdukan.contact.models import ContactAttribute, ContactNote

AttributeValue = str | int | float | bool | None


class ContactIn(BaseModel):
    phone: str = Field(max_length=40, description="Any common format; without '+' it is read in the "
                                                  "organization's country. Stored as E.164 digits.")
    name: str | None = Field(default=None, max_length=200)
    attributes: dict[str, AttributeValue] = Field(default_factory=dict, max_length=100,
                                                  description="{key: value} of defined contact attributes")
    tags: list[str] = Field(default_factory=list, max_length=30)
    opt_in_source: str | None = Field(default=None, max_length=40,
                                      description="Record that the contact agreed to messages, and where")


class ContactPatch(BaseModel):
    phone: str | None = Field(default=None, max_length=40)
    name: str | None = Field(default=None, max_length=200, description="\"\" clears the name")
    attributes: dict[str, AttributeValue] | None = Field(default=None, max_length=100,
                                                         description="merged; a null value removes the attribute")
    tags: list[str] | None = Field(default=None, max_length=30, description="replaces the contact's tags")


class ContactOut(BaseModel):
    id: int
    wa_id: str
    phone: str
    name: str | None
    profile_name: str | None
    display_name: str
    source: str
    attributes: dict[str, Any]
    tags: list[str]
    opt_in_source: str | None
    opted_in_at: datetime | None
    opted_out_at: datetime | None
    blocked_at: datetime | None
    first_seen_at: datetime
    last_inbound_at: datetime | None
    created_at: datetime


class ContactPage(BaseModel):
    data: list[ContactOut]
    next_cursor: str | None


class NoteIn(BaseModel):
    text: str = Field(min_length=1, max_length=5000)


class NoteOut(BaseModel):
    id: int
    contact_id: int
    author: str
    text: str
    created_at: datetime


class AttributeIn(BaseModel):
    key: str = Field(max_length=40, description="a-z, 0-9 and _, starting with a letter")
    label: str = Field(max_length=80)
    type: Literal["text", "number", "date", "boolean", "choice"]
    options: list[str] = Field(default_factory=list, max_length=50)


class AttributePatch(BaseModel):
    label: str | None = Field(default=None, max_length=80)
    options: list[str] | None = Field(default=None, max_length=50)


class AttributeOut(BaseModel):
    id: int
    key: str
    label: str
    type: str
    options: list[str]
    created_at: datetime


def contact_out(view: ContactView) -> ContactOut:
    c = view.contact
    return ContactOut(id=c.id, wa_id=c.wa_id, phone=c.phone, name=c.name, profile_name=c.profile_name,
                      display_name=c.display_name, source=c.source, attributes=dict(c.attributes or {}),
                      tags=[t.name for t in view.tags], opt_in_source=c.opt_in_source, opted_in_at=c.opted_in_at,
                      opted_out_at=c.opted_out_at, blocked_at=c.blocked_at, first_seen_at=c.first_seen_at,
                      last_inbound_at=c.last_inbound_at, created_at=c.created_at)


def note_out(note: ContactNote) -> NoteOut:
    return NoteOut(id=note.id, contact_id=note.contact_id, author=note.author_label, text=note.text,
                   created_at=note.created_at)


def attribute_out(a: ContactAttribute) -> AttributeOut:
    return AttributeOut(id=a.id, key=a.key, label=a.label, type=a.type, options=list(a.options or []),
                        created_at=a.created_at)
