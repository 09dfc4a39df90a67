"""Outbound message lifecycle: sent → delivered → read (or failed), each a signed status webhook.

Rules (reference §1.3, §5.6, §8): pricing on `sent` and on one of delivered/read; no `delivered` when the
customer reads at once; reactions get only `sent`; `conversation` on v24+ only inside a free entry point
window, on ≤v23 per message with `expiration_timestamp` only on `sent`; `biz_opaque_callback_data` echoed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from softdukan.platform.uow import UnitOfWork
from softdukan.sandbox.graph.errors import webhook_error
from softdukan.sandbox.graph.ids import conversation_id
from softdukan.sandbox.graph.profile import Profile, chance, load_profile
from softdukan.sandbox.graph.webhooks import queue_messages_value
from softdukan.sandbox.models import SandboxMessage, SandboxPhoneNumber

ORDER = {"accepted": 0, "sent": 1, "delivered": 2, "read": 3, "played": 4}


def pricing_for(*, is_template: bool, category: str | None, in_csw: bool, in_fep: bool) -> dict[str, Any]:
    """The PMP pricing object (reference §1.3 "Pricing")."""
    if in_fep:
        return {
            "billable": False,
            "pricing_model": "PMP",
            "type": "free_entry_point",
            "category": "referral_conversion",
        }
    if not is_template:
        return {"billable": False, "pricing_model": "PMP", "type": "free_customer_service", "category": "service"}
    kind = (category or "marketing").lower()
    if kind == "utility" and in_csw:
        return {"billable": False, "pricing_model": "PMP", "type": "free_customer_service", "category": "utility"}
    return {"billable": True, "pricing_model": "PMP", "type": "regular", "category": kind}


def _ts(moment: datetime) -> str:
    return str(int(moment.timestamp()))


def status_object(
    message: SandboxMessage, status: str, at: datetime, profile: Profile, *, with_pricing: bool
) -> dict[str, Any]:
    item: dict[str, Any] = {"id": message.wamid, "status": status, "timestamp": _ts(at), "recipient_id": message.wa_id}
    if message.biz_opaque_callback_data:
        item["biz_opaque_callback_data"] = message.biz_opaque_callback_data
    if status == "failed":
        item["errors"] = [webhook_error(message.error_code or 131000)]
        return item
    conversation = message.conversation or {}
    if profile.webhook_major >= 24:
        if conversation.get("fep"):
            conv: dict[str, Any] = {"id": conversation["id"]}
            if status == "sent":
                conv["expiration_timestamp"] = conversation["expires"]
            conv["origin"] = {"type": "referral_conversion"}
            item["conversation"] = conv
    elif conversation:
        conv = {"id": conversation["id"]}
        if status == "sent":
            conv["expiration_timestamp"] = conversation["expires"]
        conv["origin"] = {"type": (message.pricing or {}).get("category", "service")}
        item["conversation"] = conv
    if with_pricing and message.pricing:
        pricing = dict(message.pricing)
        if profile.webhook_major < 24:
            pricing.pop("type", None)
        item["pricing"] = pricing
    return item


def conversation_for(message_sent_at: datetime, *, fep_id: str | None, fep_expires: datetime | None) -> dict[str, Any]:
    """Stored on the message at send time: the FEP window's id, or a per-message id (used on ≤v23)."""
    if fep_id and fep_expires:
        return {"fep": True, "id": fep_id, "expires": _ts(fep_expires)}
    return {"fep": False, "id": conversation_id(), "expires": _ts(message_sent_at + timedelta(hours=24))}


async def _emit(uow: UnitOfWork, message: SandboxMessage, status: str, profile: Profile, *, with_pricing: bool) -> None:
    phone = await uow.session.get(SandboxPhoneNumber, message.phone_pk)
    if phone is None:
        return
    item = status_object(message, status, uow.clock.now(), profile, with_pricing=with_pricing)
    await queue_messages_value(uow, phone, {"statuses": [item]})


async def advance(uow: UnitOfWork, message_id: int, status: str) -> None:
    """Move one outbound message to `status` (idempotent: a step already passed is skipped)."""
    message = await uow.session.get(SandboxMessage, message_id, with_for_update=True)  # one step at a time
    if message is None or message.direction != "out" or message.status == "failed":
        return
    profile = await load_profile(uow)
    now = uow.clock.now()
    if status == "failed":
        message.status, message.failed_at = "failed", now
        await _emit(uow, message, "failed", profile, with_pricing=False)
        return
    if ORDER.get(message.status, 0) >= ORDER[status]:
        return
    if status == "sent":
        if message.error_code:  # decided at send time: fails instead of being sent
            await advance(uow, message_id, "failed")
            return
        message.status, message.sent_at = "sent", now
        await _emit(uow, message, "sent", profile, with_pricing=True)
        _plan_after_sent(uow, message, profile)
        return
    with_pricing = message.pricing_sent_on is None
    if with_pricing:
        message.pricing_sent_on = status
    message.status = status
    if status == "delivered":
        message.delivered_at = now
    elif status == "read":
        message.read_at = now
        message.delivered_at = message.delivered_at or now
    elif status == "played":  # voice notes only: the first play, after delivery (§5.6)
        message.played_at = now
    await _emit(uow, message, status, profile, with_pricing=with_pricing)


def _plan_after_sent(uow: UnitOfWork, message: SandboxMessage, profile: Profile) -> None:
    if message.type == "reaction":  # reactions get only `sent`
        return
    if not chance(message.wamid + ":delivered", profile.delivery_ratio):
        return
    now = uow.clock.now()
    reads = chance(message.wamid + ":read", profile.read_ratio)
    base = profile.sent_after_seconds
    if reads and profile.read_after_seconds <= profile.delivered_after_seconds:
        uow.enqueue(
            "sandbox.message_status",
            run_at=now + timedelta(seconds=max(0.0, profile.read_after_seconds - base)),
            message_id=message.id,
            status="read",
        )
        return
    uow.enqueue(
        "sandbox.message_status",
        run_at=now + timedelta(seconds=max(0.0, profile.delivered_after_seconds - base)),
        message_id=message.id,
        status="delivered",
    )
    if reads:
        uow.enqueue(
            "sandbox.message_status",
            run_at=now + timedelta(seconds=max(0.0, profile.read_after_seconds - base)),
            message_id=message.id,
            status="read",
        )

