"""Scheduling in the organization's timezone with a controlled clock, opt-out by keyword and by button before a
broadcast, cancel, and resend to failed."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from softdukan.broadcast.service import BroadcastInput, broadcast_service
from softdukan.platform.errors import Conflict, Invalid
from softdukan.platform.uow import unit_of_work
from softdukan.sandbox import service as sandbox
from tests.broadcast.engine_support import (
    MAPPING,
    add_contacts,
    broadcast,
    launch,
    marketing_template,
    number,
    recipients,
    run_until_done,
    sandbox_received,
)
from tests.contact.consent_support import says, taps
from tests.contact.test_consent_buttons import mark, promo, sent_to_customer
from tests.conversation.template_send_support import approved
from tests.template.conftest import Shop

IST = ZoneInfo("Asia/Kolkata")


async def draft(shop: Shop, template_id: int, **extra: object) -> int:
    async with unit_of_work(shop.runtime) as uow:
        created = await broadcast_service.create(uow, shop.org.subject, BroadcastInput(
            name="Scheduled", template_id=template_id, audience={"kind": "all"}, variables=MAPPING))
        return created.id


async def test_a_broadcast_scheduled_for_just_after_midnight_in_india_starts_then_and_not_before(shop: Shop
                                                                                                 ) -> None:
    template_id = await marketing_template(shop)
    await add_contacts(shop, 3)
    broadcast_id = await draft(shop, template_id)
    local = (shop.clock.now().astimezone(IST) + timedelta(days=1)).replace(hour=0, minute=30, second=0,
                                                                           microsecond=0)
    assert local.astimezone(ZoneInfo("UTC")).date() < local.date()  # 00:30 in India is the previous day in UTC
    async with unit_of_work(shop.runtime) as uow:
        scheduled = await broadcast_service.launch(uow, shop.org.subject, broadcast_id, scheduled_at=local)
        assert scheduled.status == "scheduled" and scheduled.timezone == "Asia/Kolkata"
    shop.clock.advance(seconds=(local - shop.clock.now()).total_seconds() - 30)
    await shop.drain()
    assert (await broadcast(shop, broadcast_id)).status == "scheduled"
    assert await sandbox_received(shop) == {}
    shop.clock.advance(seconds=31)
    done = await run_until_done(shop, broadcast_id)
    assert done.status == "completed" and done.launched_at is not None
    assert done.launched_at >= local
    assert len(await sandbox_received(shop)) == 3


async def test_a_schedule_in_the_past_and_an_empty_audience_are_refused_and_change_nothing(shop: Shop) -> None:
    template_id = await marketing_template(shop)
    broadcast_id = await draft(shop, template_id)
    async with unit_of_work(shop.runtime) as uow:
        with pytest.raises(Invalid) as empty:
            await broadcast_service.launch(uow, shop.org.subject, broadcast_id)
    assert empty.value.code == "empty_audience"
    await add_contacts(shop, 1)
    async with unit_of_work(shop.runtime) as uow:
        with pytest.raises(Invalid) as past:
            await broadcast_service.launch(uow, shop.org.subject, broadcast_id,
                                           scheduled_at=shop.clock.now() - timedelta(minutes=1))
    assert past.value.code == "schedule_in_past"
    assert (await broadcast(shop, broadcast_id)).status == "draft"


async def test_contacts_who_opted_out_by_keyword_or_by_button_are_skipped_with_the_reason(shop: Shop) -> None:
    promo_template = await approved(shop, promo())
    assert (await mark(shop, (promo_template["id"], 1))).status_code == 200
    keyword, button, stays = "919812355001", "919812355002", "919812355003"
    await says(shop, "STOP", wa_id=keyword)
    await says(shop, "hello", wa_id=button)
    await says(shop, "hello", wa_id=stays)
    wamid = await sent_to_customer_at(shop, promo_template, button)
    await taps(shop, wamid, 1, wa_id=button)  # "Stop promotions"
    shop.clock.advance(seconds=5)
    template_id = await marketing_template(shop)
    broadcast_id = await launch(shop, template_id)
    await run_until_done(shop, broadcast_id)
    rows = await recipients(shop, broadcast_id)
    assert (rows[keyword].state, rows[keyword].reason) == ("skipped", "opted_out")
    assert (rows[button].state, rows[button].reason) == ("skipped", "opted_out")
    assert rows[stays].state == "sent"
    templates = await sandbox_received(shop)
    assert keyword not in templates and templates.get(button) == 1  # the promo before the tap, nothing after


async def sent_to_customer_at(shop: Shop, template: dict[str, object], wa_id: str) -> str:
    import tests.contact.test_consent_buttons as buttons

    original = buttons.CUSTOMER
    buttons.CUSTOMER = wa_id
    try:
        return await sent_to_customer(shop, template)
    finally:
        buttons.CUSTOMER = original


async def test_cancel_stops_the_rest_and_resend_to_failed_makes_a_draft_for_the_failed_ones(shop: Shop) -> None:
    template_id = await marketing_template(shop)
    await add_contacts(shop, 5)
    async with unit_of_work(shop.runtime) as uow:
        await sandbox.update_profile(uow, {"failures": [{"code": 131026, "recipient": number(3)}]})
    broadcast_id = await launch(shop, template_id)
    await run_until_done(shop, broadcast_id)
    for _ in range(3):
        await shop.settle(seconds=2)
    async with unit_of_work(shop.runtime) as uow:
        again = await broadcast_service.resend_failed(uow, shop.org.subject, broadcast_id)
        counts = await broadcast_service.breakdown(uow, shop.org.subject, again)
        assert again.status == "draft" and again.audience["kind"] == "outcome"
        assert counts.eligible == 1
        with pytest.raises(Conflict):
            await broadcast_service.cancel(uow, shop.org.subject, broadcast_id)  # completed: nothing to cancel
    second = await launch(shop, template_id)
    async with unit_of_work(shop.runtime) as uow:
        cancelled = await broadcast_service.cancel(uow, shop.org.subject, second)
        assert cancelled.status == "cancelled"
    await shop.settle(seconds=2)
    assert {r.state for r in (await recipients(shop, second)).values()} <= {"cancelled"}
    assert all(n == 1 for n in (await sandbox_received(shop)).values())


async def test_contacts_without_a_value_for_an_unfallbacked_variable_are_skipped_with_the_reason(shop: Shop
                                                                                                 ) -> None:
    template_id = await marketing_template(shop)
    await add_contacts(shop, 2)
    await add_contacts(shop, 1, start=50, attributes={"discount": "30%"})
    mapping = {"mapping": {"body.first_name": {"source": "field", "value": "first_name"},
                           "body.discount": {"source": "attribute", "value": "discount"}}}
    async with unit_of_work(shop.runtime) as uow:
        created = await broadcast_service.create(uow, shop.org.subject, BroadcastInput(
            name="Per-contact discount", template_id=template_id, audience={"kind": "all"}, variables=mapping))
        counts = await broadcast_service.breakdown(uow, shop.org.subject, created)
        assert (counts.eligible, counts.missing_variable) == (1, 2)
        await broadcast_service.launch(uow, shop.org.subject, created.id)
    await run_until_done(shop, created.id)
    rows = await recipients(shop, created.id)
    assert {w: (r.state, r.reason) for w, r in rows.items()} == {
        number(0): ("skipped", "missing_variable"), number(1): ("skipped", "missing_variable"),
        number(50): ("sent", None)}
    assert await sandbox_received(shop) == {number(50): 1}
