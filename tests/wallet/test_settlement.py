"""Charging by status webhooks (issue 5 item 3): a template holds its price when queued; the first status that
settles it charges (≤ the hold) or releases it, once, whatever order and however often the webhooks come."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import select

from softdukan.ledger.models import LedgerHold
from softdukan.wallet.models import CHARGED, EXPIRED, FREE, HELD, RELEASED, MessageCharge
from tests.conversation.test_statuses import FAILED_131049, send_statuses
from tests.support.whatsapp import status
from tests.support.whatsapp_fixtures import T0
from tests.wallet.support import charge_of, held_template, ledger_findings, wallet

# India, 1 Sep 2025: marketing ₹0.7846 + Basic's ₹0.10 markup; utility ₹0.115 + ₹0.02
MARKETING_IN, UTILITY_IN = 7846 + 1000, 1150 + 200
REGULAR = {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "marketing"}
FREE_SERVICE = {"billable": False, "pricing_model": "PMP", "type": "free_customer_service", "category": "utility"}


async def test_a_template_holds_its_price_and_delivery_charges_it(client, runtime, drain_jobs, wa, clock) -> None:
    before = await wallet(runtime, wa.org.org.id)
    mid = await held_template(runtime, wa, wamid="wamid.m1")
    held = await wallet(runtime, wa.org.org.id)
    assert (held.held_units, held.available_units) == (MARKETING_IN, before.available_units - MARKETING_IN)
    assert held.balance_units == before.balance_units
    await send_statuses(client, drain_jobs, wa, status("wamid.m1", "sent", T0, pricing=REGULAR))
    assert (await charge_of(runtime, mid)).state == HELD  # sent is not delivered: Meta bills deliveries
    await send_statuses(client, drain_jobs, wa, status("wamid.m1", "delivered", T0 + timedelta(seconds=1),
                                                       pricing=REGULAR))
    charge = await charge_of(runtime, mid)
    assert (charge.state, charge.charged_units, charge.category, charge.market) == (CHARGED, MARKETING_IN,
                                                                                   "marketing", "IN")
    after = await wallet(runtime, wa.org.org.id)
    assert (after.held_units, after.balance_units) == (0, before.balance_units - MARKETING_IN)
    assert await ledger_findings(runtime) == []


async def test_duplicated_and_shuffled_pricing_webhooks_charge_each_message_once(client, runtime, drain_jobs, wa,
                                                                                clock) -> None:
    before = await wallet(runtime, wa.org.org.id)
    ids = [await held_template(runtime, wa, wamid=f"wamid.s{i}", to=f"9198123450{i:02d}") for i in range(6)]
    deliveries = []
    for i in range(6):
        wamid, to = f"wamid.s{i}", f"9198123450{i:02d}"
        deliveries += [status(wamid, "sent", T0, recipient=to, pricing=REGULAR),
                       status(wamid, "delivered", T0 + timedelta(seconds=1), recipient=to, pricing=REGULAR),
                       status(wamid, "read", T0 + timedelta(seconds=2), recipient=to)]
    seed = random.randrange(1_000_000)
    shuffled = deliveries * 3
    random.Random(seed).shuffle(shuffled)
    for i in range(0, len(shuffled), 5):
        await send_statuses(client, drain_jobs, wa, *shuffled[i:i + 5])
    charges = [await charge_of(runtime, mid) for mid in ids]
    assert [c.state for c in charges] == [CHARGED] * 6, f"seed {seed}"
    after = await wallet(runtime, wa.org.org.id)
    assert before.balance_units - after.balance_units == 6 * MARKETING_IN, f"seed {seed}"
    assert after.held_units == 0 and await ledger_findings(runtime) == []


async def test_failed_releases_the_hold_and_a_late_delivery_does_not_charge(client, runtime, drain_jobs, wa,
                                                                            clock) -> None:
    before = await wallet(runtime, wa.org.org.id)
    mid = await held_template(runtime, wa, wamid="wamid.f")
    await send_statuses(client, drain_jobs, wa, status("wamid.f", "failed", T0, errors=[FAILED_131049]))
    assert (await charge_of(runtime, mid)).state == RELEASED
    await send_statuses(client, drain_jobs, wa, status("wamid.f", "delivered", T0 + timedelta(seconds=1),
                                                       pricing=REGULAR))
    assert (await charge_of(runtime, mid)).state == RELEASED
    assert await wallet(runtime, wa.org.org.id) == before
    assert await ledger_findings(runtime) == []


@pytest.mark.parametrize("pricing", [FREE_SERVICE,
                                     {"billable": False, "pricing_model": "PMP", "type": "free_entry_point",
                                      "category": "referral_conversion"}])
async def test_free_messages_cost_nothing(client, runtime, drain_jobs, wa, clock, pricing) -> None:
    before = await wallet(runtime, wa.org.org.id)
    mid = await held_template(runtime, wa, wamid="wamid.free", category="UTILITY")
    assert (await wallet(runtime, wa.org.org.id)).held_units == UTILITY_IN
    await send_statuses(client, drain_jobs, wa, status("wamid.free", "sent", T0, pricing=pricing),
                        status("wamid.free", "delivered", T0 + timedelta(seconds=1), pricing=pricing))
    charge = await charge_of(runtime, mid)
    assert (charge.state, charge.charged_units, charge.pricing_type) == (FREE, None, pricing["type"])
    assert await wallet(runtime, wa.org.org.id) == before


async def test_the_charge_is_the_billed_category_and_never_above_the_hold(client, runtime, drain_jobs, wa,
                                                                          clock) -> None:
    """Held as utility; Meta bills it as marketing (re-categorized): charged the hold, the rest recorded."""
    mid = await held_template(runtime, wa, wamid="wamid.re", category="UTILITY")
    await send_statuses(client, drain_jobs, wa, status("wamid.re", "delivered", T0, pricing=REGULAR))
    charge = await charge_of(runtime, mid)
    assert (charge.state, charge.charged_units, charge.shortfall_units) == (CHARGED, UTILITY_IN,
                                                                            MARKETING_IN - UTILITY_IN)
    assert charge.category == "marketing"


async def test_legacy_conversation_pricing_charges_once_per_conversation(client, runtime, drain_jobs, wa,
                                                                         clock) -> None:
    cbp = {"billable": True, "pricing_model": "CBP", "category": "marketing"}
    first = await held_template(runtime, wa, wamid="wamid.c1")
    second = await held_template(runtime, wa, wamid="wamid.c2")
    conversation = {"id": "conv-1", "origin": {"type": "marketing"}}
    await send_statuses(client, drain_jobs, wa, status("wamid.c1", "delivered", T0, pricing=cbp,
                                                       conversation=conversation))
    await send_statuses(client, drain_jobs, wa, status("wamid.c2", "delivered", T0, pricing=cbp,
                                                       conversation=conversation))
    assert [(await charge_of(runtime, m)).state for m in (first, second)] == [CHARGED, FREE]


async def test_an_unsettled_hold_expires_and_a_later_delivery_is_charged_then(client, runtime, drain_jobs, wa,
                                                                              clock) -> None:
    from softdukan.platform.uow import unit_of_work
    from softdukan.wallet.charging import HOLD_TTL, sweep

    before = await wallet(runtime, wa.org.org.id)
    mid = await held_template(runtime, wa, wamid="wamid.x")
    clock.advance(seconds=HOLD_TTL.total_seconds() + 60)
    async with unit_of_work(runtime) as uow:
        assert await sweep(uow) == 1
    charge = await charge_of(runtime, mid)
    assert charge.state == EXPIRED and await wallet(runtime, wa.org.org.id) == before
    async with runtime.sessionmaker() as session:
        hold = await session.get(LedgerHold, charge.hold_id)
        assert hold is not None and hold.state == "expired"
    await send_statuses(client, drain_jobs, wa, status("wamid.x", "delivered", T0, pricing=REGULAR))
    charge = await charge_of(runtime, mid)
    assert (charge.state, charge.charged_units) == (CHARGED, MARKETING_IN)
    assert (await wallet(runtime, wa.org.org.id)).balance_units == before.balance_units - MARKETING_IN
    assert await ledger_findings(runtime) == []


async def test_a_crash_between_the_webhook_and_the_settlement_recovers_to_one_charge(
        client, runtime, drain_jobs, wa, clock, monkeypatch) -> None:
    """The routing job dies after settling (before its commit): the retry settles again from scratch, once."""
    import softdukan.conversation.routing as routing
    from tests.support.whatsapp import envelope, messages_change, post_webhook

    before = await wallet(runtime, wa.org.org.id)
    mid = await held_template(runtime, wa, wamid="wamid.k")
    original = routing.settle_charge
    crashes = []

    async def settle_then_crash(uow, message):  # type: ignore[no-untyped-def]
        await original(uow, message)
        if not crashes:
            crashes.append(message.id)
            raise RuntimeError("worker died after settling")

    monkeypatch.setattr(routing, "settle_charge", settle_then_crash)
    response = await post_webhook(client, envelope(wa.waba_id, [messages_change(
        wa, statuses=[status("wamid.k", "delivered", T0, pricing=REGULAR)])]))
    assert response.status_code == 200
    await drain_jobs()
    assert crashes == [mid]
    clock.advance(seconds=600)  # the routing job's retry is due
    await drain_jobs()
    charge = await charge_of(runtime, mid)
    assert (charge.state, charge.charged_units) == (CHARGED, MARKETING_IN)
    assert (await wallet(runtime, wa.org.org.id)).balance_units == before.balance_units - MARKETING_IN
    async with runtime.sessionmaker() as session:
        holds = (await session.execute(select(LedgerHold))).scalars().all()
    assert [h.state for h in holds] == ["posted"]
    assert await ledger_findings(runtime) == []


async def test_the_sweeper_settles_what_meta_told_through_the_same_batch(client, runtime, drain_jobs, wa,
                                                                         clock) -> None:
    """Past the hold's expiry, the sweeper decides what a status would have decided and settles it in the batch:
    a delivery recorded whose charge was never decided (routing lost), a decision whose settlement job was lost,
    and, with no word from Meta, an expiry."""
    from sqlalchemy import update

    from softdukan.conversation import status as st
    from softdukan.conversation.models import Message
    from softdukan.platform.uow import unit_of_work
    from softdukan.wallet.charging import HOLD_TTL, _decide, sweep

    before = await wallet(runtime, wa.org.org.id)
    undecided = await held_template(runtime, wa, wamid="wamid.u1", to="919812345001")
    decided = await held_template(runtime, wa, wamid="wamid.u2", to="919812345002")
    silent = await held_template(runtime, wa, wamid="wamid.u3", to="919812345003")
    charge_id = (await charge_of(runtime, decided)).id
    async with unit_of_work(runtime) as uow:
        await uow.session.execute(update(Message).where(Message.id.in_([undecided, decided])).values(
            status=st.DELIVERED, status_rank=st.RANK[st.DELIVERED], billable=True, pricing_model="PMP",
            pricing_type="regular", pricing_category="marketing"))
        message = await uow.session.get(Message, decided)
        charge = await uow.session.get(MessageCharge, charge_id)
        assert message is not None and charge is not None
        await _decide(uow, charge, message, "charge", queue=False)  # decided; its settlement job never ran
    assert (await charge_of(runtime, decided)).decision == "charge"
    assert (await charge_of(runtime, undecided)).decision is None
    clock.advance(seconds=HOLD_TTL.total_seconds() + 60)
    async with unit_of_work(runtime) as uow:
        assert await sweep(uow) == 3
    states = [(c.state, c.charged_units) for c in [await charge_of(runtime, m) for m in (undecided, decided, silent)]]
    assert states == [(CHARGED, MARKETING_IN), (CHARGED, MARKETING_IN), (EXPIRED, None)]
    after = await wallet(runtime, wa.org.org.id)
    assert (after.held_units, after.balance_units) == (0, before.balance_units - 2 * MARKETING_IN)
    async with unit_of_work(runtime) as uow:
        assert await sweep(uow) == 0  # nothing twice
    assert await wallet(runtime, wa.org.org.id) == after
    assert await ledger_findings(runtime) == []
