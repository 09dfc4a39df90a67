"""Each error code path of a broadcast against the sandbox (sync refusals and `failed` webhooks), the messaging
limit tier, and a paused or re-categorized template."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from softdukan.broadcast.service import broadcast_service
from softdukan.number.models import WhatsAppAccount
from softdukan.platform.jobs.models import Job
from softdukan.platform.uow import unit_of_work
from softdukan.sandbox import service as sandbox
from tests.broadcast.engine_support import (
    add_contacts,
    broadcast,
    launch,
    marketing_template,
    number,
    recipients,
    run_until_done,
    sandbox_received,
)
from tests.template.conftest import Shop


async def profile(shop: Shop, **changes: object) -> None:
    async with unit_of_work(shop.runtime) as uow:
        await sandbox.update_profile(uow, changes)


async def funnel(shop: Shop, broadcast_id: int):  # type: ignore[no-untyped-def]
    async with unit_of_work(shop.runtime) as uow:
        found = await broadcast_service.get(uow, shop.org.subject, broadcast_id)
        return await broadcast_service.funnel(uow, shop.org.subject, found)


async def test_throughput_refusals_130429_are_requeued_and_every_recipient_still_gets_exactly_one(shop: Shop
                                                                                                   ) -> None:
    template_id = await marketing_template(shop)
    await add_contacts(shop, 12)
    await profile(shop, throughput_mps=1)  # Meta's bucket is smaller than the level we pace at: 130429 happens
    shop.runtime.limiter._clock = shop.clock  # type: ignore[attr-defined]  # both buckets on the test's clock
    broadcast_id = await launch(shop, template_id)
    done = await run_until_done(shop, broadcast_id, rounds=120)
    assert done.status == "completed", done.notice
    assert await sandbox_received(shop) == {number(i): 1 for i in range(12)}
    rows = await recipients(shop, broadcast_id)
    assert {r.state for r in rows.values()} == {"sent"}
    assert max(r.attempts for r in rows.values()) > 1  # some were refused with 130429 first


async def test_permanent_failures_fail_the_recipient_with_metas_reason(shop: Shop) -> None:
    template_id = await marketing_template(shop)
    await add_contacts(shop, 4)
    await profile(shop, failures=[{"code": 131026, "recipient": number(1)}])
    async with unit_of_work(shop.runtime) as uow:
        await sandbox.upsert_customer(uow, number(2), opted_out_marketing=True)  # stopped marketing in WhatsApp
    broadcast_id = await launch(shop, template_id)
    await run_until_done(shop, broadcast_id)
    for _ in range(3):
        await shop.settle(seconds=2)  # the `failed` webhooks come back
    rows = await recipients(shop, broadcast_id)
    assert (rows[number(1)].state, rows[number(1)].error_code) == ("failed", 131026)
    assert (rows[number(2)].state, rows[number(2)].error_code) == ("failed", 131050)
    assert rows[number(1)].detail
    assert {rows[number(0)].state, rows[number(3)].state} == {"sent"}
    counts = await funnel(shop, broadcast_id)
    assert counts.failed == 2 and any(label.startswith("131026") for label in counts.failed_by_reason)
    assert (await sandbox_received(shop))[number(1)] == 1  # failed, never resent


async def test_131049_is_retried_on_the_following_days_up_to_the_broadcasts_count(shop: Shop) -> None:
    template_id = await marketing_template(shop)
    await add_contacts(shop, 2)
    await profile(shop, failures=[{"code": 131049, "recipient": number(0)}])
    broadcast_id = await launch(shop, template_id, retry_days_131049=1)
    await run_until_done(shop, broadcast_id)
    for _ in range(3):
        await shop.settle(seconds=2)
    held = (await recipients(shop, broadcast_id))[number(0)]
    assert (held.state, held.reason, held.deferrals) == ("pending", "meta_held_back", 1)
    assert held.next_attempt_at is not None and held.next_attempt_at >= shop.clock.now() + timedelta(hours=23)
    assert (await broadcast(shop, broadcast_id)).status == "sending"
    shop.clock.advance(hours=24)
    await run_until_done(shop, broadcast_id)
    for _ in range(3):
        await shop.settle(seconds=2)
    held = (await recipients(shop, broadcast_id))[number(0)]
    assert (held.state, held.error_code) == ("failed", 131049)  # the one retry day is used up
    assert (await sandbox_received(shop))[number(0)] == 2  # first day and the following day
    assert (await broadcast(shop, broadcast_id)).status == "completed"


async def test_recipients_beyond_the_messaging_limit_wait_for_the_next_window(shop: Shop) -> None:
    template_id = await marketing_template(shop)
    await add_contacts(shop, 60)
    async with unit_of_work(shop.runtime) as uow:
        await uow.session.execute(update(WhatsAppAccount).where(WhatsAppAccount.id == shop.account.id)
                                  .values(messaging_limit_tier="TIER_50"))
    async with unit_of_work(shop.runtime) as uow:
        from softdukan.broadcast.service import BroadcastInput
        from tests.broadcast.engine_support import MAPPING

        draft = await broadcast_service.create(uow, shop.org.subject, BroadcastInput(
            name="Big", template_id=template_id, audience={"kind": "all"}, variables=MAPPING))
        counts = await broadcast_service.breakdown(uow, shop.org.subject, draft)
    assert (counts.eligible, counts.over_tier, counts.remaining_allowance) == (60, 10, 50)
    broadcast_id = await launch(shop, template_id)
    await run_until_done(shop, broadcast_id, rounds=15)
    rows = await recipients(shop, broadcast_id)
    states = [r.state for r in rows.values()]
    assert states.count("sent") == 50 and states.count("waiting") == 10
    assert (await funnel(shop, broadcast_id)).waiting == 10
    assert len(await sandbox_received(shop)) == 50
    shop.clock.advance(hours=24)
    done = await run_until_done(shop, broadcast_id, rounds=15)
    assert done.status == "completed"
    assert await sandbox_received(shop) == {number(i): 1 for i in range(60)}


async def test_a_paused_template_pauses_the_broadcast_and_resume_finishes_it(shop: Shop) -> None:
    template_id = await marketing_template(shop)
    await add_contacts(shop, 40)
    broadcast_id = await launch(shop, template_id)
    template = await shop.template(template_id)
    assert template.meta_template_id
    await shop.meta("PAUSED", template.meta_template_id)  # WhatsApp pauses it while the broadcast is sending
    await shop.settle()
    paused = await broadcast(shop, broadcast_id)
    assert paused.status == "paused" and paused.pause_reason == "template_paused"
    assert "paused the template diwali_offer" in (paused.notice or "")
    assert len(await sandbox_received(shop)) < 40
    shop.clock.advance(seconds=5)
    await shop.meta("APPROVED", template.meta_template_id)
    await shop.settle()
    async with unit_of_work(shop.runtime) as uow:
        await broadcast_service.resume(uow, shop.org.subject, broadcast_id)
    done = await run_until_done(shop, broadcast_id, rounds=60)
    assert done.status == "completed"
    assert await sandbox_received(shop) == {number(i): 1 for i in range(40)}


async def test_a_recategorized_template_pauses_the_broadcast_with_a_notice(shop: Shop) -> None:
    template_id = await marketing_template(shop)
    await add_contacts(shop, 40)
    broadcast_id = await launch(shop, template_id)
    async with unit_of_work(shop.runtime) as uow:  # the dispatcher is between two runs when the webhook comes
        await uow.session.execute(update(Job).where(Job.name == "broadcast.dispatch")
                                  .values(run_at=shop.clock.now() + timedelta(seconds=5)))
    template = await shop.template(template_id)
    await shop.meta("APPROVED", str(template.meta_template_id), category="UTILITY")
    await shop.settle()
    paused = await broadcast(shop, broadcast_id)
    assert paused.status == "paused" and paused.pause_reason == "template_recategorized", paused.notice
    assert "from MARKETING to UTILITY" in (paused.notice or "")
    shop.clock.advance(seconds=5)
    await shop.drain()
    assert await sandbox_received(shop) == {}  # the dispatcher's next run saw the pause
    async with unit_of_work(shop.runtime) as uow:  # the member checks the new price and goes on
        resumed = await broadcast_service.resume(uow, shop.org.subject, broadcast_id)
        assert resumed.template_category == "UTILITY"
    assert (await run_until_done(shop, broadcast_id)).status == "completed"
    assert len(await sandbox_received(shop)) == 40
