"""Mark-as-read and the typing indicator (reference §3.12): same endpoint as sends, a different body."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from softdukan.whatsapp.messages.base import MessageValidationError


@dataclass(frozen=True, slots=True)
class ReadReceipt:
    """Marks an inbound message (and everything before it) as read; ``typing`` also shows "typing…".

    Not a :class:`Message`: the body has no recipient, only the inbound ``message_id``.
    """

    message_id: str
    typing: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.message_id, str) or not self.message_id.strip():
            raise MessageValidationError("message_id", "Give the ID (wamid) of the message to mark as read.")
        if not isinstance(self.typing, bool):
            raise MessageValidationError("typing_indicator", "typing must be true or false.")

    def to_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {"messaging_product": "whatsapp", "status": "read", "message_id": self.message_id}
        if self.typing:
            payload["typing_indicator"] = {"type": "text"}
        return payload
