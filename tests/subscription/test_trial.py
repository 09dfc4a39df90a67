"""The free trial (policy clause 1) through a controlled clock: started at sign-up with no payment method, Basic
plus the Chatbot Flows trial, a reminder before the end, expiry that pauses paid features and keeps data, cancel at
any time, one trial per business, nothing ever charged."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from softdukan.billing.models import BillingDocument
from softdukan.kit.clock import FrozenClock
from softdukan.ledger.models import LedgerTransaction
from softdukan.notification.models import OutboundEmail
from softdukan.platform.runtime import Runtime
from softdukan.platform.uow import unit_of_work
from softdukan.subscription import entitlements
from softdukan.subscription import service as subscriptions
from softdukan.subscription.models import TRIAL_CANCELED, TRIAL_EXPIRED, TRIALING, Subscription
from softdukan.wallet.models import Topup
from tests.support.factories import browser_sign_in, form_post, make_org


async def _sub(runtime: Runtime, org_id: int) -> Subscription:
    async with unit_of_work(runtime) as uow:
        return await subscriptions.get(uow, org_id)


async def _mails(runtime: Runtime, to: str) -> list[str]:
    async with runtime.sessionmaker() as session:
        return list((await session.execute(select(OutboundEmail.subject).where(OutboundEmail.to_address == to)
                                           .order_by(OutboundEmail.id))).scalars())


async def _count(runtime: Runtime, model: type) -> int:
    async with runtime.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _sweep(runtime: Runtime) -> subscriptions.Swept:
    async with unit_of_work(runtime) as uow:
        return await subscriptions.sweep_trials(uow)


async def test_clause_1_trial_starts_free_at_sign_up_expires_into_paused_features_and_charges_nothing(
        runtime: Runtime) -> None:
    start = runtime.clock.now()
    runtime.clock = FrozenClock(start)
    shop = await make_org(runtime, "Trial Shop")
    sub = await _sub(runtime, shop.org.id)
    assert (sub.status, sub.trial_ends_at) == (TRIALING, start + timedelta(days=14))
    async with unit_of_work(runtime) as uow:
        ent = await entitlements.of(uow, shop.org.id)
        assert ent.plan_code == "basic" and {"broadcasts", "inbox", "chatbot_flows"} <= ent.features
        assert ent.allowed("flows") == entitlements.TRIAL_FLOWS  # the Chatbot Flows trial
        await entitlements.require(uow, shop.org.id, "chatbot_flows")
        with pytest.raises(entitlements.UpgradeRequired, match="not included in the Basic plan"):
            await entitlements.require(uow, shop.org.id, "payments")  # a Pro feature
    transactions, topups, documents = (await _count(runtime, LedgerTransaction), await _count(runtime, Topup),
                                       await _count(runtime, BillingDocument))

    runtime.clock.advance(days=10, hours=23)  # 3 days and 1 hour left: not yet
    assert await _sweep(runtime) == subscriptions.Swept(reminded=0, expired=0)
    runtime.clock.advance(hours=2)  # 2 days and 23 hours left: the reminder, once
    assert await _sweep(runtime) == subscriptions.Swept(reminded=1, expired=0)
    assert await _sweep(runtime) == subscriptions.Swept(reminded=0, expired=0)
    assert (await _mails(runtime, shop.owner.email))[-1] == "Your SoftDukan free trial ends soon"

    runtime.clock.advance(days=3)
    assert await _sweep(runtime) == subscriptions.Swept(reminded=0, expired=1)
    sub = await _sub(runtime, shop.org.id)
    assert sub.status == TRIAL_EXPIRED
    assert (await _mails(runtime, shop.owner.email))[-1] == "Your SoftDukan free trial has ended"
    async with unit_of_work(runtime) as uow:
        with pytest.raises(entitlements.UpgradeRequired, match="free trial has ended") as refused:
            await entitlements.require(uow, shop.org.id, "broadcasts")
    assert refused.value.status == 402 and refused.value.details["status"] == TRIAL_EXPIRED
    # nothing was charged, during or at the end: no top-up, no invoice, no posting beyond what existed
    assert (await _count(runtime, LedgerTransaction), await _count(runtime, Topup),
            await _count(runtime, BillingDocument)) == (transactions, topups, documents)


async def test_clause_1_trial_can_be_cancelled_at_any_time_from_the_dashboard_and_the_api(runtime, client) -> None:
    shop = await make_org(runtime, "Cancel Shop")
    await browser_sign_in(client, shop.owner.email)
    page = await client.get("/settings/plan")
    assert page.status_code == 200 and "14 days left" in page.text and "Cancel the free trial" in page.text
    cancelled = await form_post(client, "/settings/plan/cancel-trial", {}, page="/settings/plan")
    assert cancelled.status_code == 303 and cancelled.headers["location"].endswith("flash=trial_canceled")
    assert (await _sub(runtime, shop.org.id)).status == TRIAL_CANCELED
    body = (await client.get("/v1/subscription", headers=shop.auth)).json()
    assert (body["status"], body["entitled"], body["features"]) == (TRIAL_CANCELED, False, [])
    again = await client.post("/v1/subscription/cancel-trial", headers=shop.auth)
    assert again.status_code == 409 and again.json()["error"]["code"] == "not_trialing"

    other = await make_org(runtime, "API Shop")
    by_api = await client.post("/v1/subscription/cancel-trial", headers=other.auth)
    assert by_api.status_code == 200 and by_api.json()["status"] == TRIAL_CANCELED


async def test_clause_1_one_trial_per_business_by_owner_email_gstin_and_whatsapp_number(runtime) -> None:
    first = await make_org(runtime, "First Business")
    second = await make_org(runtime, "Second Business")
    async with unit_of_work(runtime) as uow:  # the first business claims its GSTIN and number with its trial
        await subscriptions.claim_for_trial(uow, first.org.id, "gstin", "29aahcs7719k1zo")
        await subscriptions.claim_for_trial(uow, first.org.id, "phone", "+91 98123 45678")
    async with unit_of_work(runtime) as uow:  # the same number, spelt otherwise, with the second: its trial ends
        await subscriptions.claim_for_trial(uow, second.org.id, "phone", "919812345678")
    sub = await _sub(runtime, second.org.id)
    assert sub.status == "no_trial" and "WhatsApp number has had a free trial already" in sub.status_reason
    assert (await _sub(runtime, first.org.id)).status == TRIALING  # the first keeps its own
    third = await make_org(runtime, "Third Business")
    async with unit_of_work(runtime) as uow:  # the first owner's e-mail (any case) as the third's: no trial either
        await subscriptions.claim_for_trial(uow, third.org.id, "email", first.owner.email.upper())
    sub = await _sub(runtime, third.org.id)
    assert sub.status == "no_trial" and "owner e-mail has had a free trial already" in sub.status_reason


async def test_the_plan_page_and_api_show_the_catalogue(runtime, client) -> None:
    shop = await make_org(runtime, "Catalogue Shop")
    body = (await client.get("/v1/plans", headers=shop.auth)).json()
    assert [p["code"] for p in body["plans"]] == ["basic", "pro", "enterprise"]
    assert {p["kind"] for p in body["products"]} == {"addon", "setup_fee", "integration"}
    subscription = (await client.get("/v1/subscription", headers=shop.auth)).json()
    assert (subscription["status"], subscription["plan"], subscription["entitled"]) == (TRIALING, "basic", True)
    assert "chatbot_flows" in subscription["features"] and subscription["limits"]["flows"] == 3


async def test_migrate_gives_organizations_older_than_plans_the_sign_up_trial(runtime, settings) -> None:
    from sqlalchemy import delete

    older = await make_org(runtime, "Older Shop")
    async with runtime.sessionmaker() as session:  # as if it signed up before subscriptions existed
        await session.execute(delete(Subscription).where(Subscription.organization_id == older.org.id))
        await session.commit()
    assert await subscriptions.backfill(settings) == 1
    assert await subscriptions.backfill(settings) == 0  # once
    async with unit_of_work(runtime) as uow:
        sub = await subscriptions.get(uow, older.org.id)
    assert sub.status == "trialing" and sub.trial_ends_at is not None
