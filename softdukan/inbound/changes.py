"""Non-message webhook fields: templates (applied by softdukan/template/webhooks.py), number quality and
limits, account updates, and the coexistence fields (history, Business app echoes and contacts: coexistence.py).
Number and account rows are changed through the numbers domain's service."""

from __future__ import annotations

from typing import Any

from softdukan.inbound.coexistence import COEXISTENCE_FIELDS, route_coexistence
from softdukan.inbound.events import TemplateStatusChanged
from softdukan.inbound.models import InboundEvent
from softdukan.number.models import DISCONNECTED, WhatsAppAccount
from softdukan.number.service import (
    apply_account_update,
    apply_quality_update,
    emit_number,
    find_account_by_waba_id,
    find_by_display_number,
)
from softdukan.platform.uow import UnitOfWork
from softdukan.template.webhooks import apply_template_change, event_time
from softdukan.whatsapp.webhook import parse_account_update, parse_quality_update, parse_template_update

TEMPLATE_FIELDS = frozenset({"message_template_status_update", "template_category_update",
                             "message_template_quality_update", "message_template_components_update"})
QUALITY_FIELDS = frozenset({"phone_number_quality_update", "business_capability_update"})
# older quality events (unverified, reference §5.9): FLAGGED = quality dropped to low, UNFLAGGED = restored
QUALITY_FROM_EVENT = {"FLAGGED": "RED", "UNFLAGGED": "GREEN"}
DISCONNECTING = frozenset({"ACCOUNT_DELETED", "ACCOUNT_OFFBOARDED", "PARTNER_REMOVED", "PARTNER_APP_UNINSTALLED"})


async def route_change(uow: UnitOfWork, event: InboundEvent) -> str:
    field, value = event.field, event.payload.get("value") or {}
    if field in TEMPLATE_FIELDS:
        update = parse_template_update(field, value)
        uow.emit(TemplateStatusChanged(organization_id=event.organization_id, field=field, event=update.event,
                                       template_id=update.template_id, name=update.name, language=update.language,
                                       reason=update.reason))
        return await apply_template_change(uow, account_id=event.account_id, field=field, value=value,
                                           at=event_time(event.payload.get("time"), event.received_at))
    account = await find_account_by_waba_id(uow, str(event.payload.get("waba_id")))
    if account is None or account.id != event.account_id:
        return "account no longer connected; recorded only"
    if field in QUALITY_FIELDS:
        return await _quality(uow, event, account, value)
    if field == "account_update":
        return await _account(uow, account, value)
    if field in COEXISTENCE_FIELDS:
        return await route_coexistence(uow, event, account)
    return f"{field} recorded"[:300]


async def _quality(uow: UnitOfWork, event: InboundEvent, account: WhatsAppAccount, value: dict[str, Any]) -> str:
    update = parse_quality_update(event.field, value)
    if event.field == "business_capability_update" or not update.display_phone_number:
        if update.messaging_limit_tier:
            account.messaging_limit_tier = update.messaging_limit_tier
        return f"portfolio messaging limit {update.messaging_limit_tier or 'unchanged'}"
    phone = await find_by_display_number(uow, account, update.display_phone_number)
    if phone is None:
        return f"number {update.display_phone_number} is not connected here; recorded only"
    quality = update.quality_rating or QUALITY_FROM_EVENT.get(update.event)
    throughput = "HIGH" if update.event == "THROUGHPUT_UPGRADE" else None
    await apply_quality_update(uow, phone, quality_rating=quality, messaging_limit_tier=update.messaging_limit_tier,
                               throughput_level=throughput)
    return f"{update.event}: quality {quality or 'unchanged'}, limit {update.messaging_limit_tier or 'unchanged'}"


async def _account(uow: UnitOfWork, account: WhatsAppAccount, value: dict[str, Any]) -> str:
    update = parse_account_update(value)
    if update.event == "PARTNER_REMOVED" and update.phone_number:  # coexistence: one number disconnected
        phone = await find_by_display_number(uow, account, update.phone_number)
        if phone is not None and phone.status != DISCONNECTED:
            phone.status = DISCONNECTED
            emit_number(uow, phone)
        return f"number {update.phone_number} disconnected"
    if update.event in DISCONNECTING:
        await apply_account_update(uow, account, status="DISCONNECTED")
    elif update.event == "ACCOUNT_RESTRICTION":
        await apply_account_update(uow, account, status="RESTRICTED", restriction=update.restriction_info)
    elif update.event == "DISABLED_UPDATE":
        reinstated = (update.ban_state or "").upper() == "REINSTATE"
        await apply_account_update(uow, account, status="ACTIVE" if reinstated else "RESTRICTED",
                                   restriction=None if reinstated else value.get("ban_info"))
    elif update.event == "ACCOUNT_RECONNECTED":
        await apply_account_update(uow, account, status="ACTIVE")
    else:
        return f"account_update {update.raw_event or 'unknown'} recorded"[:300]
    return f"account {update.event}: {account.status}"
