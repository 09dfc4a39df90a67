"""A paid year through a controlled clock (policy clauses 2 and 5, billing reference §2): renewal reminders 30, 7
and 1 day(s) before the end, each once; cancellation at period end with access until then and nothing refunded or
charged; undo; past due with a grace period that keeps access, then the end; clear refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from softdukan.billing.models import BillingDocument
from softdukan.kit.clock import FrozenClock
from softdukan.ledger.models import LedgerTransaction
from softdukan.notification.models import OutboundEmail
from softdukan.platform.runtime import Runtime
from softdukan.platform.uow import unit_of_work
from softdukan.subscription import entitlements, lifecycle
from softdukan.subscription import service as subscriptions
from softdukan.subscription.models import ACTIVE, CANCELED, PAST_DUE, Subscription, SubscriptionEvent
from softdukan.wallet.models import Topup
from tests.support.factories import OrgFixture, browser_sign_in, form_post, make_org
from tests.support.plans import subscribe

START = datetime(2026, 12, 1, 6, 30, tzinfo=UTC)  # noon in India
YEAR_END = datetime(2027, 12, 1, 6, 30, tzinfo=UTC)
NOTHING = lifecycle.SweptPeriods(reminded=0, ended=0, past_due=0, expired=0)


async def _subscribed(runtime: Runtime, name: str) -> OrgFixture:
    runtime.clock = FrozenClock(START)
    shop = await make_org(runtime, name)
    await subscribe(runtime, shop.org.id, "pro")
    return shop


def _clock(runtime: Runtime) -> FrozenClock:
    assert isinstance(runtime.clock, FrozenClock)
    return runtime.clock


async def _sub(runtime: Runtime, org_id: int) -> Subscription:
    async with unit_of_work(runtime) as uow:
        return await subscriptions.get(uow, org_id)


async def _sweep(runtime: Runtime) -> lifecycle.SweptPeriods:
    async with unit_of_work(runtime) as uow:
        return await lifecycle.sweep_periods(uow)


async def _has(runtime: Runtime, org_id: int, feature: str) -> bool:
    async with unit_of_work(runtime) as uow:
        return (await entitlements.of(uow, org_id)).has(feature)


async def _mails(runtime: Runtime, to: str) -> list[str]:
    async with runtime.sessionmaker() as session:
        return list((await session.execute(select(OutboundEmail.subject).where(OutboundEmail.to_address == to)
                                           .order_by(OutboundEmail.id))).scalars())


async def _events(runtime: Runtime, org_id: int) -> list[str]:
    async with runtime.sessionmaker() as session:
        return list((await session.execute(select(SubscriptionEvent.kind).where(
            SubscriptionEvent.organization_id == org_id).order_by(SubscriptionEvent.id))).scalars())


async def _money_rows(runtime: Runtime) -> tuple[int, ...]:
    """Ledger postings, top-ups and billing documents (invoices and credit notes): a refund or charge makes one."""
    async with runtime.sessionmaker() as session:
        return tuple([int(await session.scalar(select(func.count()).select_from(model)) or 0)
                      for model in (LedgerTransaction, Topup, BillingDocument)])


async def _at(runtime: Runtime, when: datetime) -> lifecycle.SweptPeriods:
    _clock(runtime).at = when
    return await _sweep(runtime)


async def test_a_paid_year_sends_renewal_reminders_30_7_and_1_days_before_the_end_each_once(runtime) -> None:
    shop = await _subscribed(runtime, "Reminder Shop")
    assert (await _sub(runtime, shop.org.id)).current_period_end == YEAR_END
    assert await _at(runtime, START + timedelta(days=200)) == NOTHING
    assert await _at(runtime, YEAR_END - timedelta(days=30, hours=1)) == NOTHING  # not yet
    for days, subject in ((30, "in 30 days"), (7, "in 7 days"), (1, "tomorrow")):
        swept = await _at(runtime, YEAR_END - timedelta(days=days) + timedelta(hours=1))
        assert swept == lifecycle.SweptPeriods(reminded=1, ended=0, past_due=0, expired=0), days
        assert await _sweep(runtime) == NOTHING  # once
        assert (await _mails(runtime, shop.owner.email))[-1] == f"Your SoftDukan subscription ends {subject}"
        sub = await _sub(runtime, shop.org.id)
        assert (sub.status, sub.renewal_last_reminder_days) == (ACTIVE, days)
    assert (await _events(runtime, shop.org.id)).count("renewal.reminded") == 3

    # the customer renews (the purchase flow): the next year starts where this one ends, and gets its own reminders
    async with unit_of_work(runtime) as uow:
        sub = await subscriptions.get(uow, shop.org.id)
        renewal = lifecycle.renewal_start(sub, uow.clock.now())
        assert renewal == YEAR_END
        await subscriptions.activate(uow, shop.org.id, "pro", period_start=renewal, source="test")
    assert await _at(runtime, YEAR_END + timedelta(hours=1)) == NOTHING  # renewed: not past due
    next_end = datetime(2028, 12, 1, 6, 30, tzinfo=UTC)
    assert (await _sub(runtime, shop.org.id)).current_period_end == next_end
    swept = await _at(runtime, next_end - timedelta(days=29))
    assert swept.reminded == 1 and (await _sub(runtime, shop.org.id)).renewal_last_reminder_days == 30


async def test_a_late_sweep_sends_only_the_reminder_now_due(runtime) -> None:
    shop = await _subscribed(runtime, "Late Shop")
    assert (await _at(runtime, YEAR_END - timedelta(days=5))).reminded == 1  # the 30-day one was missed: the 7-day one
    assert await _sweep(runtime) == NOTHING
    assert (await _mails(runtime, shop.owner.email))[-1] == "Your SoftDukan subscription ends in 7 days"
    assert (await _events(runtime, shop.org.id)).count("renewal.reminded") == 1


async def test_clause_5_cancellation_is_effective_at_the_end_of_the_billing_cycle(runtime, client) -> None:
    shop = await _subscribed(runtime, "Cancel Shop")
    _clock(runtime).advance(days=100)
    before = await _money_rows(runtime)
    await browser_sign_in(client, shop.owner.email)
    page = await client.get("/settings/plan")
    assert "renews by your action on 1 December 2027" in page.text and "Cancel subscription" in page.text
    cancelled = await form_post(client, "/settings/plan/cancel-subscription", {}, page="/settings/plan")
    assert cancelled.status_code == 303 and cancelled.headers["location"].endswith("flash=subscription_canceled")
    sub = await _sub(runtime, shop.org.id)
    assert (sub.status, sub.cancel_at_period_end, sub.canceled_at) == (ACTIVE, True, START + timedelta(days=100))
    assert (await _mails(runtime, shop.owner.email))[-1] == "Your SoftDukan subscription is cancelled"
    page = await client.get("/settings/plan")
    assert "Cancelled — ends on 1 December 2027" in page.text and "Undo cancellation" in page.text
    body = (await client.get("/v1/subscription", headers=shop.auth)).json()
    assert (body["status"], body["cancel_at_period_end"], body["entitled"]) == (ACTIVE, True, True)
    assert body["ends_at"].startswith("2027-12-01T06:30")

    assert await _at(runtime, YEAR_END - timedelta(days=1)) == NOTHING  # no renewal reminders once cancelled
    assert await _has(runtime, shop.org.id, "broadcasts")  # access continues until the end
    assert await _at(runtime, YEAR_END) == lifecycle.SweptPeriods(reminded=0, ended=1, past_due=0, expired=0)
    assert await _sweep(runtime) == NOTHING
    sub = await _sub(runtime, shop.org.id)
    assert (sub.status, sub.ended_at) == (CANCELED, YEAR_END)
    assert not await _has(runtime, shop.org.id, "broadcasts")
    async with unit_of_work(runtime) as uow:
        with pytest.raises(entitlements.UpgradeRequired, match="subscription has ended"):
            await entitlements.require(uow, shop.org.id, "broadcasts")
    assert (await _mails(runtime, shop.owner.email))[-1] == "Your SoftDukan subscription has ended"
    assert await _events(runtime, shop.org.id) == ["trial.started", "subscription.activated",
                                                    "subscription.cancel_scheduled", "subscription.ended"]
    assert await _money_rows(runtime) == before  # no refund for the remaining period, no credit note, no posting


async def test_clause_2_subscriptions_cancelling_stops_the_next_renewal_and_nothing_is_charged(runtime, client) -> None:
    shop = await _subscribed(runtime, "Stop Shop")
    before = await _money_rows(runtime)
    cancelled = await client.post("/v1/subscription/cancel", headers=shop.auth)
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["cancel_at_period_end"], cancelled.json()["status"]) == (True, ACTIVE)
    for days in (30, 7, 1):
        assert await _at(runtime, YEAR_END - timedelta(days=days) + timedelta(hours=1)) == NOTHING
    assert (await _at(runtime, YEAR_END + timedelta(minutes=15))).ended == 1  # ended, not past due: no renewal
    assert await _at(runtime, YEAR_END + timedelta(days=400)) == NOTHING
    assert (await _sub(runtime, shop.org.id)).status == CANCELED
    assert await _money_rows(runtime) == before  # nothing charged the next year
    mails = await _mails(runtime, shop.owner.email)
    assert not [m for m in mails if "ends in" in m or "ends tomorrow" in m or m.startswith("Renew")]


async def test_undo_before_the_end_keeps_the_subscription_running(runtime, client) -> None:
    shop = await _subscribed(runtime, "Undo Shop")
    assert (await client.post("/v1/subscription/cancel", headers=shop.auth)).status_code == 200
    _clock(runtime).at = YEAR_END - timedelta(days=2)
    await browser_sign_in(client, shop.owner.email)
    undone = await form_post(client, "/settings/plan/undo-cancel", {}, page="/settings/plan")
    assert undone.status_code == 303 and undone.headers["location"].endswith("flash=cancel_undone")
    sub = await _sub(runtime, shop.org.id)
    assert (sub.status, sub.cancel_at_period_end, sub.canceled_at) == (ACTIVE, False, None)
    assert (await _mails(runtime, shop.owner.email))[-1] == "Your SoftDukan subscription continues"
    assert (await _sweep(runtime)).reminded == 1  # reminders resume: the 7-day one
    assert (await _at(runtime, YEAR_END)).past_due == 1  # not renewed: grace, not the end
    assert "subscription.cancel_undone" in await _events(runtime, shop.org.id)


async def test_grace_period_keeps_access_past_due_then_ends_without_renewal(runtime, client) -> None:
    shop = await _subscribed(runtime, "Grace Shop")
    assert (await _at(runtime, YEAR_END + timedelta(minutes=5))).past_due == 1
    assert await _sweep(runtime) == NOTHING
    sub = await _sub(runtime, shop.org.id)
    grace_end = YEAR_END + timedelta(days=14)
    assert (sub.status, sub.grace_ends_at, sub.ended_at) == (PAST_DUE, grace_end, None)
    assert await _has(runtime, shop.org.id, "broadcasts")  # still entitled during grace
    assert (await _mails(runtime, shop.owner.email))[-1] == "Renew your SoftDukan subscription to keep access"
    await browser_sign_in(client, shop.owner.email)
    assert "Past due: renew by 15 December 2027" in (await client.get("/settings/plan")).text
    body = (await client.get("/v1/subscription", headers=shop.auth)).json()
    assert (body["status"], body["entitled"]) == (PAST_DUE, True) and body["ends_at"].startswith("2027-12-15T06:30")

    assert await _at(runtime, grace_end - timedelta(minutes=1)) == NOTHING
    assert await _has(runtime, shop.org.id, "broadcasts")
    assert (await _at(runtime, grace_end)).expired == 1
    sub = await _sub(runtime, shop.org.id)
    assert (sub.status, sub.ended_at) == (CANCELED, grace_end)
    assert not await _has(runtime, shop.org.id, "broadcasts")
    assert (await _mails(runtime, shop.owner.email))[-1] == "Your SoftDukan subscription has ended"
    assert "The subscription has ended" in (await client.get("/settings/plan")).text
    assert (await _events(runtime, shop.org.id))[-2:] == ["subscription.past_due", "subscription.expired"]


async def test_paying_during_grace_starts_a_new_year_now(runtime) -> None:
    shop = await _subscribed(runtime, "Late Payer")
    await _at(runtime, YEAR_END + timedelta(days=3))
    async with unit_of_work(runtime) as uow:
        sub = await subscriptions.get(uow, shop.org.id)
        assert sub.status == PAST_DUE and lifecycle.renewal_start(sub, uow.clock.now()) == uow.clock.now()
        await subscriptions.activate(uow, shop.org.id, "pro", period_start=uow.clock.now(), source="test")
    sub = await _sub(runtime, shop.org.id)
    assert (sub.status, sub.grace_ends_at) == (ACTIVE, None)
    assert await _at(runtime, YEAR_END + timedelta(days=30)) == NOTHING  # the old grace end passes harmlessly


async def test_bad_requests_are_refused_with_clear_errors(runtime, client) -> None:
    runtime.clock = FrozenClock(START)
    trial = await make_org(runtime, "Trial Shop")
    refused = await client.post("/v1/subscription/cancel", headers=trial.auth)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "subscription_is_trial"
    assert "Cancel the free trial" in refused.json()["error"]["message"]

    shop = await _subscribed(runtime, "Twice Shop")
    nothing = await client.post("/v1/subscription/undo-cancel", headers=shop.auth)
    assert nothing.status_code == 409 and nothing.json()["error"]["code"] == "no_pending_cancellation"
    assert (await client.post("/v1/subscription/cancel", headers=shop.auth)).status_code == 200
    twice = await client.post("/v1/subscription/cancel", headers=shop.auth)
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "already_canceled"
    assert "1 December 2027" in twice.json()["error"]["message"]

    reader = await make_org(runtime, "Reader Shop", scopes=["subscription:read"])
    await subscribe(runtime, reader.org.id, "pro")
    assert (await client.post("/v1/subscription/cancel", headers=reader.auth)).status_code == 403
    seen = (await client.get("/v1/subscription", headers=reader.auth)).json()
    assert seen["ends_at"].startswith("2027-12-01T06:30")  # whoever may read sees the end date

    _clock(runtime).at = YEAR_END + timedelta(minutes=1)  # the end has passed, before the sweep ran
    late = await client.post("/v1/subscription/undo-cancel", headers=shop.auth)
    assert late.status_code == 409 and late.json()["error"]["code"] == "subscription_ended"
    await _sweep(runtime)
    again = await client.post("/v1/subscription/cancel", headers=shop.auth)
    assert again.status_code == 409 and again.json()["error"]["code"] == "not_subscribed"

    await browser_sign_in(client, trial.owner.email)  # the dashboard shows the same refusal on the page
    page = await form_post(client, "/settings/plan/cancel-subscription", {}, page="/settings/plan")
    assert page.status_code == 409 and "Cancel the free trial" in page.text


async def test_the_dashboard_banner_reminds_of_the_trial_end_renewal_and_cancellation(client, runtime) -> None:
    runtime.clock = FrozenClock(runtime.clock.now())
    org = await make_org(runtime, "Banner Shop")
    await browser_sign_in(client, org.owner.email)
    assert 'hx-get="/settings/plan/banner"' in (await client.get("/")).text
    assert "plan-banner" not in (await client.get("/settings/plan/banner")).text  # 14 days left: quiet
    runtime.clock.advance(days=12)
    assert "Your free trial ends on" in (await client.get("/settings/plan/banner")).text
    runtime.clock.advance(days=3)
    async with unit_of_work(runtime) as uow:
        await subscriptions.sweep_trials(uow)
    await browser_sign_in(client, org.owner.email)  # a session lasts less than the weeks the clock jumps
    assert "paid features are paused" in (await client.get("/settings/plan/banner")).text
    await subscribe(runtime, org.org.id, "pro")
    assert "plan-banner" not in (await client.get("/settings/plan/banner")).text
    runtime.clock.advance(days=340)
    await browser_sign_in(client, org.owner.email)
    assert "paid year ends on" in (await client.get("/settings/plan/banner")).text
    cancelled = await client.post("/v1/subscription/cancel", headers=org.auth)
    assert cancelled.status_code == 200, cancelled.text
    assert "is cancelled and ends on" in (await client.get("/settings/plan/banner")).text
