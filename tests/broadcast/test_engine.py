"""The broadcast engine end to end in-process: snapshot, consent at snapshot and at send time, sends through the
sandbox, statuses back, the funnel."""

from __future__ import annotations

from softdukan.broadcast.service import broadcast_service
from softdukan.platform.uow import unit_of_work
from tests.broadcast.engine_support import (
    add_contacts,
    launch,
    marketing_template,
    number,
    recipients,
    run_until_done,
    sandbox_received,
)
from tests.template.conftest import Shop


async def test_a_broadcast_reaches_every_eligible_contact_once_and_skips_the_rest(shop: Shop) -> None:
    template_id = await marketing_template(shop)
    await add_contacts(shop, 30)
    await add_contacts(shop, 1, start=100, opted_out_at=shop.clock.now())
    await add_contacts(shop, 1, start=101, blocked_at=shop.clock.now())
    broadcast_id = await launch(shop, template_id)
    done = await run_until_done(shop, broadcast_id)
    assert done.status == "completed", done.notice
    received = await sandbox_received(shop)
    assert received == {number(i): 1 for i in range(30)}
    rows = await recipients(shop, broadcast_id)
    assert rows[number(100)].state == "skipped" and rows[number(100)].reason == "opted_out"
    assert rows[number(101)].state == "skipped" and rows[number(101)].reason == "blocked"
    assert {r.state for w, r in rows.items() if w not in (number(100), number(101))} == {"sent"}
    for _ in range(3):  # the sandbox's sent and delivered webhooks come back after their delays
        await shop.settle(seconds=2)
    async with unit_of_work(shop.runtime) as uow:
        b = await broadcast_service.get(uow, shop.org.subject, broadcast_id)
        funnel = await broadcast_service.funnel(uow, shop.org.subject, b)
    assert (funnel.total, funnel.sent, funnel.skipped, funnel.failed) == (32, 30, 2, 0)
    assert funnel.skipped_by_reason == {"Opted out of marketing": 1, "Blocked": 1}
    assert funnel.delivered == 30  # the sandbox's status webhooks came back and moved the messages
