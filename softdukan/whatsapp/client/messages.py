"""Sending messages, mark-as-read and the typing indicator: ``POST /{phone-number-id}/messages`` (§3)."""

from __future__ import annotations

from softdukan.whatsapp.client.http import GraphBase, expect_success, path_id
from softdukan.whatsapp.client.types import SentMessage
from softdukan.whatsapp.messages import Message, MessageValidationError, ReadReceipt


class MessagesAPI(GraphBase):
    async def send(
        self,
        phone_number_id: str,
        message: Message,
        to: str,
        *,
        context_message_id: str | None = None,
        biz_opaque_callback_data: str | None = None,
    ) -> SentMessage:
        """Send one message. Local limits are checked (MessageValidationError) before any HTTP."""
        if not isinstance(message, Message):
            raise MessageValidationError("message", "Build the message with softdukan.whatsapp.messages.")
        payload = message.to_payload(
            to, context_message_id=context_message_id, biz_opaque_callback_data=biz_opaque_callback_data
        )
        body = await self.request("POST", f"{path_id(phone_number_id, 'phone_number_id')}/messages", json=payload)
        return SentMessage.parse(body)

    async def mark_read(self, phone_number_id: str, wamid: str, typing: bool = False) -> None:
        """Mark an inbound message as read (blue ticks); ``typing=True`` also shows the typing indicator."""
        payload = ReadReceipt(wamid, typing=typing).to_payload()
        body = await self.request("POST", f"{path_id(phone_number_id, 'phone_number_id')}/messages", json=payload)
        expect_success(body)
