"""State changes Meta makes on its own (quality, throughput, messaging limit, restrictions, template status),
each with the webhook it fires (reference §5.8–§5.10)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from softdukan.platform.uow import UnitOfWork
from softdukan.sandbox.graph.errors import GraphFault
from softdukan.sandbox.graph.limits import apply_tier, start_upgrade
from softdukan.sandbox.graph.webhooks import queue_change
from softdukan.sandbox.models import SandboxBusiness, SandboxPhoneNumber, SandboxTemplate, SandboxWaba

QUALITY = ("GREEN", "YELLOW", "RED", "UNKNOWN")
LEVELS = ("STANDARD", "HIGH")
TIERS = ("TIER_50", "TIER_250", "TIER_2K", "TIER_10K", "TIER_100K", "TIER_UNLIMITED")
TEMPLATE_STATUSES = (
    "APPROVED",
    "REJECTED",
    "PENDING",
    "PAUSED",
    "DISABLED",
    "FLAGGED",
    "IN_APPEAL",
    "REINSTATED",
    "PENDING_DELETION",
    "DELETED",
    "LIMIT_EXCEEDED",
    "ARCHIVED",
    "LOCKED",
)
CATEGORIES = ("MARKETING", "UTILITY", "AUTHENTICATION")


def _choice(value: Any, allowed: tuple[str, ...], key: str) -> str:
    text = str(value).upper()
    if text not in allowed:
        raise GraphFault(131009, f"Param {key} must be one of {', '.join(allowed)}.")
    return text


async def change_phone_state(uow: UnitOfWork, phone_number_id: str, body: dict[str, Any]) -> dict[str, Any]:
    phone = (
        await uow.session.execute(
            select(SandboxPhoneNumber).where(SandboxPhoneNumber.phone_number_id == phone_number_id)
        )
    ).scalar_one_or_none()
    if phone is None or phone.waba_pk is None:
        raise GraphFault(100, f"Unknown phone number id {phone_number_id}.")
    waba = await uow.session.get(SandboxWaba, phone.waba_pk)
    business = await uow.session.get(SandboxBusiness, waba.business_pk) if waba else None
    assert waba is not None and business is not None
    if body.get("messaging_limit_tier") is not None:
        await apply_tier(
            uow, business, waba, phone, _choice(body["messaging_limit_tier"], TIERS, "messaging_limit_tier")
        )
    if _truthy(body.get("throughput_upgrade")):
        await start_upgrade(uow, phone, business)
    if body.get("throughput_level") is not None:
        level = _choice(body["throughput_level"], LEVELS, "throughput_level")
        if level != phone.throughput_level and not phone.coexistence:
            phone.throughput_level = level
            if level == "HIGH":
                await queue_change(
                    uow,
                    waba,
                    "phone_number_quality_update",
                    {
                        "display_phone_number": phone.wa_number,
                        "event": "THROUGHPUT_UPGRADE",
                        "max_daily_conversations_per_business": business.messaging_limit_tier,
                    },
                    with_time=True,
                )
    if body.get("quality_rating") is not None:
        quality = _choice(body["quality_rating"], QUALITY, "quality_rating")
        if quality != phone.quality_rating:
            phone.quality_rating = quality
            await queue_change(
                uow,
                waba,
                "phone_number_quality_update",
                {
                    "display_phone_number": phone.wa_number,
                    "event": "FLAGGED" if quality in ("YELLOW", "RED") else "UNFLAGGED",
                    "max_daily_conversations_per_business": business.messaging_limit_tier,
                },
                with_time=True,
            )
    if body.get("restriction") is not None:
        restriction = str(body["restriction"]).upper()
        hours = float(body.get("restriction_hours", 24))
        if body.get("restriction_seconds") is not None:
            hours = float(body["restriction_seconds"]) / 3600
        expiration = int((uow.clock.now() + timedelta(hours=hours)).timestamp())
        waba.restrictions = {**(waba.restrictions or {}), restriction: expiration}
        await queue_change(
            uow,
            waba,
            "account_update",
            {
                "event": "ACCOUNT_RESTRICTION",
                "restriction_info": [{"restriction_type": restriction, "expiration": expiration}],
            },
            with_time=True,
        )
    if _truthy(body.get("disconnect")) and phone.coexistence:
        phone.status, phone.registered = "DISCONNECTED", False
        await queue_change(
            uow, waba, "account_update", {"phone_number": phone.wa_number, "event": "PARTNER_REMOVED"}, with_time=True
        )
    return {
        "phone_number_id": phone.phone_number_id,
        "quality_rating": phone.quality_rating,
        "throughput_level": phone.throughput_level,
        "messaging_limit_tier": business.messaging_limit_tier,
        "status": phone.status,
        "upgrading_until": int(phone.upgrade_ends_at.timestamp()) if phone.upgrade_ends_at else None,
        "restrictions": waba.restrictions or {},
    }


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "1")


async def template_status_webhook(
    uow: UnitOfWork, template: SandboxTemplate, event: str, *, reason: str | None = None
) -> None:
    waba = await uow.session.get(SandboxWaba, template.waba_pk)
    if waba is None:
        return
    value: dict[str, Any] = {
        "event": event,
        "message_template_id": int(template.template_id),
        "message_template_name": template.name,
        "message_template_language": template.language,
        "reason": reason or ("NONE" if event != "REJECTED" else "INVALID_FORMAT"),
        "message_template_category": template.category,
    }
    if event == "REJECTED":
        value["rejection_info"] = {
            "reason": f"The template was rejected: {reason or 'INVALID_FORMAT'}.",
            "recommendation": "Edit the template and submit it again.",
        }
    if event == "DISABLED":
        value["disable_info"] = {"disable_date": uow.clock.now().strftime("%B %d, %Y")}
    if event == "PAUSED":
        value["other_info"] = {
            "title": "FIRST_PAUSE",
            "description": "Your template has been paused for 3 hours because of low quality.",
        }
    await queue_change(uow, waba, "message_template_status_update", value, with_time=True)


async def category_webhook(uow: UnitOfWork, template: SandboxTemplate, previous: str) -> None:
    waba = await uow.session.get(SandboxWaba, template.waba_pk)
    if waba is None:
        return
    await queue_change(
        uow,
        waba,
        "template_category_update",
        {
            "message_template_id": int(template.template_id),
            "message_template_name": template.name,
            "message_template_language": template.language,
            "previous_category": previous,
            "new_category": template.category,
        },
        with_time=True,
    )


def set_template_status(uow: UnitOfWork, template: SandboxTemplate, status: str, reason: str | None = None) -> None:
    template.status = status
    template.rejected_reason = reason if status == "REJECTED" else None
    template.status_changed_at = uow.clock.now()
    template.history = [
        *template.history,
        {"at": uow.clock.now().isoformat(), "status": status, **({"reason": reason} if reason else {})},
    ]


async def change_template_status(
    uow: UnitOfWork, template_id: str, status: str, *, reason: str | None = None, category: str | None = None
) -> dict[str, Any]:
    """Meta acting on a template (approve, reject, pause, disable, recategorize) with its webhooks."""
    template = (
        await uow.session.execute(select(SandboxTemplate).where(SandboxTemplate.template_id == template_id))
    ).scalar_one_or_none()
    if template is None or template.deleted_at is not None:
        raise GraphFault(100, f"Unknown template id {template_id}.")
    status = _choice(status, TEMPLATE_STATUSES, "status")
    if category:
        new = _choice(category, CATEGORIES, "category")
        if new != template.category:
            previous, template.previous_category, template.category = template.category, template.category, new
            await category_webhook(uow, template, previous)
    set_template_status(uow, template, status, reason)
    await template_status_webhook(uow, template, status, reason=reason)
    return {"id": template.template_id, "status": template.status, "category": template.category}
