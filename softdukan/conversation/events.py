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
    contact_name: str = ""  # the customer's WhatsApp profile name, else "+<number>"

    def summary(self) -> str | None:
        preview = " ".join(self.preview.split())
        if len(preview) > 80:
            preview = preview[:79] + "…"
        preview = preview or f"[{self.message_type}]"
        return f"New WhatsApp message from {self.contact_name or 'a customer'}: {preview}"


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


@dataclass(frozen=True, kw_only=True)
class MessageMediaChanged(Event):
    """A message's media file was stored (or could not be): the thread re-renders its bubble."""

    type: ClassVar[str] = "message.media_changed"
    permission: ClassVar[str | None] = "conversations:read"
    conversation_id: int
    message_id: int
    state: str


@dataclass(frozen=True, kw_only=True)
class MessageEchoed(Event):
    """The business sent a message from the WhatsApp Business app (coexistence `smb_message_echoes`)."""

    type: ClassVar[str] = "message.echoed"
    permission: ClassVar[str | None] = "conversations:read"
    conversation_id: int
    message_id: int
    preview: str


@dataclass(frozen=True, kw_only=True)
class HistoryImported(Event):
    """A chunk of the WhatsApp Business app's chat history was imported (coexistence `history`)."""

    type: ClassVar[str] = "conversation.history_imported"
    permission: ClassVar[str | None] = "conversations:read"
    phone_number_id: int
    messages: int
    progress: int | None
