"""Non-message fields: template updates (recorded), number quality and limits, account updates (§5.8–5.11)."""

from __future__ import annotations

import json
from typing import Any

from softdukan.inbound.models import InboundEvent
from softdukan.number.models import PhoneNumber, WhatsAppAccount
from tests.support.whatsapp import envelope, post_webhook, rows

TIME = 1748454394


async def change(client, drain_jobs, wa, field: str, value: dict[str, Any], time: int = TIME) -> None:  # type: ignore[no-untyped-def]
    response = await post_webhook(client, envelope(wa.waba_id, [{"field": field, "value": value}], time=time))
    assert response.status_code == 200, response.text
    await drain_jobs()


async def phone(runtime, wa) -> PhoneNumber:  # type: ignore[no-untyped-def]
    [row] = await rows(runtime, PhoneNumber, PhoneNumber.id == wa.phone.id)
    return row


async def account(runtime, wa) -> WhatsAppAccount:  # type: ignore[no-untyped-def]
    [row] = await rows(runtime, WhatsAppAccount, WhatsAppAccount.id == wa.account.id)
    return row


async def test_template_status_update_is_recorded_and_published(client, runtime, drain_jobs, wa, published) -> None:
    value = {"event": "REJECTED", "message_template_id": 1689556908129835, "message_template_name": "abandoned_cart",
             "message_template_language": "en", "reason": "INVALID_FORMAT", "message_template_category": "MARKETING",
             "rejection_info": {"reason": "Parameters next to each other", "recommendation": "Separate them"}}
    await change(client, drain_jobs, wa, "message_template_status_update", value)
    [event] = await rows(runtime, InboundEvent)
    assert (event.kind, event.field, event.state) == ("change", "message_template_status_update", "routed")
    assert event.payload["value"] == value
    [live] = [e for e in published if e["type"] == "template.status_changed"]
    assert live["data"] | {"organization_id": 0} == {
        "organization_id": 0, "field": "message_template_status_update", "event": "REJECTED",
        "template_id": "1689556908129835", "name": "abandoned_cart", "language": "en", "reason": "INVALID_FORMAT"}


async def test_unknown_template_event_is_unknown_not_a_crash(client, runtime, drain_jobs, wa, published) -> None:
    await change(client, drain_jobs, wa, "message_template_status_update", {"event": "TELEPORTED",
                                                                            "message_template_name": "x"})
    assert [e["data"]["event"] for e in published if e["type"] == "template.status_changed"] == ["unknown"]


async def test_quality_update_sets_tier_and_throughput(client, runtime, drain_jobs, wa) -> None:
    await change(client, drain_jobs, wa, "phone_number_quality_update", {
        "display_phone_number": wa.phone.display_phone_number, "event": "THROUGHPUT_UPGRADE",
        "old_limit": "TIER_250", "current_limit": "TIER_UNLIMITED", "max_daily_conversations_per_business": "TIER_2K"})
    row = await phone(runtime, wa)
    assert (row.messaging_limit_tier, row.throughput_level, row.throughput_mps) == ("TIER_2K", "HIGH", 1000)
    assert (await account(runtime, wa)).messaging_limit_tier == "TIER_2K"


async def test_flagged_and_unflagged_move_quality(client, runtime, drain_jobs, wa) -> None:
    await change(client, drain_jobs, wa, "phone_number_quality_update", {
        "display_phone_number": wa.phone.display_phone_number, "event": "FLAGGED", "current_limit": "TIER_1K"})
    assert (await phone(runtime, wa)).quality_rating == "RED"
    await change(client, drain_jobs, wa, "phone_number_quality_update", {
        "display_phone_number": wa.phone.display_phone_number, "event": "UNFLAGGED"}, time=TIME + 60)
    assert (await phone(runtime, wa)).quality_rating == "GREEN"


async def test_quality_update_for_a_number_we_do_not_have_is_recorded_only(client, runtime, drain_jobs, wa) -> None:
    await change(client, drain_jobs, wa, "phone_number_quality_update", {
        "display_phone_number": "15559999999", "event": "ONBOARDING",
        "max_daily_conversations_per_business": "TIER_10K"})
    [event] = await rows(runtime, InboundEvent)
    assert event.state == "routed" and "not connected here" in (event.note or "")
    assert (await phone(runtime, wa)).messaging_limit_tier == "TIER_250"


async def test_business_capability_update_sets_the_portfolio_limit(client, runtime, drain_jobs, wa) -> None:
    await change(client, drain_jobs, wa, "business_capability_update", {
        "max_daily_conversations_per_business": "TIER_10K", "max_phone_numbers_per_business": 20})
    assert (await account(runtime, wa)).messaging_limit_tier == "TIER_10K"


async def test_account_restriction_then_reinstatement(client, runtime, drain_jobs, wa) -> None:
    info = [{"restriction_type": "RESTRICTED_BIZ_INITIATED_MESSAGING", "expiration": 1750000000}]
    await change(client, drain_jobs, wa, "account_update", {"event": "ACCOUNT_RESTRICTION", "restriction_info": info})
    row = await account(runtime, wa)
    assert row.status == "RESTRICTED" and json.loads(row.restriction or "null") == info
    await change(client, drain_jobs, wa, "account_update", {
        "event": "DISABLED_UPDATE", "ban_info": {"waba_ban_state": "REINSTATE", "waba_ban_date": "April 17, 2025"}},
        time=TIME + 60)
    row = await account(runtime, wa)
    assert (row.status, row.restriction) == ("ACTIVE", None)


async def test_account_deleted_disconnects_account_and_numbers(client, runtime, drain_jobs, wa) -> None:
    await change(client, drain_jobs, wa, "account_update", {"event": "ACCOUNT_DELETED"})
    assert (await account(runtime, wa)).status == "DISCONNECTED"
    assert (await phone(runtime, wa)).status == "DISCONNECTED"


async def test_coexistence_disconnect_names_one_number(client, runtime, drain_jobs, wa) -> None:
    await change(client, drain_jobs, wa, "account_update", {"phone_number": wa.phone.display_phone_number,
                                                            "event": "PARTNER_REMOVED"})
    assert (await phone(runtime, wa)).status == "DISCONNECTED"
    assert (await account(runtime, wa)).status == "ACTIVE"


async def test_other_fields_are_stored_and_deduplicated(client, runtime, drain_jobs, wa) -> None:
    value = {"wa_id": "919812345678", "detail": "User requested to stop marketing messages",
             "category": "marketing_messages", "value": "stop", "timestamp": 1731705721}
    for _ in range(2):
        await change(client, drain_jobs, wa, "user_preferences", value)
    await change(client, drain_jobs, wa, "account_update", {"event": "VOLUME_BASED_PRICING_TIER_UPDATE",
                                                            "volume_tier_info": {"tier": "1:2"}})
    await change(client, drain_jobs, wa, "account_update", {"event": "SOMETHING_NEW"}, time=TIME + 1)
    events = await rows(runtime, InboundEvent)
    assert [(e.field, e.state) for e in events] == [("user_preferences", "routed"), ("account_update", "routed"),
                                                    ("account_update", "routed")]
    assert "SOMETHING_NEW recorded" in (events[2].note or "")
    assert (await account(runtime, wa)).status == "ACTIVE"
