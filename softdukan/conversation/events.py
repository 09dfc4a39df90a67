"""Live events of conversations (published after commit)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from softdukan.platform.events import Event


@dataclass(frozen=True, kw_only=True)
class MessageReceived(Event):
    """A customer's message (or a system notice) was added to a conversation."""

    type: ClassVar[str] = "message.received"
    permission: ClassVar[str | None] = "conversations:read"
    conversation_id: int
    message_id: int
    contact_id: int
    phone_number_id: int
    message_type: str
    preview: str


@dataclass(frozen=True, kw_only=True)
class MessageStatusChanged(Event):
    """An outbound message moved forward (accepted, sent, delivered, read, played) or failed."""

    type: ClassVar[str] = "message.status_changed"
    permission: ClassVar[str | None] = "conversations:read"
    conversation_id: int
    message_id: int
    wamid: str | None
    status: str
    error_code: int | None = None
    error_title: str | None = None


@dataclass(frozen=True, kw_only=True)
class MessageReactionChanged(Event):
    """The customer reacted to a message (emoji None: the reaction was removed)."""

    type: ClassVar[str] = "message.reaction_changed"
    permission: ClassVar[str | None] = "conversations:read"
    conversation_id: int
    message_id: int
    emoji: str | None


@dataclass(frozen=True, kw_only=True)
class ConversationWindowOpened(Event):
    """A free entry point window opened (a reply to a Click-to-WhatsApp referral)."""

    type: ClassVar[str] = "conversation.fep_opened"
    permission: ClassVar[str | None] = "conversations:read"
    conversation_id: int
    fep_expires_at: str
