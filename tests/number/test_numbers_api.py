"""/v1 numbers routes in-process: reads, permissions, isolation, bad input and Meta unreachable (never a 500)."""

from __future__ import annotations

import pytest

from softdukan.number.models import DISCONNECTED
from softdukan.platform.uow import unit_of_work
from tests.dashboard import add_member
from tests.number import connected_number
from tests.support.factories import make_org


async def test_list_and_get_show_the_number_without_secrets(client, runtime) -> None:
    org = await make_org(runtime)
    account, number = await connected_number(runtime, org)

    listed = await client.get("/v1/phone-numbers", headers=org.auth)
    assert listed.status_code == 200
    [item] = listed.json()
    assert item["phone_number_id"] == number.phone_number_id and item["waba_id"] == account.waba_id
    assert item["status"] == "CONNECTED" and item["onboarding_step"] == "done" and item["is_default"] is True
    assert item["throughput_mps"] == 80 and item["messaging_limit_tier"] == "TIER_250"
    one = await client.get(f"/v1/phone-numbers/{number.id}", headers=org.auth)
    assert one.json() == item
    accounts = (await client.get("/v1/whatsapp-accounts", headers=org.auth)).json()
    assert [a["waba_id"] for a in accounts] == [account.waba_id] and accounts[0]["webhooks_subscribed"] is True
    async with unit_of_work(runtime) as uow:
        token = uow.runtime.secrets.open(account.access_token_sealed)
    for body in (listed.text, (await client.get(f"/v1/whatsapp-accounts/{account.id}", headers=org.auth)).text):
        assert token not in body and "sealed" not in body and "verify_token" not in body


async def test_coexistence_number_is_fixed_at_20_messages_per_second(client, runtime) -> None:
    org = await make_org(runtime)
    _, number = await connected_number(runtime, org, coexistence=True)
    item = (await client.get(f"/v1/phone-numbers/{number.id}", headers=org.auth)).json()
    assert item["source"] == "coexistence" and item["throughput_mps"] == 20


async def test_another_organizations_number_is_404(client, runtime) -> None:
    a, b = await make_org(runtime), await make_org(runtime)
    account, number = await connected_number(runtime, a)
    for method, path in (("GET", f"/v1/phone-numbers/{number.id}"), ("POST", f"/v1/phone-numbers/{number.id}/refresh"),
                         ("POST", f"/v1/phone-numbers/{number.id}/register"),
                         ("POST", f"/v1/whatsapp-accounts/{account.id}/phone-numbers")):
        body = {"pin": "123456", "phone_number": "+919812300001", "verified_name": "Probe"}
        response = await client.request(method, path, headers=b.auth, json=body)
        assert response.status_code == 404, (path, response.text)
    assert (await client.get("/v1/phone-numbers", headers=b.auth)).json() == []


async def test_a_read_only_key_cannot_connect_or_refresh(client, runtime) -> None:
    org = await make_org(runtime, scopes=["numbers:read"])
    _, number = await connected_number(runtime, org)
    assert (await client.get("/v1/phone-numbers", headers=org.auth)).status_code == 200
    for path, body in ((f"/v1/phone-numbers/{number.id}/refresh", None),
                       ("/v1/whatsapp-accounts", {"business_name": "X Ltd", "waba_name": "X"})):
        response = await client.post(path, headers=org.auth, json=body)
        assert response.status_code == 403 and response.json()["error"]["details"] == {"required": "numbers:write"}


async def test_managers_and_agents_see_numbers_but_cannot_change_them(client, runtime) -> None:
    from tests.dashboard import sign_in_as

    org = await make_org(runtime)
    _, number = await connected_number(runtime, org)
    for role in ("manager", "agent"):
        user, _ = await add_member(runtime, org, role)
        await sign_in_as(client, user.email)
        page = await client.get("/numbers")
        assert page.status_code == 200 and number.phone_number_id not in page.text
        assert f'href="/numbers/{number.id}"' in page.text and "Connect WhatsApp" not in page.text
        detail = await client.get(f"/numbers/{number.id}")
        assert detail.status_code == 200 and "Refresh from Meta" not in detail.text
        assert (await client.get("/numbers/connect")).status_code == 403


@pytest.mark.parametrize("body, field", [
    ({"phone_number": "12", "verified_name": "Chai Point"}, "phone_number"),
    ({"phone_number": "+91 98123 00002", "verified_name": "ab"}, "verified_name"),
    ({"phone_number": "9" * 40, "verified_name": "Chai Point"}, "phone_number"),
])
async def test_bad_number_input_is_422_before_meta_is_called(client, runtime, body, field) -> None:
    org = await make_org(runtime)
    account, _ = await connected_number(runtime, org)
    response = await client.post(f"/v1/whatsapp-accounts/{account.id}/phone-numbers", headers=org.auth, json=body)
    assert response.status_code == 422 and field in response.json()["error"]["details"], response.text


async def test_steps_out_of_order_are_409_with_the_current_step(client, runtime) -> None:
    org = await make_org(runtime)
    _, number = await connected_number(runtime, org)  # already done
    response = await client.post(f"/v1/phone-numbers/{number.id}/verify-code", headers=org.auth,
                                 json={"code": "123456"})
    assert response.status_code == 409
    assert response.json()["error"]["details"]["onboarding_step"] == "done"
    bad_pin = await client.post(f"/v1/phone-numbers/{number.id}/register", headers=org.auth, json={"pin": "12ab56"})
    assert bad_pin.status_code in (409, 422)


async def test_meta_unreachable_is_a_502_not_a_500(offline_client, runtime) -> None:
    client = offline_client
    org = await make_org(runtime)
    _, number = await connected_number(runtime, org)
    refresh = await client.post(f"/v1/phone-numbers/{number.id}/refresh", headers=org.auth)
    assert refresh.status_code == 502 and refresh.json()["error"]["code"] == "whatsapp_unavailable"
    signup = await client.post("/v1/whatsapp-accounts", headers=org.auth,
                               json={"business_name": "Chai Point", "waba_name": "Chai"})
    assert signup.status_code == 502, signup.text


async def test_make_default_moves_the_default(client, runtime) -> None:
    org = await make_org(runtime)
    _, first = await connected_number(runtime, org)
    _, second = await connected_number(runtime, org)
    assert not (await client.get(f"/v1/phone-numbers/{second.id}", headers=org.auth)).json()["is_default"]
    response = await client.post(f"/v1/phone-numbers/{second.id}/default", headers=org.auth)
    assert response.status_code == 200 and response.json()["is_default"] is True
    assert not (await client.get(f"/v1/phone-numbers/{first.id}", headers=org.auth)).json()["is_default"]


async def test_account_disconnected_refuses_new_numbers(client, runtime) -> None:
    from softdukan.number.service import apply_account_update, find_account_by_waba_id

    org = await make_org(runtime)
    account, number = await connected_number(runtime, org)
    async with unit_of_work(runtime) as uow:
        found = await find_account_by_waba_id(uow, account.waba_id)
        assert found is not None
        await apply_account_update(uow, found, status=DISCONNECTED)
    item = (await client.get(f"/v1/phone-numbers/{number.id}", headers=org.auth)).json()
    assert item["status"] == DISCONNECTED
    response = await client.post(f"/v1/whatsapp-accounts/{account.id}/phone-numbers", headers=org.auth,
                                 json={"phone_number": "+919812300003", "verified_name": "Chai Point"})
    assert response.status_code == 409 and response.json()["error"]["code"] == "account_disconnected"
