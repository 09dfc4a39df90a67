"""Sending a message to a customer (DESIGN §5 "Sending"): the checks, the outbound row and the send job's enqueue,
all in the caller's unit of work (services never commit).

Checks, in order: the number is connected → the contact is not blocked → for a template: it is approved on the
number's account, its variables are filled exactly, and a MARKETING template never goes to a contact who opted out
(softdukan/template/sending.py) — templates may be sent outside the window; for anything else the 24-hour customer
service window is open (else `window_closed`, pointing to templates) → [seam] the wallet covers the hold. Then the
row (`pending`) and the job `conversation.send_message` (softdukan/conversation/tasks.py) are written together.

An opt-out is an opt-out of marketing (issue 4 item 2): service replies inside the window (the opt-out's own
confirmation, say) and utility or authentication templates still reach the contact. A blocked contact gets nothing.

    target = await resolve_target(uow, subject, conversation_id=…)      # or phone_number_id=…, to="9198…"
    message = await send_message(uow, subject, target=target, message=TextMessage("Hi"))
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from softdukan.auth.subject import Subject
from softdukan.contact.models import Contact
from softdukan.contact.service import contact_service
from softdukan.conversation import status as st
from softdukan.conversation.models import Conversation, Message
from softdukan.conversation.outbound import callback_data_for, record_outbound, window_for
from softdukan.conversation.repository import ConversationRepository
from softdukan.conversation.schemas import preview_of, stored_content
from softdukan.number.models import CONNECTED, PhoneNumber
from softdukan.number.service import number_in_organization, sending_number
from softdukan.platform.errors import Conflict, Invalid, NotFound
from softdukan.platform.uow import UnitOfWork
from softdukan.template.models import MessageTemplate
from softdukan.template.sending import checked_template, preview_text
from softdukan.template.sending import stored_content as template_content
from softdukan.whatsapp.messages import Message as WaMessage
from softdukan.whatsapp.messages import TemplateMessage

SEND_TASK = "conversation.send_message"


class WindowClosed(Invalid):
    """Outside the 24-hour customer service window WhatsApp only delivers templates (Meta would fail it: 131047)."""

    def __init__(self, csw_expires_at: datetime | None) -> None:
        closed = f" It closed on {csw_expires_at:%d %b %Y at %H:%M} UTC." if csw_expires_at else ""
        super().__init__("window_closed",
                         "The customer hasn't written in the last 24 hours, so WhatsApp only allows a template "
                         f"message now.{closed} Send an approved template to restart the conversation.",
                         {"window": "closed", "csw_expires_at": csw_expires_at.isoformat() if csw_expires_at else None,
                          "requires": "template"})


@dataclass(frozen=True)
class Target:
    phone: PhoneNumber
    contact: Contact
    conversation: Conversation | None  # None: a first message to this number


def _digits(raw: str) -> str:
    digits = "".join(ch for ch in raw if ch.isdigit())
    if not 7 <= len(digits) <= 15 or len(raw) > 32:
        raise Invalid("invalid_recipient", f"'{raw[:32]}' is not a WhatsApp number.",
                      {"to": "Give the customer's number in international format, e.g. 919812345678."})
    return digits


async def _number(uow: UnitOfWork, subject: Subject, phone_number_id: int | None) -> PhoneNumber:
    # conversations:write is enough to send: the org-scoped reads of number.service check no numbers:read
    return await sending_number(uow, subject, phone_number_id, purpose="sending messages")


async def resolve_target(uow: UnitOfWork, subject: Subject, *, conversation_id: int | None = None,
                         phone_number_id: int | None = None, to: str | None = None) -> Target:
    """Who gets the message, from which number. Ids of another organization are 404, never a hint."""
    subject.require("conversations:write")
    if conversation_id is not None:
        conversation = await ConversationRepository(uow.session).get(subject, conversation_id)
        if conversation is None:
            raise NotFound("conversation_not_found", "No such conversation in this organization.")
        phone = await number_in_organization(uow, subject, conversation.phone_number_id)
        contact = await contact_service.get_in_organization(uow, subject, conversation.contact_id)
        if phone is None or contact is None:
            raise NotFound("conversation_not_found", "No such conversation in this organization.")
        if phone_number_id is not None and phone_number_id != phone.id:
            raise Invalid("conflicting_recipient", "This conversation is on another number.",
                          {"phone_number_id": "Leave it out when you give conversation_id."})
        if to is not None and to.strip() and _digits(to) != contact.wa_id:
            raise Invalid("conflicting_recipient", "'to' is not this conversation's customer.",
                          {"to": "Leave it out when you give conversation_id."})
        return Target(phone, contact, conversation)
    phone = await _number(uow, subject, phone_number_id)  # 404 before any complaint about the body
    if not to or not to.strip():
        raise Invalid("recipient_required", "Say who gets the message.",
                      {"to": "Give 'to' (the customer's number) or 'conversation_id'."})
    wa_id = _digits(to)
    contact = await contact_service.ensure(uow, subject.organization_id, wa_id)
    conversation = await ConversationRepository(uow.session).find(subject.organization_id, phone.id, contact.id)
    return Target(phone, contact, conversation)


def _check_reachable(contact: Contact) -> None:
    # opted_out_at only stops marketing templates (template/sending.py checked_template); blocked stops everything
    if getattr(contact, "blocked_at", None) is not None:
        raise Conflict("contact_blocked", "This contact is blocked. Unblock them to send messages.")


async def check_template(uow: UnitOfWork, subject: Subject, target: Target, message: TemplateMessage
                         ) -> MessageTemplate:
    """The template is approved on this number's account, the message fills exactly its variables, and a marketing
    template is not going to a contact who opted out. Returns the template (the row records it)."""
    return await checked_template(uow, subject, target.phone, target.contact, message)


async def reserve_credit(uow: UnitOfWork, target: Target, message: Message) -> None:
    """Takes the hold for a template's category and the recipient's market, or refuses (402 `insufficient_credits`:
    the API stops at ₹0). Free-form messages only go inside the customer service window, which is free: nothing
    to hold, so replies keep flowing at ₹0."""
    if message.type != "template":
        return
    from softdukan.wallet.charging import hold_for_message

    await hold_for_message(uow, message, target.contact.wa_id, str((message.content or {}).get("category") or
                                                                   "marketing"))


async def _context_in_conversation(uow: UnitOfWork, target: Target, wamid: str) -> str:
    found = None
    if target.conversation is not None:
        found = (await uow.session.execute(select(Message.id).where(
            Message.organization_id == target.phone.organization_id,
            Message.conversation_id == target.conversation.id, Message.wamid == wamid))).first()
    if found is None:
        raise Invalid("context_not_found", "The message you reply to is not in this conversation.",
                      {"context.message_id": "Give the wamid of a message of this conversation."})
    return wamid


async def send_message(uow: UnitOfWork, subject: Subject, *, target: Target, message: WaMessage,
                       context_message_id: str | None = None) -> Message:
    """Checks, writes the `pending` row and enqueues the send job (same transaction). Returns the row."""
    subject.require("conversations:write")
    from softdukan.subscription import entitlements

    await entitlements.require(uow, subject.organization_id, "inbox")  # a trial or plan that ended: paused
    phone, contact = target.phone, target.contact
    if phone.status != CONNECTED:
        raise Conflict("number_not_connected",
                       f"The number {phone.display_phone_number} is not connected ({phone.status.lower()}), so it "
                       "can't send messages.")
    _check_reachable(contact)
    if isinstance(message, TemplateMessage):  # templates may start a conversation outside the window
        template = await check_template(uow, subject, target, message)
        content, preview = template_content(template, message), preview_text(template, message)
    else:
        window = await window_for(uow, phone, contact)
        if not window.free_form_allowed:
            raise WindowClosed(window.csw_expires_at)
        content, preview = stored_content(message), preview_of(message)
    context = await _context_in_conversation(uow, target, context_message_id) if context_message_id else None
    row = await record_outbound(uow, phone, contact, type=message.message_type, content=content, preview=preview,
                                sender_membership_id=subject.membership_id, context_wamid=context)
    await reserve_credit(uow, target, row)
    uow.enqueue(SEND_TASK, unique_key=f"{SEND_TASK}:{row.id}", organization_id=row.organization_id,
                **job_args(row))
    return row


# --- the send attempt marker (used by the send job) ------------------------------------------------------------
# `biz_opaque_callback_data` is written (and committed) BEFORE the call to Meta: from then on a request may have
# reached Meta, and the row is never sent again unless a definite refusal cleared the marker.


async def claim_attempt(uow: UnitOfWork, message: Message) -> bool:
    """Marks the row as 'a send is under way'; False if another run holds it (or it is no longer pending)."""
    result = await uow.session.execute(
        update(Message).where(Message.id == message.id, Message.wamid.is_(None), Message.status == st.PENDING,
                              Message.biz_opaque_callback_data.is_(None))
        .values(biz_opaque_callback_data=callback_data_for(message), updated_at=uow.clock.now())
        .execution_options(synchronize_session=False))
    await uow.session.refresh(message)
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def clear_attempt(uow: UnitOfWork, message: Message) -> None:
    """Meta answered with a definite refusal: nothing was sent, so a later attempt may send."""
    await uow.session.execute(
        update(Message).where(Message.id == message.id, Message.wamid.is_(None))
        .values(biz_opaque_callback_data=None, updated_at=uow.clock.now())
        .execution_options(synchronize_session=False))
    await uow.session.refresh(message)


def attempt_started(message: Message) -> bool:
    return message.biz_opaque_callback_data is not None


def job_args(message: Message, **extra: Any) -> dict[str, Any]:
    return {"org_id": message.organization_id, "message_id": message.id, **extra}
