"""Consent keywords (issue 4 item 2): the organization's own opt-out / opt-in words and confirmation replies, the
template quick-reply buttons it marked "stop promotions", and what consent did with each inbound message.

A stop-promotions mark is keyed by (template_id, button_index): the index of the QUICK_REPLY button in the
template's BUTTONS component. A customer's tap arrives as a `button` message whose context is the template
message's wamid; our outbound row of that wamid names the template (`content.template_id`), and the tapped button's
index is found by the payload we sent for it, else by its text (contact/keywords.py `tapped_button`).

`InboundConsentAction` has one row per inbound message consent acted on, unique by message: routing the same
message twice can never opt out or reply twice. `route_to_automations` is False for a keyword or marked button
(the customer's words were handled here) and for every message of a blocked contact: the automation engine (a
later issue) must skip messages with such a row (`contact.keywords.automations_allowed`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from softdukan.kit.db import BigId, TenantModel, UTCDateTime, utcnow

# InboundConsentAction.action
KEYWORD_OPT_OUT, KEYWORD_OPT_IN, BLOCKED_INBOUND = "opted_out", "opted_in", "blocked_inbound"


class ConsentSettings(TenantModel):
    """One row per organization (created on first save); no row means the defaults."""

    __tablename__ = "consent_settings"
    __table_args__ = (UniqueConstraint("organization_id"),)

    opt_out_words: Mapped[list[str]] = mapped_column(JSON, default=list)  # besides STOP and UNSUBSCRIBE
    opt_in_words: Mapped[list[str]] = mapped_column(JSON, default=list)  # besides START
    opt_out_reply: Mapped[str | None] = mapped_column(Text)  # None: the default text
    opt_in_reply: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StopButton(TenantModel):
    """A template's quick-reply button that opts the customer out of marketing when tapped."""

    __tablename__ = "template_stop_buttons"
    __table_args__ = (UniqueConstraint("template_id", "button_index"),)

    template_id: Mapped[int] = mapped_column(BigId, ForeignKey("message_templates.id", ondelete="CASCADE"))
    button_index: Mapped[int] = mapped_column(Integer)


class InboundConsentAction(TenantModel):
    """What consent did with one inbound message (see the module docstring)."""

    __tablename__ = "inbound_consent_actions"
    __table_args__ = (UniqueConstraint("message_id"),)

    message_id: Mapped[int] = mapped_column(BigId, ForeignKey("messages.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(BigId, ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    trigger: Mapped[str | None] = mapped_column(String(120))  # 'keyword "stop"', 'button 1 of template 7' …
    route_to_automations: Mapped[bool] = mapped_column(Boolean, default=False)
    reply_message_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("messages.id", ondelete="SET NULL"))
    reply_skipped: Mapped[str | None] = mapped_column(String(200))  # why no confirmation was sent
