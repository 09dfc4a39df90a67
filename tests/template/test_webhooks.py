"""Template webhooks routed by inbound: unknown templates recorded only, category notices, unknown events."""

from __future__ import annotations

from typing import Any

from softdukan.inbound.models import InboundEvent
from softdukan.platform.uow import unit_of_work
from tests.support.whatsapp import envelope, post_webhook, rows
from tests.template.conftest import Shop, order_shipped


async def webhook(shop: Shop, field: str, value: dict[str, Any], time: int = 1_900_000_000) -> InboundEvent:
    async with unit_of_work(shop.runtime) as uow:
        secret = uow.runtime.secrets.open(shop.account.app_secret_sealed)
    response = await post_webhook(shop.client, envelope(shop.account.waba_id, [{"field": field, "value": value}],
                                                        time=time), secret=secret)
    assert response.status_code == 200, response.text
    await shop.drain()
    return (await rows(shop.runtime, InboundEvent))[-1]


async def test_a_template_we_do_not_have_is_recorded_only(shop: Shop) -> None:
    event = await webhook(shop, "message_template_status_update", {
        "event": "APPROVED", "message_template_id": 123, "message_template_name": "elsewhere",
        "message_template_language": "en", "reason": "NONE"})
    assert event.state == "routed" and "not stored here" in (event.note or "")


async def test_category_notice_and_unknown_events(shop: Shop) -> None:
    created = (await shop.client.post("/v1/templates", json=order_shipped(), headers=shop.org.auth)).json()
    meta_id = int(created["meta_template_id"])
    event = await webhook(shop, "template_category_update", {
        "message_template_id": meta_id, "message_template_name": "order_shipped", "message_template_language": "en",
        "new_category": "UTILITY", "correct_category": "MARKETING"})
    template = await shop.template(created["id"])
    assert template.category == "UTILITY" and "MARKETING within 24 hours" in (template.status_detail or "")
    assert "will become MARKETING" in (event.note or "")

    event = await webhook(shop, "message_template_status_update", {
        "event": "TELEPORTED", "message_template_id": meta_id, "message_template_name": "order_shipped",
        "message_template_language": "en"}, time=1_900_000_100)
    assert event.state == "routed" and "ignored: unknown status event" in (event.note or "")
    assert (await shop.template(created["id"])).status == "PENDING"

    await webhook(shop, "message_template_status_update", {
        "event": "DISABLED", "message_template_id": meta_id, "message_template_name": "order_shipped",
        "message_template_language": "en", "reason": "NONE", "disable_info": {"disable_date": "May 1, 2030"}},
        time=1_900_000_200)
    template = await shop.template(created["id"])
    assert template.status == "DISABLED" and template.rejected_reason is None
    assert template.status_detail == "May 1, 2030"
