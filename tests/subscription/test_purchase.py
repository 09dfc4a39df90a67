"""Buying a plan (issue 6 item 3): plan + add-ons + setup fee → Razorpay (the sandbox) → GST invoice → active for
one year; applied once whatever the order of the checkout's return and the webhooks; a mid-year upgrade charges the
prorated difference at once; a downgrade waits for the renewal; renewal opens in the last 60 days."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from softdukan.billing.models import BillingDocument, BillingDocumentLine
from softdukan.kit.clock import FrozenClock
from softdukan.ledger.models import LedgerTransaction
from softdukan.platform.uow import unit_of_work
from softdukan.sandbox.graph.webhooks import use_transport
from softdukan.subscription import entitlements, purchase
from softdukan.subscription import service as subscriptions
from softdukan.subscription.models import ACTIVE, PlanOrder
from tests.support.factories import browser_sign_in, form_post, make_org
from tests.support.plans import subscribe
from tests.wallet.support import ledger_findings

PRO, AGENT, SETUP = 24_999_00, 1_200_00, 4_999_00


@pytest.fixture
async def shop(runtime, app, client) -> AsyncIterator:  # type: ignore[no-untyped-def]
    org = await make_org(runtime, "Plan Shop")
    use_transport(httpx.ASGITransport(app=app))  # the sandbox's webhooks come back into this app
    try:
        yield org
    finally:
        use_transport(None)


async def pay(client: httpx.AsyncClient, order_id: str) -> dict[str, str]:
    response = await client.post(f"/sandbox/razorpay/_sandbox/orders/{order_id}/pay", json={})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_subscribing_with_add_ons_invoices_once_and_activates_a_year(client, runtime, drain_jobs,
                                                                           shop) -> None:
    created = await client.post("/v1/subscription/orders", headers=shop.auth, json={
        "plan": "pro", "addons": {"extra_agent": 2, "setup_assist": 1}})
    assert created.status_code == 201, created.text
    body = created.json()
    taxable = PRO + 2 * AGENT + SETUP
    assert (body["kind"], body["state"], body["taxable_paise"]) == ("new", "paying", taxable)
    assert (body["cgst_paise"], body["sgst_paise"], body["igst_paise"]) == (taxable * 9 // 100,) * 2 + (0,)
    assert body["razorpay_key_id"] == runtime.settings.razorpay_keys[0] and "/checkout/" in body["checkout_url"]
    await pay(client, body["razorpay_order_id"])
    await drain_jobs()  # payment.captured and order.paid, signed: applied once
    await drain_jobs()
    async with unit_of_work(runtime) as uow:
        sub = await subscriptions.get(uow, shop.org.id)
        ent = await entitlements.of(uow, shop.org.id)
    assert (sub.status, ent.plan_code, sub.addons) == (ACTIVE, "pro", {"extra_agent": 2})
    assert sub.current_period_end == subscriptions.one_year_after(sub.current_period_start)  # type: ignore[arg-type]
    assert ent.allowed("agents") == 15 + 2 and ent.has("payments")  # Pro plus two extra members
    async with runtime.sessionmaker() as session:
        order = await session.scalar(select(PlanOrder).where(PlanOrder.id == body["id"]))
        assert order is not None and order.state == "paid" and order.invoice_id is not None
        invoice = await session.get(BillingDocument, order.invoice_id)
        lines = (await session.execute(select(BillingDocumentLine).where(
            BillingDocumentLine.document_id == order.invoice_id))).scalars().all()
        postings = (await session.execute(select(LedgerTransaction).where(LedgerTransaction.kind == "plan"))).all()
    assert invoice is not None and (invoice.total_paise, invoice.source) == (body["total_paise"], "plan_order")
    assert len(lines) == 3 and len(postings) == 1
    assert await ledger_findings(runtime) == []
    fetched = (await client.get(f"/v1/subscription/orders/{body['id']}", headers=shop.auth)).json()
    assert (fetched["state"], fetched["invoice_id"]) == ("paid", order.invoice_id)


async def test_the_dashboard_flow_and_a_forged_return(client, runtime, drain_jobs, shop) -> None:
    await browser_sign_in(client, shop.owner.email)
    page = await client.get("/settings/plan")
    assert page.status_code == 200 and 'data-choose="pro"' in page.text
    chosen = await client.get("/settings/plan/choose", params={"plan": "pro", "qty_extra_agent": "1"})
    assert chosen.status_code == 200 and "₹" in chosen.text and "Pay ₹" in chosen.text
    started = await form_post(client, "/settings/plan/orders", {"plan": "pro", "qty_extra_agent": "1"},
                              page="/settings/plan/choose?plan=pro")
    assert started.status_code == 303, started.text
    pay_page = await client.get(started.headers["location"])
    async with runtime.sessionmaker() as session:
        order = await session.scalar(select(PlanOrder).where(PlanOrder.organization_id == shop.org.id))
    assert order is not None and order.razorpay_order_id and order.razorpay_order_id in pay_page.text
    paid = await pay(client, order.razorpay_order_id)
    back = f"/settings/plan/orders/{order.id}/return"
    forged = await client.get(back, params={"razorpay_payment_id": paid["razorpay_payment_id"],
                                            "razorpay_order_id": order.razorpay_order_id,
                                            "razorpay_signature": "0" * 64})
    assert forged.status_code == 303 and "not_genuine" in forged.headers["location"]
    async with unit_of_work(runtime) as uow:
        assert (await subscriptions.get(uow, shop.org.id)).status == "trialing"  # nothing applied
    returned = await client.get(back, params={k: paid[k] for k in ("razorpay_payment_id", "razorpay_order_id",
                                                                     "razorpay_signature")})
    assert returned.status_code == 303 and returned.headers["location"].endswith("flash=paid")
    await drain_jobs()  # the webhooks then change nothing
    async with unit_of_work(runtime) as uow:
        sub = await subscriptions.get(uow, shop.org.id)
    assert sub.status == ACTIVE and sub.addons == {"extra_agent": 1}
    async with runtime.sessionmaker() as session:
        assert len((await session.execute(select(LedgerTransaction).where(LedgerTransaction.kind == "plan"))
                    ).all()) == 1
    # mid-year the current plan is not renewable yet, but add-ons for the rest of the year are on offer
    current = await client.get("/settings/plan/choose", params={"plan": "pro"})
    assert current.status_code == 200 and "Add-ons for the rest of the year" in current.text
    priced = await client.get("/settings/plan/choose", params={"plan": "pro", "qty_extra_agent": "2"})
    assert 'data-kind="addons"' in priced.text and "for the rest of the year" in priced.text


async def test_an_upgrade_mid_year_charges_the_prorated_difference_and_a_downgrade_waits(client, runtime,
                                                                                         drain_jobs, shop) -> None:
    start = runtime.clock.now()
    runtime.clock = FrozenClock(start)
    await subscribe(runtime, shop.org.id, "basic")  # a paid Basic year from now
    runtime.clock.advance(days=73)
    async with unit_of_work(runtime) as uow:
        sub = await subscriptions.get(uow, shop.org.id)
        year = sub.current_period_end - sub.current_period_start  # type: ignore[operator]
        q = await purchase.quote(uow, shop.org.id, "pro")
    assert q.kind == "upgrade" and q.period_end == sub.current_period_end
    assert q.taxable_paise == purchase.prorated(PRO - 9_999_00, year - timedelta(days=73), year)
    refused = await client.post("/v1/subscription/orders", headers=shop.auth, json={"plan": "basic"})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "renewal_not_open"
    upgrade = await client.post("/v1/subscription/orders", headers=shop.auth, json={"plan": "pro"})
    assert upgrade.status_code == 201 and upgrade.json()["taxable_paise"] == q.taxable_paise
    await pay(client, upgrade.json()["razorpay_order_id"])
    await drain_jobs()
    async with unit_of_work(runtime) as uow:  # Pro at once, the year's end unchanged
        upgraded = await subscriptions.get(uow, shop.org.id)
        assert (await entitlements.of(uow, shop.org.id)).plan_code == "pro"
    assert upgraded.current_period_end == sub.current_period_end
    down = await client.post("/v1/subscription/orders", headers=shop.auth, json={"plan": "basic"})
    assert down.status_code == 409 and down.json()["error"]["code"] == "downgrade_at_renewal"
    runtime.clock.advance(days=365 - 73 - 30)  # 30 days left: renewal opens, from the end of the paid year
    async with unit_of_work(runtime) as uow:
        renewal = await purchase.quote(uow, shop.org.id, "pro")
    assert renewal.kind == "renewal" and renewal.period_start == subscriptions.one_year_after(start)


async def test_bad_orders_are_refused_with_nothing_changed(client, runtime, shop) -> None:
    for body, status, code in (({"plan": "platinum"}, 404, "plan_not_found"),
                               ({"plan": "pro", "addons": {"teleport": 1}}, 422, "unknown_product"),
                               ({"plan": "pro", "addons": {"extra_agent": -1}}, 422, "invalid_quantity"),
                               ({"plan": "pro", "addons": {"extra_agent": 101}}, 422, "invalid_quantity")):
        response = await client.post("/v1/subscription/orders", headers=shop.auth, json=body)
        assert (response.status_code, response.json()["error"]["code"]) == (status, code), response.text
    other = await make_org(runtime, "Other Shop")
    mine = await client.post("/v1/subscription/orders", headers=shop.auth, json={"plan": "pro"})
    assert mine.status_code == 201
    theirs = await client.get(f"/v1/subscription/orders/{mine.json()['id']}", headers=other.auth)
    assert theirs.status_code == 404
    async with runtime.sessionmaker() as session:
        assert len((await session.execute(select(PlanOrder))).all()) == 1


async def test_add_ons_bought_mid_year_co_term_with_the_paid_year(client, runtime, drain_jobs, shop) -> None:
    runtime.clock = FrozenClock(runtime.clock.now())
    await subscribe(runtime, shop.org.id, "pro")
    runtime.clock.advance(days=146)
    async with unit_of_work(runtime) as uow:
        sub = await subscriptions.get(uow, shop.org.id)
        agents = (await entitlements.of(uow, shop.org.id)).allowed("agents")
        year, left = sub.current_period_end - sub.current_period_start, sub.current_period_end - uow.clock.now()  # type: ignore[operator]
    created = await client.post("/v1/subscription/orders", headers=shop.auth, json={
        "plan": "pro", "addons": {"extra_agent": 2, "setup_assist": 1}})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["kind"] == "addons"
    assert body["taxable_paise"] == purchase.prorated(2 * AGENT, left, year) + SETUP  # the one-time fee in full
    await pay(client, body["razorpay_order_id"])
    await drain_jobs()
    async with unit_of_work(runtime) as uow:
        after = await subscriptions.get(uow, shop.org.id)
        ent = await entitlements.of(uow, shop.org.id)
    assert (after.current_period_end, after.addons) == (sub.current_period_end, {"extra_agent": 2})
    assert ent.allowed("agents") == agents + 2  # type: ignore[operator]
    again = await client.post("/v1/subscription/orders", headers=shop.auth, json={
        "plan": "pro", "addons": {"extra_agent": 1}})
    await pay(client, again.json()["razorpay_order_id"])
    await drain_jobs()
    async with unit_of_work(runtime) as uow:  # quantities add up over the year
        assert (await subscriptions.get(uow, shop.org.id)).addons == {"extra_agent": 3}
    assert await ledger_findings(runtime) == []
