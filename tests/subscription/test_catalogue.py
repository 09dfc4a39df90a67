"""Staff edit the catalogue in the backoffice (issue 6 items 1 and 9), and every feature gate and limit is enforced
where it is used, with a 402 that says what to do."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from softdukan.audit.models import AuditEvent
from softdukan.kit.clock import FrozenClock
from softdukan.plan.models import Plan
from softdukan.platform.errors import Conflict
from softdukan.platform.uow import unit_of_work
from softdukan.subscription import service as subscriptions
from tests.backoffice.test_backoffice import staff_client, staff_post  # noqa: F401  (fixture)
from tests.support.factories import make_org

FEATURES_OF_BASIC = ["api_access", "broadcasts", "catalogue", "inbox"]


def _plan_form(code: str, **changes: object) -> dict[str, object]:
    form: dict[str, object] = {"code": code, "create": "0", "name": "Basic", "description": "Small teams",
                               "yearly_price": "9,999", "features": FEATURES_OF_BASIC, "limit_agents": "5",
                               "limit_numbers": "1", "limit_contacts": "10000", "limit_flows": "0", "active": "1"}
    form.update(changes)
    return form


async def test_staff_edit_a_plan_and_it_applies_at_once(staff_client, runtime, client) -> None:  # noqa: F811
    shop = await make_org(runtime, "Catalogue Shop")
    page = await staff_client.get("/backoffice/plans")
    assert page.status_code == 200
    assert all(f'data-plan="{code}"' in page.text for code in ("basic", "pro", "enterprise", "new"))
    saved = await staff_post(staff_client, "/backoffice/plans/save", _plan_form(  # type: ignore[arg-type]
        "basic", yearly_price="11999.50", features=[*FEATURES_OF_BASIC, "payments"], limit_numbers="2"))
    assert saved.status_code == 303, saved.text
    body = (await client.get("/v1/plans", headers=shop.auth)).json()
    basic = next(p for p in body["plans"] if p["code"] == "basic")
    assert (basic["yearly_price_paise"], basic["limits"]["numbers"]) == (1_199_950, 2) and "payments" in basic[
        "features"]
    subscription = (await client.get("/v1/subscription", headers=shop.auth)).json()
    assert "payments" in subscription["features"]  # the trial follows its plan at once
    async with runtime.sessionmaker() as session:
        audited = (await session.execute(select(AuditEvent.action).where(AuditEvent.action == "plan.saved")))
        assert audited.scalars().all() == ["plan.saved"]


async def test_staff_add_and_retire_plans_and_bad_input_changes_nothing(staff_client, runtime, client  # noqa: F811
                                                                       ) -> None:
    shop = await make_org(runtime, "Growth Shop")
    created = await staff_post(staff_client, "/backoffice/plans/save", _plan_form(  # type: ignore[arg-type]
        "growth", create="1", name="Growth", yearly_price="14999", limit_contacts=""))
    assert created.status_code == 303, created.text
    async with runtime.sessionmaker() as session:
        growth = await session.scalar(select(Plan).where(Plan.code == "growth"))
    assert growth is not None and growth.limits["contacts"] is None  # empty: unlimited
    for form, status, words in (
            (_plan_form("growth", create="1"), 409, "exists already"),
            (_plan_form("Bad Code!", create="1"), 422, "lower-case"),
            (_plan_form("basic", yearly_price="-5"), 422, "not negative"),
            (_plan_form("basic", yearly_price="abc"), 422, "rupees"),
            (_plan_form("basic", limit_agents="many"), 422, "whole number"),
            (_plan_form("basic", features=["teleport"]), 422, "Unknown feature"),
            (_plan_form("nosuchplan"), 404, "There is no plan"),
            (_plan_form("basic", name=""), 422, "1 to 80")):
        refused = await staff_post(staff_client, "/backoffice/plans/save", form)  # type: ignore[arg-type]
        assert (refused.status_code, words in refused.text) == (status, True), (form, refused.text[:300])
    retired = await staff_post(staff_client, "/backoffice/plans/save", _plan_form(  # type: ignore[arg-type]
        "growth", name="Growth", active=""))
    assert retired.status_code == 303
    listed = [p["code"] for p in (await client.get("/v1/plans", headers=shop.auth)).json()["plans"]]
    assert "growth" not in listed and listed == ["basic", "pro", "enterprise"]
    async with unit_of_work(runtime) as uow:  # a plan that no longer exists can't be taken
        with pytest.raises(Conflict, match="no longer offered") as refused:
            await subscriptions.activate(uow, shop.org.id, "growth", period_start=uow.clock.now(), source="test")
        assert refused.value.code == "plan_retired"
        await uow.rollback()
    async with runtime.sessionmaker() as session:  # the refused forms changed nothing
        basic = await session.scalar(select(Plan).where(Plan.code == "basic"))
    assert basic is not None and (basic.yearly_price_paise, basic.name) == (9_999_00, "Basic")


async def test_features_and_limits_are_enforced_where_they_are_used(runtime, client) -> None:
    shop = await make_org(runtime, "Limits Shop")
    async with runtime.sessionmaker() as session:  # a Basic with room for two members and two contacts
        await session.execute(update(Plan).where(Plan.code == "basic").values(
            limits={"agents": 2, "numbers": 1, "contacts": 2, "flows": 0}))
        await session.commit()
    roles = (await client.get("/v1/roles", headers=shop.auth)).json()
    agent = next(r["id"] for r in roles if r["name"] == "agent")
    first = await client.post("/v1/invitations", json={"email": "a1@example.com", "role_id": agent},
                              headers=shop.auth)
    assert first.status_code == 201, first.text  # owner + one pending invitation = 2
    second = await client.post("/v1/invitations", json={"email": "a2@example.com", "role_id": agent},
                               headers=shop.auth)
    assert second.status_code == 402 and second.json()["error"]["code"] == "plan_limit_reached"
    assert "allows 2 team members" in second.json()["error"]["message"]
    for n in (1, 2):
        made = await client.post("/v1/contacts", json={"phone": f"+9198765432{n:02d}"}, headers=shop.auth)
        assert made.status_code == 201, made.text
    third = await client.post("/v1/contacts", json={"phone": "+919876543299"}, headers=shop.auth)
    assert third.status_code == 402 and third.json()["error"]["details"]["limit"] == "contacts"

    runtime.clock = FrozenClock(runtime.clock.now() + timedelta(days=15))  # the trial runs out
    async with unit_of_work(runtime) as uow:
        await subscriptions.sweep_trials(uow)
    key = await client.post("/v1/api-keys", json={"name": "late", "scopes": ["contacts:read"]}, headers=shop.auth)
    assert key.status_code == 402 and key.json()["error"]["code"] == "upgrade_required"
    assert "free trial has ended" in key.json()["error"]["message"]
    listed = await client.get("/v1/contacts", headers=shop.auth)  # the data stays readable
    assert listed.status_code == 200 and len(listed.json()["data"]) == 2
