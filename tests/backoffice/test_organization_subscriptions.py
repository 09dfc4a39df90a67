"""Backoffice → Organizations and their subscriptions: the list's plan, status, end date and "cancels at period end"
with a status filter; one organization's page (owners, subscription and its history, plan orders, wallet top-ups
and balance, tickets, refund requests); and staff extending a free trial, with a reason, in the audit log."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import func, select

from softdukan.audit.models import AuditEvent
from softdukan.billing.models import BillingDocument
from softdukan.kit.clock import FrozenClock
from softdukan.platform.runtime import Runtime
from softdukan.platform.uow import unit_of_work
from softdukan.sandbox.graph.webhooks import use_transport
from softdukan.subscription import entitlements, lifecycle
from softdukan.subscription import service as subscriptions
from softdukan.subscription.models import PlanOrder, Subscription, SubscriptionEvent
from softdukan.wallet import service as wallets
from softdukan.wallet.charging import rupees as credit_rupees
from softdukan.wallet.models import Topup
from tests.support.factories import OrgFixture, browser_sign_in, csrf_from, make_org
from tests.support.plans import subscribe
from tests.support_tickets.helpers import emails_to, make_staff, open_ticket, staff_post, staff_session

REASON = "Onboarding call with the owner ran late"
IST = ZoneInfo("Asia/Kolkata")


def rows_of(html: str) -> dict[int, str]:
    return {int(m.group(1)): m.group(2) for m in re.finditer(r'<tr id="org-(\d+)">(.*?)</tr>', html, re.S)}


async def sub_of(runtime: Runtime, organization_id: int) -> Subscription:
    async with unit_of_work(runtime) as uow:
        return await subscriptions.get(uow, organization_id)


async def events_of(runtime: Runtime, organization_id: int) -> list[str]:
    async with runtime.sessionmaker() as session:
        return list((await session.execute(select(SubscriptionEvent.kind).where(
            SubscriptionEvent.organization_id == organization_id).order_by(SubscriptionEvent.id))).scalars())


async def audit_count(runtime: Runtime) -> int:
    async with runtime.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "subscription.trial_extended")) or 0)


async def expire_trial(runtime: Runtime, org: OrgFixture) -> None:
    """Moves the (frozen) clock past the trial and runs the scheduled sweep, as production does."""
    assert isinstance(runtime.clock, FrozenClock)
    runtime.clock.advance(days=runtime.settings.trial_days, hours=1)
    async with unit_of_work(runtime) as uow:
        await subscriptions.sweep_trials(uow)
    assert (await sub_of(runtime, org.org.id)).status == "trial_expired"


@pytest.fixture
def frozen(runtime: Runtime) -> FrozenClock:
    runtime.clock = FrozenClock(runtime.clock.now())
    return runtime.clock


@pytest.fixture
async def shop(runtime, app) -> AsyncIterator[OrgFixture]:  # type: ignore[no-untyped-def]
    org = await make_org(runtime, "Paid Pickles")
    use_transport(httpx.ASGITransport(app=app))  # the sandbox's Razorpay webhooks come back into this app
    try:
        yield org
    finally:
        use_transport(None)


# --- the list -----------------------------------------------------------------------------------------------------


async def test_the_list_shows_each_subscription_and_filters_by_status(app, runtime, settings, frozen) -> None:
    expired = await make_org(runtime, "Expired Emporium")
    await expire_trial(runtime, expired)
    trialing = await make_org(runtime, "Trial Traders")
    paid = await make_org(runtime, "Paid Pickles")
    await subscribe(runtime, paid.org.id, "pro")
    async with unit_of_work(runtime) as uow:
        await lifecycle.cancel(uow, paid.org.id, by="owner@example.com")
    trial_end, period_end = (await sub_of(runtime, trialing.org.id)).trial_ends_at, \
        (await sub_of(runtime, paid.org.id)).current_period_end
    assert trial_end and period_end
    await make_staff(settings)
    async with staff_session(app) as staff:
        page = await staff.get("/backoffice")
        assert page.status_code == 200
        rows = rows_of(page.text)
        assert set(rows) == {expired.org.id, trialing.org.id, paid.org.id}
        assert "data-plan>Basic<" in rows[trialing.org.id] and 'data-subscription="trialing"' in rows[trialing.org.id]
        assert f"data-ends>{trial_end.astimezone(IST):%d %b %Y}<" in rows[trialing.org.id]
        assert "data-cancels" not in rows[trialing.org.id]
        assert "data-plan>Pro<" in rows[paid.org.id] and 'data-subscription="active"' in rows[paid.org.id]
        assert f"data-ends>{period_end.astimezone(IST):%d %b %Y}<" in rows[paid.org.id]
        assert "Cancels at period end" in rows[paid.org.id]
        assert 'data-subscription="trial_expired"' in rows[expired.org.id]
        for org in (expired, trialing, paid):  # each name opens its page
            assert f'href="/backoffice/organizations/{org.org.id}"' in rows[org.org.id]

        async def listed(**params: str) -> set[int]:
            response = await staff.get("/backoffice", params=params)
            assert response.status_code == 200, params
            return set(rows_of(response.text))

        assert await listed(status="active") == {paid.org.id}
        assert await listed(status="trial_expired") == {expired.org.id}
        assert await listed(status="trialing") == {trialing.org.id}
        assert await listed(status="trialing", q="Pickles") == set()  # the search still applies
        assert await listed(status="active", q="pickles") == {paid.org.id}
        assert await listed(status="canceled") == set()
        assert await listed(status="none") == set()
        assert await listed(status="bogus") == set(rows)  # an unknown status filters nothing
        selected = await staff.get("/backoffice", params={"status": "past_due"})
        assert '<option value="past_due" selected>' in selected.text and "No organization matches" in selected.text
        assert (await staff.get("/backoffice", params={"status": "x" * 31})).status_code == 422


# --- the organization's page --------------------------------------------------------------------------------------


async def _paid_topup_and_plan(client: httpx.AsyncClient, shop: OrgFixture, drain_jobs) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    topup = (await client.post("/v1/wallet/recharges", json={"amount_paise": 100_000}, headers=shop.auth)).json()
    order = (await client.post("/v1/subscription/orders", json={"plan": "pro", "addons": {"extra_agent": 2}},
                              headers=shop.auth)).json()
    for razorpay_order in (topup["razorpay_order_id"], order["razorpay_order_id"]):
        paid = await client.post(f"/sandbox/razorpay/_sandbox/orders/{razorpay_order}/pay", json={})
        assert paid.status_code == 200, paid.text
    await drain_jobs()
    await drain_jobs()
    return topup["id"], order["id"]


async def test_the_page_shows_subscription_history_orders_topups_wallet_tickets_and_refunds(
        app, client, runtime, settings, drain_jobs, shop) -> None:
    topup_id, order_id = await _paid_topup_and_plan(client, shop, drain_jobs)
    async with runtime.sessionmaker() as session:
        topup, order = await session.get(Topup, topup_id), await session.get(PlanOrder, order_id)
    assert topup is not None and topup.state == "credited" and order is not None and order.state == "paid"
    refund = await client.post("/v1/refund-requests", json={"transaction_ref": topup.razorpay_payment_id,
                                                            "reason": "The numbers kept disconnecting for weeks."},
                               headers=shop.auth)
    assert refund.status_code == 201, refund.text
    await open_ticket(runtime, shop)
    await open_ticket(runtime, shop, category="billing", subject="Invoice copy")
    other = await make_org(runtime, "Bystander Bakery")
    await open_ticket(runtime, other)
    async with unit_of_work(runtime) as uow:
        wallet = await wallets.summary_for(uow, shop.org.id)
    assert wallet.balance_units == settings.signup_credit_units + 100_000 * 100

    await make_staff(settings)
    async with staff_session(app) as staff:
        page = await staff.get(f"/backoffice/organizations/{shop.org.id}")
        assert page.status_code == 200, page.text
        html = page.text
        assert "Paid Pickles" in html and shop.owner.email in html and 'data-status="active"' in html
        assert "data-plan>Pro<" in html and 'data-subscription="active"' in html
        assert re.search(r"data-cancels>No<", html) and "data-addons>Extra team member × 2<" in html
        # history, newest first
        assert re.findall(r'data-event="([\w.]+)"', html) == ["subscription.activated", "trial.started"]
        # the plan order, in rupees, with its invoice
        order_row = re.search(rf'<tr id="order-{order_id}">(.*?)</tr>', html, re.S).group(1)  # type: ignore[union-attr]
        assert "new" in order_row and "Pro" in order_row and 'data-state="paid"' in order_row
        assert "₹32,330.82" in order_row  # ₹24,999 + 2 × ₹1,200, + 18% GST
        async with runtime.sessionmaker() as session:
            order_invoice = await session.get(BillingDocument, order.invoice_id)
            topup_invoice = await session.get(BillingDocument, topup.invoice_id)
        assert order_invoice and order_invoice.number and order_invoice.number in order_row
        # the top-up: the credits and what was paid for them
        topup_row = re.search(rf'<tr id="topup-{topup_id}">(.*?)</tr>', html, re.S).group(1)  # type: ignore[union-attr]
        assert 'data-state="credited"' in topup_row and "₹1,000.00" in topup_row and "₹1,180.00" in topup_row
        assert topup_invoice and topup_invoice.number and topup_invoice.number in topup_row
        # the wallet (1/10,000 rupee units shown as rupees)
        assert f"data-balance>{credit_rupees(wallet.balance_units)}<" in html
        # tickets: this organization's count, linked to the queue filtered to it
        assert f'<a href="/backoffice/tickets?organization={shop.org.id}">2 tickets</a>' in html
        # refund requests, each linked to its staff page
        refund_id = refund.json()["id"]
        refund_row = re.search(rf'<tr id="refund-{refund_id}">(.*?)</tr>', html, re.S).group(1)  # type: ignore[union-attr]
        assert f'href="/backoffice/refunds/{refund_id}"' in refund_row and "credits" in refund_row
        assert "₹1,180.00" in refund_row and f'data-state="{refund.json()["state"]}"' in refund_row
        # a paid plan cannot have its trial extended: no form
        assert 'action="/backoffice/organizations/' not in html

        bare = await staff.get(f"/backoffice/organizations/{other.org.id}")
        assert bare.status_code == 200
        for empty in ("no-orders", "no-topups", "no-refunds"):
            assert f'id="{empty}"' in bare.text
        assert "1 ticket<" in bare.text and f'action="/backoffice/organizations/{other.org.id}/extend-trial"' \
            in bare.text


async def test_unknown_organization_is_404_and_bad_ids_are_422(app, runtime, settings) -> None:
    await make_staff(settings)
    async with staff_session(app) as staff:
        missing = await staff.get("/backoffice/organizations/999999")
        assert missing.status_code == 404 and "No organization with this id." in missing.text
        posted = await staff_post(staff, "/backoffice/organizations/999999/extend-trial",
                                  {"days": "5", "reason": REASON})
        assert posted.status_code == 404 and "No organization" in posted.text
        for bad in ("abc", "0", "-1", str(2**70)):
            assert (await staff.get(f"/backoffice/organizations/{bad}")).status_code == 422, bad
        assert (await staff.get("/backoffice/organizations/1", params={"done": "<script>"})).status_code == 404
    assert await audit_count(runtime) == 0


# --- extending the trial ----------------------------------------------------------------------------------------


async def test_extending_a_running_trial_moves_its_end_and_is_audited(app, client, runtime, settings) -> None:
    shop = await make_org(runtime, "Trial Traders")
    bystander = await make_org(runtime, "Bystander Bakery")
    before, bystander_before = await sub_of(runtime, shop.org.id), await sub_of(runtime, bystander.org.id)
    assert before.status == "trialing" and before.trial_ends_at is not None
    await make_staff(settings)
    async with staff_session(app) as staff:
        done = await staff_post(staff, f"/backoffice/organizations/{shop.org.id}/extend-trial",
                                {"days": " 10 ", "reason": f"  {REASON}  "})
        assert done.status_code == 303, done.text
        assert done.headers["location"] == f"/backoffice/organizations/{shop.org.id}?done=extended"
        page = await staff.get(done.headers["location"])
        assert "The free trial is extended" in page.text
        assert re.findall(r'data-event="([\w.]+)"', page.text)[0] == "trial.extended"

    after = await sub_of(runtime, shop.org.id)
    assert after.status == "trialing" and after.trial_ends_at == before.trial_ends_at + timedelta(days=10)
    assert after.trial_reminded_at is None
    assert (await sub_of(runtime, bystander.org.id)).trial_ends_at == bystander_before.trial_ends_at
    assert await events_of(runtime, shop.org.id) == ["trial.started", "trial.extended"]
    # the owners are told, in words without staff's internal reason
    (mail,) = await emails_to(runtime, shop.owner.email)
    assert "extended your free trial by 10 days" in mail.body_text and REASON not in mail.body_text

    # in the organization's own audit log, by staff, with the reason; not in anyone else's
    events = (await client.get("/v1/audit-events", params={"action": "subscription."}, headers=shop.auth)).json()
    (event,) = events
    assert (event["action"], event["actor_type"], event["actor_label"]) == (
        "subscription.trial_extended", "staff", "sam@staff.example.com")
    assert event["details"]["reason"] == REASON and event["details"]["days"] == 10
    assert event["details"]["previous_status"] == "trialing"
    assert event["target_type"] == "subscriptions" and event["target_id"] == after.id
    assert (await client.get("/v1/audit-events", params={"action": "subscription."},
                             headers=bystander.auth)).json() == []


async def test_an_expired_trial_without_a_paid_plan_runs_again(app, runtime, settings, frozen) -> None:
    shop = await make_org(runtime, "Expired Emporium")
    await expire_trial(runtime, shop)
    async with unit_of_work(runtime) as uow:
        assert not (await entitlements.of(uow, shop.org.id)).entitled
    await make_staff(settings)
    async with staff_session(app) as staff:
        page = await staff.get(f"/backoffice/organizations/{shop.org.id}")
        assert "starts it again from now" in page.text
        done = await staff_post(staff, f"/backoffice/organizations/{shop.org.id}/extend-trial",
                                {"days": "5", "reason": REASON})
        assert done.status_code == 303, done.text
    sub = await sub_of(runtime, shop.org.id)
    assert sub.status == "trialing" and sub.status_reason == ""
    assert sub.trial_ends_at == frozen.now() + timedelta(days=5)  # from now: the old end is past
    async with unit_of_work(runtime) as uow:
        assert (await entitlements.of(uow, shop.org.id)).entitled
    assert await events_of(runtime, shop.org.id) == ["trial.started", "trial.expired", "trial.extended"]
    frozen.advance(days=2, hours=1)  # the "ends soon" reminder is due again before the new end …
    async with unit_of_work(runtime) as uow:
        assert await subscriptions.sweep_trials(uow) == subscriptions.Swept(reminded=1, expired=0)
    frozen.advance(days=3)  # … and the sweep ends it at the new end
    async with unit_of_work(runtime) as uow:
        assert await subscriptions.sweep_trials(uow) == subscriptions.Swept(reminded=0, expired=1)


async def test_bad_input_or_a_paid_plan_changes_nothing(app, runtime, settings) -> None:
    shop = await make_org(runtime, "Trial Traders")
    paid = await make_org(runtime, "Paid Pickles")
    await subscribe(runtime, paid.org.id, "pro")
    canceled = await make_org(runtime, "Cancelled Cafe")
    async with unit_of_work(runtime) as uow:
        await subscriptions.cancel_trial(uow, canceled.org.id, by="owner")
    before = await sub_of(runtime, shop.org.id)
    await make_staff(settings)
    async with staff_session(app) as staff:
        path = f"/backoffice/organizations/{shop.org.id}/extend-trial"
        for days in ("0", "31", "-1", "", "abc", "1.5", "9" * 5000, "١٢"):
            refused = await staff_post(staff, path, {"days": days, "reason": REASON})
            assert refused.status_code == 422, days
            assert "Extend the trial by 1 to 30 days." in refused.text
            assert "A whole number of days from 1 to 30." in refused.text  # at the field
        for reason, message in (("", "Say why the trial is extended."), ("  \t ", "Say why the trial is extended."),
                                ("x" * 301, "The reason is too long.")):
            refused = await staff_post(staff, path, {"days": "7", "reason": reason})
            assert refused.status_code == 422 and message in refused.text, reason
        kept = await staff_post(staff, path, {"days": "31", "reason": "Typed by staff"})
        assert 'value="Typed by staff"' in kept.text and 'value="31"' in kept.text  # what was typed stays
        assert (await staff_post(staff, path, {"reason": REASON})).status_code == 422  # no days at all

        on_paid = await staff_post(staff, f"/backoffice/organizations/{paid.org.id}/extend-trial",
                                   {"days": "7", "reason": REASON})
        assert on_paid.status_code == 409 and "Paid Pickles has a paid plan" in on_paid.text
        on_canceled = await staff_post(staff, f"/backoffice/organizations/{canceled.org.id}/extend-trial",
                                       {"days": "7", "reason": REASON})
        assert on_canceled.status_code == 409 and "cancelled its free trial" in on_canceled.text

        no_csrf = await staff.post(path, data={"days": "7", "reason": REASON})
        assert no_csrf.status_code == 403

    after = await sub_of(runtime, shop.org.id)
    assert (after.status, after.trial_ends_at, after.updated_at) == ("trialing", before.trial_ends_at,
                                                                     before.updated_at)
    assert (await sub_of(runtime, paid.org.id)).status == "active"
    assert (await sub_of(runtime, canceled.org.id)).status == "trial_canceled"
    assert await events_of(runtime, shop.org.id) == ["trial.started"]
    assert await audit_count(runtime) == 0
    assert await emails_to(runtime, shop.owner.email) == []


async def test_the_pages_need_a_staff_session(app, client, runtime) -> None:
    shop = await make_org(runtime, "Trial Traders")
    before = await sub_of(runtime, shop.org.id)
    page = await client.get(f"/backoffice/organizations/{shop.org.id}")
    assert page.status_code == 303 and page.headers["location"] == "/backoffice/sign-in"
    # a tenant owner's session opens nothing here, and their form token does not make them staff
    await browser_sign_in(client, shop.owner.email)
    assert (await client.get(f"/backoffice/organizations/{shop.org.id}")).status_code == 303
    token = csrf_from((await client.get("/")).text)
    forged = await client.post(f"/backoffice/organizations/{shop.org.id}/extend-trial",
                               data={"days": "30", "reason": "inside job", "csrf_token": token})
    assert forged.status_code == 303 and forged.headers["location"] == "/backoffice/sign-in"
    assert (await sub_of(runtime, shop.org.id)).trial_ends_at == before.trial_ends_at
    assert await audit_count(runtime) == 0
