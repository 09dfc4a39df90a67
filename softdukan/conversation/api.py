"""/v1/messages and /v1/conversations.

`POST /v1/messages` takes Meta's message shape (reference §3), or an approved template with its variables' values
(`"type": "template"`, softdukan/template/sending.py), and answers 202 with the stored message, status `pending`;
the send job then moves it to `accepted` (with Meta's wamid) or `failed`, and status webhooks move it on.
Send `Idempotency-Key` to retry safely: a retry with the same key never sends a second message.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from softdukan.conversation import listing
from softdukan.conversation.listing import ConversationView
from softdukan.conversation.media.models import MediaFile
from softdukan.conversation.media.serve import media_response, stored_media
from softdukan.conversation.models import Message
from softdukan.conversation.schemas import (
    ChargeBrief,
    ContactOut,
    ConversationOut,
    ConversationPage,
    ErrorOut,
    MediaOut,
    MessageOut,
    MessagePage,
    SendMessageIn,
    WindowOut,
    build_message,
)
from softdukan.conversation.send import resolve_target, send_message
from softdukan.kit.ids import MAX_ID, PathId
from softdukan.platform.deps import Requires, UoW
from softdukan.platform.errors import Invalid
from softdukan.platform.http import error_responses
from softdukan.template.sending import message_for_contact, parse_spec, template_for_spec
from softdukan.whatsapp.messages import Message as WaMessage

router = APIRouter(tags=["conversations"])
Cursor = Annotated[str | None, Query(max_length=64, description="next_cursor of the previous page")]
Limit = Annotated[int, Query(ge=1, le=200)]


def media_out(media: MediaFile | None) -> MediaOut | None:
    if media is None:
        return None
    return MediaOut(state=media.state, mime_type=media.mime_type, size=media.size, filename=media.filename,
                    sha256=media.sha256, error=media.error, error_code=media.error_code)


def message_out(m: Message, media: MediaFile | None = None, charge: Any = None) -> MessageOut:
    error = (ErrorOut(code=m.error_code, title=m.error_title, details=m.error_details)
             if m.error_code is not None or m.error_title else None)
    return MessageOut(
        id=m.id, conversation_id=m.conversation_id, contact_id=m.contact_id, phone_number_id=m.phone_number_id,
        direction=m.direction, type=m.type, content=m.content or {}, preview=m.preview, status=m.status,
        wamid=m.wamid, context_wamid=m.context_wamid, reaction_emoji=m.reaction_emoji, referral=m.referral,
        occurred_at=m.occurred_at, accepted_at=m.accepted_at, sent_at=m.sent_at, delivered_at=m.delivered_at,
        read_at=m.read_at, failed_at=m.failed_at, error=error, pricing_category=m.pricing_category,
        pricing_type=m.pricing_type, billable=m.billable, origin=m.origin, media=media_out(media),
        charge=ChargeBrief(state=charge.state, category=charge.category, market=charge.market,
                           held_units=charge.held_units, charged_units=charge.charged_units) if charge else None)


def conversation_out(view: ConversationView) -> ConversationOut:
    c, w = view.conversation, view.window
    return ConversationOut(
        id=c.id, phone_number_id=c.phone_number_id, display_phone_number=view.phone.display_phone_number,
        contact=ContactOut(id=view.contact.id, wa_id=view.contact.wa_id, profile_name=view.contact.profile_name),
        last_message_at=c.last_message_at, last_message_preview=view.last_message.preview if view.last_message
        else None, unread_count=c.unread_count,
        window=WindowOut(csw_open=w.csw_open, csw_expires_at=w.csw_expires_at, fep_open=w.fep_open,
                         fep_expires_at=w.fep_expires_at, fep_reply_by=w.fep_reply_by),
        created_at=c.created_at)


def _context_id(context: object) -> str | None:
    if context is None:
        return None
    message_id = context.get("message_id") if isinstance(context, dict) else None
    if not isinstance(message_id, str) or not 1 <= len(message_id) <= 200:
        raise Invalid("invalid_message", "context must be {\"message_id\": \"wamid…\"}.",
                      {"context.message_id": "The wamid of the message you reply to."})
    return message_id


@router.post("/messages", response_model=MessageOut, status_code=202, responses=error_responses(404, 409))
async def post_message(body: SendMessageIn, uow: UoW, subject: Requires["conversations:write"]) -> MessageOut:
    """Send a message: any type inside the customer service window; an approved template at any time
    (`"type": "template"`, see the body's description). Send `Idempotency-Key` to retry safely."""
    target = await resolve_target(uow, subject, conversation_id=body.conversation_id,
                                  phone_number_id=body.phone_number_id, to=body.to)
    if body.type == "template":
        spec = parse_spec(body.template)
        template = await template_for_spec(uow, subject, target.phone, spec)
        message: WaMessage = message_for_contact(template, spec, target.contact)
    else:
        message = build_message(body.type, getattr(body, body.type, None) if body.type in SendMessageIn.model_fields
                                else None)
    row = await send_message(uow, subject, target=target, message=message, context_message_id=_context_id(
        body.context))
    return message_out(row)


@router.get("/messages/{message_id}", response_model=MessageOut, responses=error_responses(404))
async def get_message(message_id: PathId, uow: UoW, subject: Requires["conversations:read"]) -> MessageOut:
    message = await listing.message(uow, subject, message_id)
    media = await listing.media_of(uow, subject, [message])
    charges = await listing.charges_of(uow, subject, [message])
    return message_out(message, media.get(message.id), charges.get(message.id))


@router.get("/messages/{message_id}/media", response_class=Response, responses={
    **error_responses(404, 409, 410),
    200: {"description": "The file's bytes, with its Content-Type; documents as attachments",
          "content": {"application/octet-stream": {}}}})
async def get_message_media(message_id: PathId, uow: UoW, subject: Requires["conversations:read"]) -> Response:
    """The stored media file of a message (image, video, audio, sticker, document). 409 while it is still being
    fetched from WhatsApp, 410 when it could not be (e.g. the customer's file expired at WhatsApp after 7 days)."""
    return media_response(await stored_media(uow, subject, message_id))


@router.get("/conversations", response_model=ConversationPage, responses=error_responses())
async def list_conversations(uow: UoW, subject: Requires["conversations:read"], cursor: Cursor = None,
                             limit: Limit = 50,
                             phone_number_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None
                             ) -> ConversationPage:
    views, next_cursor = await listing.conversations(uow, subject, limit=limit, cursor=cursor,
                                                     phone_number_id=phone_number_id)
    return ConversationPage(data=[conversation_out(v) for v in views], next_cursor=next_cursor)


@router.get("/conversations/{conversation_id}", response_model=ConversationOut, responses=error_responses(404))
async def get_conversation(conversation_id: PathId, uow: UoW, subject: Requires["conversations:read"]
                           ) -> ConversationOut:
    return conversation_out(await listing.conversation(uow, subject, conversation_id))


@router.get("/conversations/{conversation_id}/messages", response_model=MessagePage, responses=error_responses(404))
async def list_messages(conversation_id: PathId, uow: UoW, subject: Requires["conversations:read"],
                        cursor: Cursor = None, limit: Limit = 50) -> MessagePage:
    """Newest first; pass `next_cursor` back as `cursor` for older messages."""
    rows, next_cursor = await listing.messages(uow, subject, conversation_id, limit=limit, cursor=cursor)
    media, charges = await listing.media_of(uow, subject, rows), await listing.charges_of(uow, subject, rows)
    return MessagePage(data=[message_out(m, media.get(m.id), charges.get(m.id)) for m in rows],
                       next_cursor=next_cursor)


@router.post("/conversations/{conversation_id}/read", response_model=ConversationOut, responses=error_responses(404))
async def mark_conversation_read(conversation_id: PathId, uow: UoW, subject: Requires["conversations:write"]
                                 ) -> ConversationOut:
    """Reset the unread count and send the customer a read receipt (blue ticks) for their latest message."""
    view = await listing.conversation(uow, subject, conversation_id)
    await listing.mark_seen(uow, subject, view.conversation)
    uow.session.expire(view.conversation)  # mark_seen updated the row behind the identity map's back
    return conversation_out(await listing.conversation(uow, subject, conversation_id))
