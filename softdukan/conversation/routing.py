"""Inbound routing for conversations: a customer's message, or a status of one of ours. Called by the
`inbound.route` job (softdukan/inbound) inside its unit of work; never commits. Both are safe to run twice and
in any order: messages are unique by wamid, statuses only move forward."""

from __future__ import annotations

from typing import Any

from softdukan.broadcast.hooks import on_customer_reply, on_message_status
from softdukan.contact.consent_inbound import on_customer_message
from softdukan.contact.service import contact_service
from softdukan.conversation import status as st
from softdukan.conversation.events import MessageReactionChanged, MessageReceived, MessageStatusChanged
from softdukan.conversation.media.fetch import request_media
from softdukan.conversation.models import INBOUND, Conversation, Message
from softdukan.conversation.outbound import message_id_from_callback
from softdukan.conversation.repository import ConversationRepository, MessageRepository
from softdukan.conversation.windows import CSW, FEP_REPLY_WITHIN
from softdukan.number.models import PhoneNumber
from softdukan.platform.uow import UnitOfWork
from softdukan.wallet.charging import on_message_status as settle_charge
from softdukan.whatsapp.webhook import InboundMessage, MessageStatus, WaContact
from softdukan.whatsapp.webhook.messages import ReactionContent, SystemContent


class MessageNotFoundYet(Exception):
    """A status for a message we can't find (by wamid, nor by our id in biz_opaque_callback_data). The send
    job may not have recorded the wamid yet: the routing job retries."""


async def receive_message(uow: UnitOfWork, phone: PhoneNumber, message: InboundMessage,
                          wa_contact: WaContact | None) -> Message | None:
    """Adds a customer's message to its conversation; None when this wamid was routed before."""
    org_id, now = phone.organization_id, uow.clock.now()
    contact = await contact_service.upsert_from_inbound(
        uow, org_id, message.from_, profile_name=wa_contact.profile_name if wa_contact else None,
        at=message.timestamp, user_message=message.is_user_message)
    conversations, messages = ConversationRepository(uow.session), MessageRepository(uow.session)
    conversation = await conversations.ensure(org_id, phone.id, contact.id, now)
    reaction = message.content if isinstance(message.content, ReactionContent) else None
    context = message.context
    message_id = await messages.insert_once({
        "organization_id": org_id, "conversation_id": conversation.id, "contact_id": contact.id,
        "phone_number_id": phone.id, "direction": INBOUND, "wamid": message.wamid, "type": message.type,
        "content": message.content.to_json(), "preview": message.content.preview()[:300], "status": st.RECEIVED,
        "status_rank": st.RANK[st.RECEIVED], "occurred_at": message.timestamp,
        "context_wamid": context.message_id[:200] if context and context.message_id else None,
        "forwarded": bool(context and context.forwarded),
        "frequently_forwarded": bool(context and context.frequently_forwarded),
        "referral": message.referral.to_json() if message.referral else None,
        "reaction_to_wamid": reaction.message_id[:200] if reaction and reaction.message_id else None,
        "reaction_emoji": reaction.emoji[:32] if reaction and reaction.emoji else None,
        "errors": [e.to_json() for e in message.errors] or None,
        "error_code": message.errors[0].code if message.errors else None,
        "error_title": message.errors[0].title[:300] if message.errors else None,
        "created_at": now, "updated_at": now})
    if message_id is None:
        return None
    await conversations.record_inbound(conversation, at=message.timestamp, user_message=message.is_user_message,
                                       referral=message.referral.to_json() if message.referral else None,
                                       csw=CSW, fep_reply_within=FEP_REPLY_WITHIN, now=now)
    row = await messages.by_id(org_id, message_id)
    assert row is not None
    if isinstance(message.content, SystemContent) and message.content.kind == "user_changed_number":
        await contact_service.record_number_change(uow, contact, message.content.new_wa_id)
    await _apply_reactions(uow, conversation, row, reaction)
    await request_media(uow, row)
    if message.is_user_message:  # opt-out/opt-in keywords, marked buttons, blocked contacts (contact/consent_inbound)
        replied_to = (await messages.by_wamid(org_id, row.context_wamid)  # a template's quick reply: which one
                      if row.type == "button" and row.context_wamid else None)
        await on_customer_message(uow, phone, conversation, contact, row.id, message.content,
                                  replied_to.content if replied_to else None)
        await on_customer_reply(uow, org_id, conversation.id, message.timestamp)
    name = (wa_contact.profile_name if wa_contact else None) or contact.profile_name or f"+{contact.wa_id}"
    uow.emit(MessageReceived(organization_id=org_id, conversation_id=conversation.id, message_id=row.id,
                             contact_id=contact.id, phone_number_id=phone.id, message_type=row.type,
                             preview=row.preview, contact_name=name[:200]))
    return row


async def _apply_reactions(uow: UnitOfWork, conversation: Conversation, row: Message,
                           reaction: ReactionContent | None) -> None:
    """A reaction updates its target; a message arriving after reactions to it (shuffled delivery) picks them up."""
    messages = MessageRepository(uow.session)
    targets = [row.wamid] if row.wamid else []
    if reaction is not None and reaction.message_id:
        targets.append(reaction.message_id)
    for wamid in targets:
        target = row if wamid == row.wamid else await messages.by_wamid(row.organization_id, wamid)
        if target is None:
            continue  # the target arrives later and picks the reaction up then
        seen, emoji = await messages.latest_reaction(row.organization_id, wamid)
        if seen and target.reaction_emoji != emoji:
            await messages.set_reaction(target, emoji)
            uow.emit(MessageReactionChanged(organization_id=row.organization_id,
                                            conversation_id=target.conversation_id, message_id=target.id,
                                            emoji=emoji))


async def resolve_status_message(uow: UnitOfWork, phone: PhoneNumber, status: MessageStatus) -> Message:
    messages = MessageRepository(uow.session)
    message = await messages.by_wamid(phone.organization_id, status.wamid)
    if message is None and (our_id := message_id_from_callback(status.biz_opaque_callback_data)) is not None:
        # the send's response was lost: our id travelled in biz_opaque_callback_data
        message = await messages.by_id(phone.organization_id, our_id)
        if message is not None and message.wamid is None and message.phone_number_id == phone.id:
            message.wamid = status.wamid
        elif message is not None and message.wamid != status.wamid:
            message = None
    if message is None or message.phone_number_id != phone.id:
        raise MessageNotFoundYet(f"no message with wamid {status.wamid!r} on phone number {phone.phone_number_id}")
    return message


async def apply_status(uow: UnitOfWork, phone: PhoneNumber, status: MessageStatus) -> Message | None:
    """A status webhook: forward-only status, earliest timestamp per status, pricing and errors kept."""
    if status.status == "unknown":
        return None  # a status Meta added after us: stored with the raw event, nothing to move
    message = await resolve_status_message(uow, phone, status)
    messages = MessageRepository(uow.session)
    timestamps = {st.TIMESTAMP_COLUMN[status.status]: status.timestamp}
    for column in st.IMPLIES.get(status.status, ()):
        timestamps[column] = status.timestamp
    first_error = status.errors[0] if status.errors else None
    pricing = status.pricing
    keep_first: dict[str, Any] = {
        "pricing_model": pricing.pricing_model if pricing else None,
        "pricing_type": pricing.type if pricing else None,
        "pricing_category": pricing.category if pricing else None,
        "billable": pricing.billable if pricing else None,
        "meta_conversation_id": status.conversation.id[:100] if status.conversation and status.conversation.id
        else None,
        "biz_opaque_callback_data": (status.biz_opaque_callback_data or "")[:512] or None,
    }
    if status.status == st.FAILED:
        keep_first |= {"error_code": first_error.code if first_error else None,
                       "error_title": first_error.title[:300] if first_error else None,
                       "error_details": first_error.details if first_error else None,
                       "errors": [e.to_json() for e in status.errors] or None}
    await uow.flush()
    await messages.record_status_facts(message.id, {}, timestamps, keep_first, uow.clock.now())
    moved = await messages.advance_status(message.id, status.status, st.rank(status.status))
    await uow.session.refresh(message)
    await on_message_status(uow, message)  # a broadcast's attempt: its recipient follows
    await settle_charge(uow, message)  # its credit hold: charged, free or released, once
    if moved:
        uow.emit(MessageStatusChanged(organization_id=message.organization_id,
                                      conversation_id=message.conversation_id, message_id=message.id,
                                      wamid=message.wamid, status=message.status, error_code=message.error_code,
                                      error_title=message.error_title))
    return message


__all__ = ["MessageNotFoundYet", "apply_status", "receive_message", "resolve_status_message"]
