"""Contacts: the customers an organization talks to on WhatsApp, with their tags, notes, typed attributes and
consent history.

Custom attribute values live in one JSON column, `Contact.attributes` ({key: value}), keyed by the
organization's `ContactAttribute.key`. Values are stored already validated and normalised by type (text and
choice: str, number: JSON number, date: "YYYY-MM-DD" so it sorts and compares as text, boolean: true/false), so
segments can filter on them in SQL with SQLAlchemy's JSON element access
(`Contact.attributes[key].as_string() / .as_float() / .as_boolean()`: `json_extract` on SQLite, `->>` on
PostgreSQL). A value table was not needed: one contact has few attributes and is always read whole.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from softdukan.kit.db import BigId, TenantModel, UTCDateTime, utcnow

# Contact.source: how we first learned of the contact (segments filter on it)
SOURCE_INBOUND, SOURCE_DASHBOARD, SOURCE_API, SOURCE_IMPORT = "inbound", "dashboard", "api", "import"

# ContactAttribute.type
TEXT, NUMBER, DATE, BOOLEAN, CHOICE = "text", "number", "date", "boolean", "choice"
ATTRIBUTE_TYPES = (TEXT, NUMBER, DATE, BOOLEAN, CHOICE)

# ContactEvent.kind: consent and state changes shown on the timeline
OPTED_IN, OPTED_OUT, BLOCKED, UNBLOCKED, CREATED = "opted_in", "opted_out", "blocked", "unblocked", "created"


class Contact(TenantModel):
    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("organization_id", "wa_id"),
                      Index("ix_contacts_org_phone", "organization_id", "phone"),
                      # keyset scans of one organization's contacts by id (segment snapshots for broadcasts)
                      Index("ix_contacts_org_id", "organization_id", "id"))

    wa_id: Mapped[str] = mapped_column(String(64))  # WhatsApp id: E.164 digits, no "+"
    phone: Mapped[str] = mapped_column(String(20))  # E.164 digits, no "+" (equals wa_id for WhatsApp users)
    profile_name: Mapped[str | None] = mapped_column(String(200))  # the name the customer set in WhatsApp
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # a `user_changed_number` system message: the number the customer moved to
    changed_number_to: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # the name the business gave the contact (dashboard, API, import); shown before the profile name
    name: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(16), default=SOURCE_INBOUND)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # consent (issue 4 item 2 builds keywords on these; sending refuses opted-out and blocked contacts)
    opt_in_source: Mapped[str | None] = mapped_column(String(40))
    opted_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    blocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def display_name(self) -> str:
        return self.name or self.profile_name or f"+{self.wa_id}"


class ContactAttribute(TenantModel):
    """A custom attribute the organization defined for its contacts."""

    __tablename__ = "contact_attributes"
    __table_args__ = (UniqueConstraint("organization_id", "key"),)

    key: Mapped[str] = mapped_column(String(40))  # lower_snake_case, the key in Contact.attributes
    label: Mapped[str] = mapped_column(String(80))
    type: Mapped[str] = mapped_column(String(10))
    options: Mapped[list[str]] = mapped_column(JSON, default=list)  # the choices of a `choice` attribute


class Tag(TenantModel):
    __tablename__ = "tags"
    __table_args__ = (UniqueConstraint("organization_id", "name_key"),)

    name: Mapped[str] = mapped_column(String(60))
    name_key: Mapped[str] = mapped_column(String(60))  # case-folded: "VIP" and "vip" are one tag


class ContactTag(TenantModel):
    __tablename__ = "contact_tags"
    __table_args__ = (UniqueConstraint("contact_id", "tag_id"),)

    # Not indexed (README rule 16): the contacts page's "tags of these 50 contacts" (organization and contact ids)
    # was planned on an index leading with organization_id while an import grew the table faster than
    # PostgreSQL's statistics, reading every tag row of the organization (up to 100 ms at 100,000 contacts). The
    # unique key serves lookups by contact, `tag_id`'s index those by tag; both rows' owners are this organization's.
    organization_id: Mapped[int] = mapped_column(BigId, ForeignKey("organizations.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(BigId, ForeignKey("contacts.id", ondelete="CASCADE"))
    tag_id: Mapped[int] = mapped_column(BigId, ForeignKey("tags.id", ondelete="CASCADE"), index=True)


class ContactNote(TenantModel):
    __tablename__ = "contact_notes"

    contact_id: Mapped[int] = mapped_column(BigId, ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    author_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    author_label: Mapped[str] = mapped_column(String(254))  # the member's e-mail or the API key's prefix
    text: Mapped[str] = mapped_column(Text)


class ContactEvent(TenantModel):
    """A consent or state change of a contact, for its timeline (newest first)."""

    __tablename__ = "contact_events"

    contact_id: Mapped[int] = mapped_column(BigId, ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    source: Mapped[str | None] = mapped_column(String(40))  # dashboard, api, import, keyword …
    actor_label: Mapped[str | None] = mapped_column(String(254))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
