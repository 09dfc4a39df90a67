"""Connecting numbers end to end over real HTTP: the product (/v1 and the dashboard) against the sandbox it
serves at /sandbox/graph, with the sandbox's control API standing in for the person and the phone."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from itertools import count

import httpx

from tests.dashboard import form_post
from tests.support.factories import browser_sign_in, make_org
from tests.support.plans import subscribe

_seq = count(1)


def new_mobile() -> str:
    """An Indian mobile number no other test uses (the sandbox keeps numbers across organizations)."""
    return f"+9197{next(_seq):04d}{os.getpid() % 10000:04d}"


async def sandbox_code(http: httpx.AsyncClient, graph_url: str, phone_number_id: str) -> str:
    response = await http.get(f"{graph_url}/_sandbox/phone-numbers/{phone_number_id}/code")
    assert response.status_code == 200, response.text
    return str(response.json()["code"])


async def test_new_number_through_the_api_every_step(runtime, live_server) -> None:
    org = await make_org(runtime)
    graph = live_server.settings.graph_url
    async with httpx.AsyncClient(base_url=live_server.url, headers=org.auth, timeout=30) as api:
        account = await api.post("/v1/whatsapp-accounts", json={"business_name": "Chai Point", "waba_name": "Chai"})
        assert account.status_code == 201, account.text
        account_id = account.json()["id"]
        added = await api.post(f"/v1/whatsapp-accounts/{account_id}/phone-numbers",
                               json={"phone_number": new_mobile(), "verified_name": "Chai Point"})
        assert added.status_code == 201, added.text
        number = added.json()
        assert (number["onboarding_step"], number["status"], number["source"]) == ("added", "PENDING", "new")
        number_id, pnid = number["id"], number["phone_number_id"]

        early = await api.post(f"/v1/phone-numbers/{number_id}/register", json={"pin": "123456"})
        assert early.status_code == 409 and early.json()["error"]["code"] == "wrong_onboarding_step"

        sent = await api.post(f"/v1/phone-numbers/{number_id}/request-code", json={"method": "VOICE"})
        assert sent.status_code == 200 and sent.json()["onboarding_step"] == "code_requested", sent.text
        code = await sandbox_code(api, graph, pnid)
        wrong = "000000" if code != "000000" else "111111"
        refused = await api.post(f"/v1/phone-numbers/{number_id}/verify-code", json={"code": wrong})
        assert refused.status_code == 422, refused.text
        error = refused.json()["error"]
        assert error["details"]["meta_code"] == 136025 and "136025" in error["message"]
        verified = await api.post(f"/v1/phone-numbers/{number_id}/verify-code", json={"code": code})
        assert verified.status_code == 200 and verified.json()["onboarding_step"] == "verified", verified.text

        registered = await api.post(f"/v1/phone-numbers/{number_id}/register", json={"pin": "246810"})
        assert registered.status_code == 200, registered.text
        assert (registered.json()["status"], registered.json()["onboarding_step"]) == ("CONNECTED", "registered")

        subscribed = await api.post(f"/v1/phone-numbers/{number_id}/subscribe")
        assert subscribed.status_code == 200, subscribed.text
        assert subscribed.json()["onboarding_step"] == "subscribed" and subscribed.json()["refreshed_at"]
        assert (await api.get(f"/v1/whatsapp-accounts/{account_id}")).json()["webhooks_subscribed"] is True

        renamed = await api.post(f"/v1/phone-numbers/{number_id}/display-name",
                                 json={"display_name": "Chai Point Cafe"})
        assert renamed.status_code == 200 and renamed.json()["new_display_name"] == "Chai Point Cafe", renamed.text
        done = await api.post(f"/v1/phone-numbers/{number_id}/finish")
        assert done.status_code == 200 and done.json()["onboarding_step"] == "done"

        refreshed = await api.post(f"/v1/phone-numbers/{number_id}/refresh")
        assert refreshed.status_code == 200, refreshed.text
        body = refreshed.json()
        assert body["status"] == "CONNECTED" and body["code_verification_status"] == "VERIFIED"
        assert body["messaging_limit_tier"] == "TIER_250" and body["throughput_level"] == "STANDARD"

        # Meta now holds our callback and the account's verify token for this WABA
        from softdukan.number.service import find_by_phone_number_id
        from softdukan.platform.uow import unit_of_work

        async with unit_of_work(runtime) as uow:
            row = await find_by_phone_number_id(uow, pnid)
            assert row is not None
            from softdukan.number.repository import AccountRepository

            acc = await AccountRepository(uow.session).by_id_unscoped(row.account_id)
            assert acc is not None
            token = uow.runtime.secrets.open(acc.access_token_sealed)
        apps = await api.get(f"{graph}/v24.0/{body['waba_id']}/subscribed_apps",
                             headers={"Authorization": f"Bearer {token}"})
        assert apps.status_code == 200, apps.text
        assert f"{live_server.url}/webhooks/whatsapp" in apps.text


async def test_the_dashboard_wizard_resumes_and_shows_metas_refusals(runtime, live_server) -> None:
    org = await make_org(runtime)
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as web:
        await browser_sign_in(web, org.owner.email)
        signed = await form_post(web, "/numbers/connect/account", {"business_name": "Chai Point", "waba_name": ""},
                                 page="/numbers/connect")
        assert signed.status_code == 303, signed.text
        page = (await web.get(signed.headers["location"])).text
        account_id = re.search(r'<option value="(\d+)"', page)
        assert account_id, page
        added = await form_post(web, "/numbers/connect/number", {"account_id": account_id.group(1),
                                "phone_number": new_mobile(), "verified_name": "Chai Point", "mode": "new"},
                                page="/numbers/connect")
        assert added.status_code == 303, added.text
        wizard = added.headers["location"].split("?")[0]
        number_id = wizard.split("/")[2]

        sent = await form_post(web, f"/numbers/{number_id}/connect/request-code", {"method": "SMS"}, page=wizard)
        assert sent.status_code == 303
        step = (await web.get(wizard)).text  # leaving and coming back resumes at the code
        assert 'data-step="code_requested"' in step
        hint = re.search(r'id="sandbox-code-hint".*?<strong>(\d{6})</strong>', step, re.S)
        assert hint, step
        wrong = "000000" if hint.group(1) != "000000" else "111111"
        refused = await form_post(web, f"/numbers/{number_id}/connect/verify", {"code": wrong}, page=wizard)
        assert refused.status_code == 422 and "136025" in refused.text and 'data-step="code_requested"' in refused.text
        for path, data in (("verify", {"code": hint.group(1)}), ("register", {"pin": "135790"}), ("subscribe", {})):
            response = await form_post(web, f"/numbers/{number_id}/connect/{path}", data, page=wizard)
            assert response.status_code == 303, (path, response.text[:2000])
        assert 'data-step="subscribed"' in (await web.get(wizard)).text
        finished = await form_post(web, f"/numbers/{number_id}/connect/finish", {}, page=wizard)
        assert finished.status_code == 303 and finished.headers["location"].startswith(f"/numbers/{number_id}")
        detail = (await web.get(f"/numbers/{number_id}")).text
        assert "CONNECTED" in detail and "Setup is not finished" not in detail
        listing = (await web.get("/numbers")).text
        assert f'data-number-id="{number_id}"' in listing


async def test_whatsapp_business_app_number_coexistence(runtime, live_server) -> None:
    org = await make_org(runtime)
    async with httpx.AsyncClient(base_url=live_server.url, headers=org.auth, timeout=30) as api:
        made = await api.post("/v1/phone-numbers/coexistence", json={
            "business_name": "Meera Sweets", "waba_name": "Meera Sweets", "phone_number": new_mobile()})
        assert made.status_code == 201, made.text
        number = made.json()
        assert (number["source"], number["status"], number["throughput_mps"]) == ("coexistence", "CONNECTED", 20)
        number_id = number["id"]
        no_code = await api.post(f"/v1/phone-numbers/{number_id}/request-code", json={"method": "SMS"})
        assert no_code.status_code == 409 and no_code.json()["error"]["code"] == "not_for_coexistence"
        subscribed = await api.post(f"/v1/phone-numbers/{number_id}/subscribe")
        assert subscribed.status_code == 200 and subscribed.json()["onboarding_step"] == "subscribed", subscribed.text
        history = await api.post(f"/v1/phone-numbers/{number_id}/history-import", json={"accept": True})
        assert history.status_code == 200 and history.json()["history_import"] == "requested", history.text
        again = await api.post(f"/v1/phone-numbers/{number_id}/history-import", json={"accept": True})
        assert again.status_code == 409
        done = await api.post(f"/v1/phone-numbers/{number_id}/finish")
        assert done.json()["onboarding_step"] == "done" and done.json()["throughput_mps"] == 20


async def test_number_from_another_provider_migrates_with_the_two_step_pin(runtime, live_server) -> None:
    org = await make_org(runtime)
    graph = live_server.settings.graph_url
    locked, free = new_mobile(), new_mobile()
    async with httpx.AsyncClient(base_url=live_server.url, headers=org.auth, timeout=30) as api:
        for mobile, two_step in ((locked, True), (free, False)):
            foreign = await api.post(f"{graph}/_sandbox/foreign-numbers", json={
                "phone_number": mobile, "pin": "112233", "two_step_enabled": two_step, "verified_name": "Arjun Tea"})
            assert foreign.status_code == 200, foreign.text
        account = await api.post("/v1/whatsapp-accounts", json={"business_name": "Arjun Tea", "waba_name": "Arjun"})
        account_id = account.json()["id"]

        # two-step verification still on at the old provider: Meta refuses the move (2388001), clearly
        refused = await api.post(f"/v1/whatsapp-accounts/{account_id}/phone-numbers",
                                 json={"phone_number": locked, "verified_name": "Arjun Tea", "migrate": True})
        assert refused.status_code == 422, refused.text
        error = refused.json()["error"]
        assert error["code"] == "whatsapp_migration_ownership_not_verified" and "2388001" in error["message"]
        assert error["details"]["meta_subcode"] == 2388001
        # the destination WABA was subscribed to webhooks first (Meta moves numbers only to such a WABA)
        assert (await api.get(f"/v1/whatsapp-accounts/{account_id}")).json()["webhooks_subscribed"] is True

        moved = await api.post(f"/v1/whatsapp-accounts/{account_id}/phone-numbers",
                               json={"phone_number": free, "verified_name": "Arjun Tea", "migrate": True})
        assert moved.status_code == 201, moved.text
        number = moved.json()
        assert (number["source"], number["onboarding_step"]) == ("migration", "added")
        number_id = number["id"]
        assert (await api.post(f"/v1/phone-numbers/{number_id}/request-code", json={})).status_code == 200
        code = await sandbox_code(api, graph, number["phone_number_id"])
        verified = await api.post(f"/v1/phone-numbers/{number_id}/verify-code", json={"code": code})
        assert verified.status_code == 200, verified.text
        registered = await api.post(f"/v1/phone-numbers/{number_id}/register", json={"pin": "445566"})
        assert registered.status_code == 200 and registered.json()["status"] == "CONNECTED", registered.text
        subscribed = await api.post(f"/v1/phone-numbers/{number_id}/subscribe")
        assert subscribed.status_code == 200, subscribed.text
        assert subscribed.json()["verified_name"] == "Arjun Tea"  # the approved name came along
        listed = (await api.get("/v1/phone-numbers")).json()
        assert [n["wa_number"] for n in listed] == [free.lstrip("+")]


async def test_several_numbers_per_organization(runtime, live_server) -> None:
    org = await make_org(runtime)
    await subscribe(runtime, org.org.id, "pro")  # three numbers; the trial's Basic plan allows one
    async with httpx.AsyncClient(base_url=live_server.url, headers=org.auth, timeout=30) as api:
        account_id = (await api.post("/v1/whatsapp-accounts", json={"business_name": "Two Shops",
                                                                    "waba_name": "Two Shops"})).json()["id"]
        ids = []
        for _ in range(2):
            added = await api.post(f"/v1/whatsapp-accounts/{account_id}/phone-numbers",
                                   json={"phone_number": new_mobile(), "verified_name": "Two Shops"})
            assert added.status_code == 201, added.text
            ids.append(added.json()["id"])
        listed = (await api.get("/v1/phone-numbers")).json()
        assert [n["id"] for n in listed] == ids and [n["is_default"] for n in listed] == [True, False]
        duplicate = await api.post(f"/v1/whatsapp-accounts/{account_id}/phone-numbers",
                                   json={"phone_number": "+" + listed[0]["wa_number"], "verified_name": "Two Shops"})
        assert duplicate.status_code == 409 and duplicate.json()["error"]["code"] == "number_already_connected"


async def test_an_approved_display_name_is_registered_again_on_refresh(runtime, live_server) -> None:
    import asyncio

    from tests.number import connected_number

    org = await make_org(runtime)
    _, number = await connected_number(runtime, org)
    graph = live_server.settings.graph_url
    async with httpx.AsyncClient(base_url=live_server.url, headers=org.auth, timeout=30) as api:
        profile = await api.put(f"{graph}/_sandbox/profile", json={"display_name_review_delay_seconds": 0})
        assert profile.status_code == 200, profile.text
        renamed = await api.post(f"/v1/phone-numbers/{number.id}/display-name", json={"display_name": "Chai Express"})
        assert renamed.status_code == 200, renamed.text
        for _ in range(100):  # the sandbox's review runs as a job in the live server
            body = (await api.post(f"/v1/phone-numbers/{number.id}/refresh")).json()
            if body["verified_name"] == "Chai Express":
                break
            await asyncio.sleep(0.1)
        assert body["verified_name"] == "Chai Express" and body["name_status"] == "APPROVED", body
        assert body["new_display_name"] is None  # registered again with the stored PIN
        again = datetime.fromisoformat(body["registered_at"].replace("Z", "+00:00"))
        assert again.replace(tzinfo=UTC) > number.registered_at
