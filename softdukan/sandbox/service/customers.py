"""Virtual customers: they exist, opt out, write to a business (any inbound type of reference §5.5), read what
they got, and have a thread per business number."""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from softdukan.platform.uow import UnitOfWork
from softdukan.sandbox.graph.errors import GraphFault, webhook_error
from softdukan.sandbox.graph.ids import object_id, wamid
from softdukan.sandbox.graph.messages.send import consume_throughput, get_customer, get_thread
from softdukan.sandbox.graph.messages.statuses import advance
from softdukan.sandbox.graph.profile import load_profile
from softdukan.sandbox.graph.webhooks import queue_messages_value
from softdukan.sandbox.models import (
    SandboxCustomer,
    SandboxMedia,
    SandboxMessage,
    SandboxPhoneNumber,
    SandboxThread,
    SandboxWaba,
)

INBOUND_TYPES = (
    "text",
    "image",
    "video",
    "audio",
    "sticker",
    "document",
    "location",
    "contacts",
    "reaction",
    "interactive",
    "button",
    "order",
    "system",
    "unsupported",
)
MEDIA = {
    "image": "image/jpeg",
    "video": "video/mp4",
    "audio": "audio/ogg; codecs=opus",
    "sticker": "image/webp",
    "document": "application/pdf",
}
INBOUND_MEDIA_TTL = timedelta(days=7)
MAX_INBOUND_MEDIA = 100 * 1024 * 1024


def _declared_size(content: Any) -> int:
    """A customer file's size as the caller declares it (`file_size`), to simulate >100 MB without the bytes."""
    if not isinstance(content, dict):
        return 0
    try:
        return int(content.get("file_size") or 0)
    except (TypeError, ValueError):
        raise GraphFault(131009, "Param file_size must be an integer number of bytes.") from None


async def phone_by_id(uow: UnitOfWork, phone_number_id: str) -> SandboxPhoneNumber:
    phone = (
        await uow.session.execute(
            select(SandboxPhoneNumber).where(SandboxPhoneNumber.phone_number_id == phone_number_id)
        )
    ).scalar_one_or_none()
    if phone is None or phone.waba_pk is None or phone.deleted_at is not None:
        raise GraphFault(100, f"Unknown phone number id {phone_number_id}.")
    return phone


def _wa_id(raw: str) -> str:
    digits = "".join(ch for ch in str(raw) if ch.isdigit())
    if not 5 <= len(digits) <= 15:
        raise GraphFault(131009, f"'{raw}' is not a valid WhatsApp id (digits of an international number).")
    return digits


async def upsert_customer(
    uow: UnitOfWork,
    wa_id: str,
    *,
    name: str | None = None,
    opted_out_marketing: bool | None = None,
    on_whatsapp: bool | None = None,
    failure_code: int | str | None = "keep",
) -> SandboxCustomer:
    """Create or change a customer. `failure_code`: an int injects that failure on every message to them;
    None clears it; the default leaves it as it is."""
    customer = await get_customer(uow, _wa_id(wa_id), name)
    if name:
        customer.name = name
    if on_whatsapp is not None:
        customer.on_whatsapp = on_whatsapp
    if failure_code != "keep":
        customer.failure_code = int(failure_code) if failure_code is not None else None
    if opted_out_marketing is not None and opted_out_marketing != customer.opted_out_marketing:
        customer.opted_out_marketing = opted_out_marketing
        await uow.flush()
        await _user_preferences(uow, customer, "stop" if opted_out_marketing else "resume")
    await uow.flush()
    return customer


async def _user_preferences(uow: UnitOfWork, customer: SandboxCustomer, value: str) -> None:
    """Tells every business this customer talks to (reference §5.11 `user_preferences`)."""
    threads = (await uow.session.execute(select(SandboxThread).where(SandboxThread.wa_id == customer.wa_id))).scalars()
    now = str(int(uow.clock.now().timestamp()))
    for thread in threads.all():
        phone = await uow.session.get(SandboxPhoneNumber, thread.phone_pk)
        if phone is None or phone.waba_pk is None:
            continue
        await queue_messages_value(
            uow,
            phone,
            {
                "contacts": [{"profile": {"name": customer.name}, "wa_id": customer.wa_id}],
                "user_preferences": [
                    {
                        "wa_id": customer.wa_id,
                        "detail": "User requested to stop marketing messages"
                        if value == "stop"
                        else "User requested to resume marketing messages",
                        "category": "marketing_messages",
                        "value": value,
                        "timestamp": now,
                    }
                ],
            },
        )


def customer_view(customer: SandboxCustomer) -> dict[str, Any]:
    return {
        "wa_id": customer.wa_id,
        "name": customer.name,
        "on_whatsapp": customer.on_whatsapp,
        "opted_out_marketing": customer.opted_out_marketing,
        "failure_code": customer.failure_code,
    }


async def list_customers(uow: UnitOfWork, phone_number_id: str | None = None) -> list[dict[str, Any]]:
    query = select(SandboxCustomer).order_by(SandboxCustomer.id)
    if phone_number_id:
        phone = await phone_by_id(uow, phone_number_id)
        query = query.where(
            SandboxCustomer.wa_id.in_(select(SandboxThread.wa_id).where(SandboxThread.phone_pk == phone.id))
        )
    return [customer_view(c) for c in (await uow.session.execute(query)).scalars().all()]


async def _inbound_media(uow: UnitOfWork, phone: SandboxPhoneNumber, kind: str, content: dict[str, Any]) -> None:
    """Gives inbound media a downloadable id (7-day lifetime) unless the caller passed one."""
    content.pop("file_size", None)
    if content.get("id"):
        return
    data = base64.b64decode(content.pop("data_base64")) if content.get("data_base64") else secrets.token_bytes(64)
    mime = content.get("mime_type") or MEDIA[kind]
    waba = await uow.session.get(SandboxWaba, phone.waba_pk)
    media = SandboxMedia(
        media_id=object_id(),
        phone_pk=phone.id,
        business_pk=waba.business_pk if waba else None,
        origin="inbound",
        mime_type=mime,
        filename=content.get("filename"),
        sha256=hashlib.sha256(data).hexdigest(),  # stored hex as for uploads; GET /{media-id} answers hex
        file_size=len(data),
        data=data,
        expires_at=uow.clock.now() + INBOUND_MEDIA_TTL,
    )
    uow.session.add(media)
    # the webhook carries base64 of the digest, as Meta's do ("4654+8g=")
    content.update({"mime_type": mime, "sha256": base64.b64encode(hashlib.sha256(data).digest()).decode(),
                    "id": media.media_id})
    if kind == "audio":
        content.setdefault("voice", True)
    if kind == "sticker":
        content.setdefault("animated", False)


async def customer_sends(
    uow: UnitOfWork,
    wa_id: str,
    *,
    phone_number_id: str,
    message: dict[str, Any],
    referral: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
    identity: dict[str, Any] | None = None,
) -> str:
    """A customer writes to a business number; the `messages` webhook is queued. Returns the wamid."""
    phone = await phone_by_id(uow, phone_number_id)
    customer = await get_customer(uow, _wa_id(wa_id))
    if not isinstance(message, dict):
        raise GraphFault(100, "message must be an object.")
    message = dict(message)
    kind = str(message.pop("type", "text")).lower()
    if kind not in INBOUND_TYPES:
        raise GraphFault(100, f"message.type must be one of {', '.join(INBOUND_TYPES)}.")
    content = message.get(kind)
    if kind != "unsupported" and kind != "contacts" and not isinstance(content, dict):
        raise GraphFault(131008, f"message.{kind} must be an object.")
    too_big = kind in MEDIA and _declared_size(content) > MAX_INBOUND_MEDIA
    if kind in MEDIA and not too_big:
        await _inbound_media(uow, phone, kind, content)  # type: ignore[arg-type]
    now = uow.clock.now()
    message_wamid = wamid(customer.wa_id)
    body: dict[str, Any] = {
        "from": customer.wa_id,
        "id": message_wamid,
        "timestamp": str(int(now.timestamp())),
        "type": kind,
    }
    if too_big:  # Meta can't fetch it: an errors-shaped inbound instead of a downloadable media (§1.2 "Media")
        body["type"] = "unsupported"
        body["errors"] = [webhook_error(131052)]
    elif kind == "unsupported":
        body["errors"] = [webhook_error(131051, "Message type is currently not supported.")]
    else:
        body[kind] = content
    context = context or message.get("context")
    if isinstance(context, dict):
        ctx = {k: v for k, v in context.items() if k in ("forwarded", "frequently_forwarded", "referred_product")}
        target = context.get("id") or context.get("message_id")
        if target:
            ctx = {"from": phone.wa_number, "id": target, **ctx}
        body["context"] = ctx
    if referral:
        body["referral"] = referral
    if identity and kind == "system":
        body["identity"] = identity
    thread = await get_thread(uow, phone, customer.wa_id)
    if kind != "system":
        thread.last_inbound_at = now  # every user message opens or refreshes the 24 h window
    if referral:
        thread.referral_at = now
    profile = await load_profile(uow)
    await consume_throughput(uow, phone, profile)  # inbound shares the number's bucket; it is never refused
    uow.session.add(
        SandboxMessage(
            wamid=message_wamid,
            phone_pk=phone.id,
            wa_id=customer.wa_id,
            direction="in",
            type=kind,
            payload=body,
            status="received",
            created_at=now,
            context_wamid=(body.get("context") or {}).get("id"),
        )
    )
    value: dict[str, Any] = {"messages": [body]}
    if kind != "system":  # system messages come without contacts
        value = {"contacts": [{"profile": {"name": customer.name}, "wa_id": customer.wa_id}], **value}
    await queue_messages_value(uow, phone, value)
    await uow.flush()
    return message_wamid


def message_view(message: SandboxMessage) -> dict[str, Any]:
    return {
        "wamid": message.wamid,
        "direction": message.direction,
        "type": message.type,
        "status": message.status,
        "timestamp": int(message.created_at.timestamp()),
        "payload": message.payload,
        "error_code": message.error_code if message.status == "failed" else None,
        "pricing": message.pricing,
        "template_category": message.template_category,
        "context_wamid": message.context_wamid,
    }


async def thread(uow: UnitOfWork, wa_id: str, *, phone_number_id: str, limit: int = 200) -> list[dict[str, Any]]:
    phone = await phone_by_id(uow, phone_number_id)
    rows = (
        (
            await uow.session.execute(
                select(SandboxMessage)
                .where(SandboxMessage.phone_pk == phone.id, SandboxMessage.wa_id == _wa_id(wa_id))
                .order_by(SandboxMessage.id.desc())
                .limit(limit)
            )
        )
        .scalars()
        .all()
    )
    return [message_view(m) for m in reversed(rows)]


async def customer_reads(uow: UnitOfWork, wa_id: str, *, phone_number_id: str, wamid: str | None = None) -> list[str]:
    """The customer opens the chat: every delivered-or-sent message (up to `wamid`) becomes read."""
    phone = await phone_by_id(uow, phone_number_id)
    query = select(SandboxMessage).where(
        SandboxMessage.phone_pk == phone.id,
        SandboxMessage.wa_id == _wa_id(wa_id),
        SandboxMessage.direction == "out",
        SandboxMessage.status.in_(("sent", "delivered")),
        SandboxMessage.type != "reaction",
    )
    if wamid:
        target = (
            await uow.session.execute(select(SandboxMessage).where(SandboxMessage.wamid == wamid))
        ).scalar_one_or_none()
        if target is None or target.phone_pk != phone.id:
            raise GraphFault(100, f"Unknown message {wamid} in this thread.")
        query = query.where(SandboxMessage.id <= target.id)
    read = []
    for message in (await uow.session.execute(query.order_by(SandboxMessage.id))).scalars().all():
        await advance(uow, message.id, "read")
        read.append(message.wamid)
    return read


async def customer_plays(uow: UnitOfWork, wa_id: str, *, phone_number_id: str, wamid: str) -> bool:
    """The customer plays a voice note (outbound audio with `voice: true`): the first play sends a `played`
    status (after `read` if the chat was not open yet). Never before delivery; later plays send nothing."""
    phone = await phone_by_id(uow, phone_number_id)
    message = (
        await uow.session.execute(
            select(SandboxMessage).where(SandboxMessage.wamid == wamid, SandboxMessage.phone_pk == phone.id)
        )
    ).scalar_one_or_none()
    if message is None or message.wa_id != _wa_id(wa_id) or message.direction != "out":
        raise GraphFault(100, f"Unknown message {wamid} in this thread.")
    if message.type != "audio" or not (message.payload.get("audio") or {}).get("voice"):
        raise GraphFault(100, f"Message {wamid} is not a voice note (audio with voice: true).")
    if message.status not in ("delivered", "read", "played"):
        raise GraphFault(100, f"Message {wamid} was not delivered yet ({message.status}); it can't be played.")
    if message.played_at is not None:
        return False
    if message.status == "delivered":
        await advance(uow, message.id, "read")
    await advance(uow, message.id, "played")
    return True
