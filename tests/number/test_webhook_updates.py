"""The functions webhook routing (softdukan/inbound) calls to keep numbers and accounts current."""

from __future__ import annotations

import json

from softdukan.number.models import DISCONNECTED
from softdukan.number.service import (
    apply_account_update,
    apply_quality_update,
    find_account_by_waba_id,
    find_by_display_number,
    find_by_phone_number_id,
)
from softdukan.platform.uow import unit_of_work
from tests.number import connected_number
from tests.support.factories import make_org


async def test_quality_update_changes_rating_tier_and_throughput_and_is_idempotent(client, runtime) -> None:
    org = await make_org(runtime)
    account, number = await connected_number(runtime, org)
    for _ in range(2):  # the same webhook twice leaves the state of one
        async with unit_of_work(runtime) as uow:
            account_row = await find_account_by_waba_id(uow, account.waba_id)
            assert account_row is not None
            found = await find_by_display_number(uow, account_row, number.display_phone_number)
            assert found is not None and found.id == number.id
            await apply_quality_update(uow, found, quality_rating="yellow", messaging_limit_tier="TIER_2K",
                                       throughput_level="HIGH")
    item = (await client.get(f"/v1/phone-numbers/{number.id}", headers=org.auth)).json()
    assert (item["quality_rating"], item["messaging_limit_tier"], item["throughput_mps"]) == ("YELLOW", "TIER_2K", 1000)
    accounts = (await client.get("/v1/whatsapp-accounts", headers=org.auth)).json()
    assert accounts[0]["messaging_limit_tier"] == "TIER_2K"  # the limit is the portfolio's


async def test_unknown_quality_values_are_ignored(runtime) -> None:
    org = await make_org(runtime)
    _, number = await connected_number(runtime, org)
    async with unit_of_work(runtime) as uow:
        found = await find_by_phone_number_id(uow, number.phone_number_id)
        assert found is not None
        await apply_quality_update(uow, found, quality_rating="PURPLE")
        assert found.quality_rating == "GREEN"


async def test_coexistence_throughput_stays_20(runtime) -> None:
    org = await make_org(runtime)
    _, number = await connected_number(runtime, org, coexistence=True)
    async with unit_of_work(runtime) as uow:
        found = await find_by_phone_number_id(uow, number.phone_number_id)
        assert found is not None
        await apply_quality_update(uow, found, throughput_level="HIGH")
        assert found.throughput_mps == 20


async def test_account_restriction_then_reinstatement(client, runtime) -> None:
    org = await make_org(runtime)
    account, number = await connected_number(runtime, org)
    restriction = [{"restriction_type": "RESTRICTED_BIZ_INITIATED_MESSAGING", "expiration": 1748454394}]
    async with unit_of_work(runtime) as uow:
        row = await find_account_by_waba_id(uow, account.waba_id)
        assert row is not None
        await apply_account_update(uow, row, status="RESTRICTED", restriction=restriction)
        assert json.loads(row.restriction or "") == restriction
    assert (await client.get("/v1/whatsapp-accounts", headers=org.auth)).json()[0]["status"] == "RESTRICTED"
    async with unit_of_work(runtime) as uow:
        row = await find_account_by_waba_id(uow, account.waba_id)
        assert row is not None
        await apply_account_update(uow, row, status="ACTIVE")
        assert row.restriction is None
    item = (await client.get(f"/v1/phone-numbers/{number.id}", headers=org.auth)).json()
    assert item["status"] == "CONNECTED"
    async with unit_of_work(runtime) as uow:
        row = await find_account_by_waba_id(uow, account.waba_id)
        assert row is not None
        await apply_account_update(uow, row, status="DISCONNECTED")
    assert (await client.get(f"/v1/phone-numbers/{number.id}", headers=org.auth)).json()["status"] == DISCONNECTED


async def test_lookups_miss_cleanly(runtime) -> None:
    async with unit_of_work(runtime) as uow:
        assert await find_by_phone_number_id(uow, "999") is None
        assert await find_account_by_waba_id(uow, "999") is None
