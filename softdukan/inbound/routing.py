"""Routing one stored inbound event: messages and statuses to conversations, the rest to its handler.

Called by the `inbound.route` job; raises when the event can't be routed yet (unknown phone number, a status
for a message not recorded yet), so the job retries it.
"""

from __future__ import annotations

from softdukan.conversation.routing import apply_status, receive_message
from softdukan.inbound import models as m
from softdukan.inbound.changes import route_change
from softdukan.inbound.models import InboundEvent
from softdukan.number.models import PhoneNumber
from softdukan.number.service import find_by_phone_number_id
from softdukan.platform.uow import UnitOfWork
from softdukan.whatsapp.webhook import Change, MessageStatus, parse_messages_value


class NotRoutable(Exception):
    """The event can't be routed now (it stays stored and the job retries)."""


async def _phone(uow: UnitOfWork, event: InboundEvent, phone_number_id: str) -> PhoneNumber:
    phone = await find_by_phone_number_id(uow, phone_number_id)
    if phone is None or phone.organization_id != event.organization_id or phone.account_id != event.account_id:
        raise NotRoutable(f"phone number {phone_number_id} is not connected to this WhatsApp account")
    return phone


async def route_event(uow: UnitOfWork, event: InboundEvent) -> str:
    """Routes the event; returns a one-line note of what happened."""
    if event.kind == m.CHANGE:
        return await route_change(uow, event)
    value = parse_messages_value(Change(field="messages", value=event.payload, path=f"event[{event.id}]"))
    phone = await _phone(uow, event, value.metadata.phone_number_id)
    if event.kind == m.MESSAGE:
        message = value.messages[0]
        row = await receive_message(uow, phone, message, value.contact_for(message.from_))
        return f"{message.type} message added" if row else "already routed"
    if event.kind == m.STATUS:
        status = value.statuses[0]
        assert isinstance(status, MessageStatus)
        routed = await apply_status(uow, phone, status)
        return f"status {status.status}" + ("" if routed else " ignored (unknown status)")
    if event.kind == m.PAYMENT:
        return "payment status recorded (payments arrive with issue 6)"
    if event.kind == m.ERRORS:
        codes = ", ".join(str(e.code) for e in value.errors)
        return f"webhook errors recorded: {codes}"[:300]
    raise NotRoutable(f"unknown event kind {event.kind!r}")
