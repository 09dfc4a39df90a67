"""Coexistence (reference §10.3): messages that did not come through the Cloud API's `messages` field.

- `history`: the WhatsApp Business app's chat history (up to 180 days), imported once after onboarding. Imported
  messages are marked `origin="history"` and never open or refresh the 24-hour customer service window ("CSW
  opens only for user messages received after onboarding"), count as unread, or pop a notification.
- `smb_message_echoes`: a message the business sent from the Business app (`origin="business_app"`), outbound.

Both are idempotent by wamid, like every message. A history media message first arrives as `media_placeholder`
(no content); a later history webhook carries its content and media id, which fills the placeholder in and
fetches the file. Called by the routing job (softdukan/inbound/coexistence.py); never commits.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from softdukan.contact.service import contact_service
from softdukan.conversation import status as st
from softdukan.conversation.events import MessageEchoed
from softdukan.conversation.media.fetch import request_media
from softdukan.conversation.models import (
    INBOUND,
    MEDIA_PLACEHOLDER,
    ORIGIN_BUSINESS_APP,
    ORIGIN_HISTORY,
    OUTBOUND,
    Message,
)
from softdukan.conversation.repository import ConversationRepository, MessageRepository
from softdukan.number.models import PhoneNumber
from softdukan.platform.uow import UnitOfWork
from softdukan.whatsapp.webhook import InboundMessage

# history_context.status → our status of a business message
HISTORY_STATUS = {"PENDING": st.ACCEPTED, "SENT": st.SENT, "DELIVERED": st.DELIVERED, "READ": st.READ,
                  "PLAYED": st.PLAYED, "ERROR": st.FAILED}


def _content(message: InboundMessage, raw_type: str) -> tuple[str, dict[str, Any], str]:
    if raw_type == MEDIA_PLACEHOLDER:
        return MEDIA_PLACEHOLDER, {}, "[Media]"
    return message.type, message.content.to_json(), message.content.preview()[:300]


async def import_message(uow: UnitOfWork, phone: PhoneNumber, message: InboundMessage, *, customer: str,
                         from_business: bool, raw_type: str, origin: str, status: str | None = None
                         ) -> Message | None:
    """Stores one history or echo message; None when this wamid was stored before (and had nothing to fill in)."""
    org_id, now, at = phone.organization_id, uow.clock.now(), message.timestamp
    contact = await contact_service.upsert_from_inbound(uow, org_id, customer, profile_name=None, at=at,
                                                        user_message=False)  # no "last inbound": not after onboarding
    conversations, messages = ConversationRepository(uow.session), MessageRepository(uow.session)
    conversation = await conversations.ensure(org_id, phone.id, contact.id, now)
    kind, content, preview = _content(message, raw_type)
    if from_business:
        our_status = HISTORY_STATUS.get((status or "").upper(), st.SENT)
    else:
        our_status = st.RECEIVED
    context = message.context
    message_id = await messages.insert_once({
        "organization_id": org_id, "conversation_id": conversation.id, "contact_id": contact.id,
        "phone_number_id": phone.id, "direction": OUTBOUND if from_business else INBOUND, "wamid": message.wamid,
        "type": kind, "content": content, "preview": preview, "status": our_status,
        "status_rank": st.RANK[our_status], "occurred_at": at, "origin": origin,
        "sent_at": at if from_business and our_status != st.FAILED else None,
        "context_wamid": context.message_id[:200] if context and context.message_id else None,
        "forwarded": bool(context and context.forwarded),
        "frequently_forwarded": bool(context and context.frequently_forwarded),
        "errors": [e.to_json() for e in message.errors] or None,
        "error_code": message.errors[0].code if message.errors else None,
        "error_title": message.errors[0].title[:300] if message.errors else None,
        "created_at": now, "updated_at": now})
    if message_id is None:
        return await fill_placeholder(uow, phone, message, raw_type)
    await conversations.touch_outbound(conversation, at, now)  # last_message_at only: no window, no unread
    row = await messages.by_id(org_id, message_id)
    assert row is not None
    await request_media(uow, row)
    if origin == ORIGIN_BUSINESS_APP:
        uow.emit(MessageEchoed(organization_id=org_id, conversation_id=conversation.id, message_id=row.id,
                               preview=row.preview))
    return row


async def fill_placeholder(uow: UnitOfWork, phone: PhoneNumber, message: InboundMessage, raw_type: str
                           ) -> Message | None:
    """The content of a history media message, arriving after its placeholder; None when there is none to fill."""
    org_id, wamid = phone.organization_id, message.wamid
    kind, content, preview = _content(message, raw_type)
    if kind == MEDIA_PLACEHOLDER:
        return None
    result = await uow.session.execute(
        update(Message).where(Message.organization_id == org_id, Message.wamid == wamid,
                              Message.type == MEDIA_PLACEHOLDER)
        .values(type=kind, content=content, preview=preview, updated_at=uow.clock.now())
        .execution_options(synchronize_session=False))
    if not getattr(result, "rowcount", 0):
        return None
    row = await MessageRepository(uow.session).by_wamid(org_id, wamid)
    assert row is not None
    await uow.session.refresh(row)
    await request_media(uow, row)
    return row


__all__ = ["HISTORY_STATUS", "ORIGIN_BUSINESS_APP", "ORIGIN_HISTORY", "fill_placeholder", "import_message"]
