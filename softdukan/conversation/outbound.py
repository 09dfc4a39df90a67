"""The conversation side of sending (used by the send path, issue 3 item 5): write the outbound row, record
Meta's answer, open the free entry point window. Services never commit; the send job owns the transaction.

    message = await record_outbound(uow, phone, contact, type="text", content={...}, sender_membership_id=...)
    # … send job: client.send(..., biz_opaque_callback_data=callback_data_for(message))
    await mark_accepted(uow, message, wamid)              # or mark_send_failed(uow, message, code=…, title=…)
    state = await window_for(uow, phone, contact)         # WindowState: csw_open, fep_open, …
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from softdukan.contact.models import Contact
from softdukan.conversation import status as st
from softdukan.conversation.events import ConversationWindowOpened, MessageStatusChanged
from softdukan.conversation.media.fetch import request_media
from softdukan.conversation.models import OUTBOUND, Conversation, Message
from softdukan.conversation.repository import ConversationRepository, MessageRepository
from softdukan.conversation.windows import WindowState, open_fep_on_reply, window_state
from softdukan.number.models import PhoneNumber
from softdukan.platform.uow import UnitOfWork

CALLBACK_PREFIX = "sdm:"
_CALLBACK = re.compile(r"^sdm:(\d{1,18})(?:\|.*)?$", re.DOTALL)


def callback_data_for(message: Message, extra: str | None = None) -> str:
    """What to send as `biz_opaque_callback_data`: our message id (plus optional extra after a `|`), so a status
    webhook finds the message even when the send's response (and its wamid) was lost."""
    return f"{CALLBACK_PREFIX}{message.id}" + (f"|{extra}" if extra else "")


def message_id_from_callback(data: str | None) -> int | None:
    match = _CALLBACK.match(data or "")
    return int(match.group(1)) if match else None


async def conversation_for(uow: UnitOfWork, phone: PhoneNumber, contact: Contact) -> Conversation:
    """The conversation between this number and contact, created if new."""
    if phone.organization_id != contact.organization_id:
        raise ValueError("phone number and contact belong to different organizations")
    return await ConversationRepository(uow.session).ensure(phone.organization_id, phone.id, contact.id,
                                                            uow.clock.now())


async def window_for(uow: UnitOfWork, phone: PhoneNumber, contact: Contact, at: datetime | None = None
                     ) -> WindowState:
    conversation = await ConversationRepository(uow.session).find(phone.organization_id, phone.id, contact.id)
    now = at or uow.clock.now()
    if conversation is None:
        return WindowState(csw_open=False, csw_expires_at=None, fep_open=False, fep_expires_at=None,
                           fep_reply_by=None)
    return window_state(conversation, now)


async def record_outbound(uow: UnitOfWork, phone: PhoneNumber, contact: Contact, *, type: str,
                          content: dict[str, Any], preview: str = "", sender_membership_id: int | None = None,
                          context_wamid: str | None = None) -> Message:
    """The outbound row, status `pending`, before the send job calls Meta. Its id goes into callback data."""
    conversation = await conversation_for(uow, phone, contact)
    now = uow.clock.now()
    message = Message(organization_id=phone.organization_id, conversation_id=conversation.id, contact_id=contact.id,
                      phone_number_id=phone.id, direction=OUTBOUND, wamid=None, type=type[:20], content=content,
                      preview=preview[:300], status=st.PENDING, status_rank=st.RANK[st.PENDING], occurred_at=now,
                      context_wamid=context_wamid, sender_membership_id=sender_membership_id, created_at=now,
                      updated_at=now)
    uow.session.add(message)
    await uow.flush()
    await ConversationRepository(uow.session).touch_outbound(conversation, now, now)
    await request_media(uow, message)  # sent by media id: the file is fetched back so the thread can show it
    return message


async def mark_accepted(uow: UnitOfWork, message: Message, wamid: str, *, at: datetime | None = None) -> bool:
    """Meta answered 200 with `wamid`: records it, moves pending → accepted and opens the FEP window if this
    answers a referral in time. Returns True if an FEP window opened. A status webhook that raced ahead (and
    found the row by callback data) already set the same wamid: fine."""
    at = at or uow.clock.now()
    if message.wamid is None:
        message.wamid = wamid
    if message.accepted_at is None:
        message.accepted_at = at
    await uow.flush()
    if await MessageRepository(uow.session).advance_status(message.id, st.ACCEPTED, st.RANK[st.ACCEPTED]):
        uow.emit(MessageStatusChanged(organization_id=message.organization_id,
                                      conversation_id=message.conversation_id, message_id=message.id, wamid=wamid,
                                      status=st.ACCEPTED))
    await uow.session.refresh(message)
    return await open_free_entry_point(uow, message.organization_id, message.conversation_id, at)


async def open_free_entry_point(uow: UnitOfWork, organization_id: int, conversation_id: int,
                                replied_at: datetime) -> bool:
    """The business replied at `replied_at`; opens the 72-hour FEP window when the reply qualifies (§7.9)."""
    conversation = await ConversationRepository(uow.session).by_id(organization_id, conversation_id)
    if conversation is None or not open_fep_on_reply(conversation, replied_at):
        return False
    assert conversation.fep_expires_at is not None
    uow.emit(ConversationWindowOpened(organization_id=organization_id, conversation_id=conversation.id,
                                      fep_expires_at=conversation.fep_expires_at.isoformat()))
    return True


async def mark_send_failed(uow: UnitOfWork, message: Message, *, code: int | None, title: str,
                           details: str | None = None) -> None:
    """Meta refused the send (a mapped Graph error): the message fails with the error, for good."""
    now = uow.clock.now()
    if message.status == st.FAILED:
        return
    message.error_code, message.error_title, message.error_details = code, title[:300], details
    message.failed_at = message.failed_at or now
    await uow.flush()
    from softdukan.wallet.charging import release_messages

    await release_messages(uow, message.organization_id, [message.id], "send-failed")
    if await MessageRepository(uow.session).advance_status(message.id, st.FAILED, st.RANK[st.FAILED]):
        uow.emit(MessageStatusChanged(organization_id=message.organization_id,
                                      conversation_id=message.conversation_id, message_id=message.id,
                                      wamid=message.wamid, status=st.FAILED, error_code=code, error_title=title))
    await uow.session.refresh(message)
