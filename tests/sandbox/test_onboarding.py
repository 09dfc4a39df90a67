"""Embedded signup, code exchange, subscription handshake, number registration, coexistence, migration."""

from __future__ import annotations

import httpx

from tests.sandbox.conftest import APP_ID, APP_SECRET, VERIFY_TOKEN, Sandbox, assert_meta_error


async def _signed_up(http: httpx.AsyncClient, base: str, **extra) -> tuple[dict, str]:  # type: ignore[no-untyped-def]
    signup = await http.post(f"{base}/_sandbox/signup", json={"app_id": APP_ID, "business_name": "Ravi Traders",
                                                                "waba_name": "Ravi", **extra})
    assert signup.status_code == 200, signup.text
    exchange = await http.get(f"{base}/v24.0/oauth/access_token", params={
        "client_id": APP_ID, "client_secret": APP_SECRET, "code": signup.json()["code"]})
    assert exchange.status_code == 200, exchange.text
    assert exchange.json()["token_type"] == "bearer"
    return signup.json(), exchange.json()["access_token"]


async def test_signup_exchange_subscribe_with_handshake_add_verify_register(sandbox: Sandbox, receiver) -> None:
    http, base = sandbox.http, sandbox.base
    account, token = await _signed_up(http, base)
    auth = {"Authorization": f"Bearer {token}"}
    reused = await http.get(f"{base}/v24.0/oauth/access_token", params={
        "client_id": APP_ID, "client_secret": APP_SECRET, "code": "AQnope"})
    assert_meta_error(reused, 100, 400)

    bad = await http.post(f"{base}/v24.0/{account['waba_id']}/subscribed_apps", headers=auth,
                          json={"override_callback_uri": receiver.url, "verify_token": "wrong"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == 2200
    good = await http.post(f"{base}/v24.0/{account['waba_id']}/subscribed_apps", headers=auth,
                           json={"override_callback_uri": receiver.url, "verify_token": VERIFY_TOKEN})
    assert good.json() == {"success": True}
    assert receiver.handshakes[-1]["hub.mode"] == "subscribe"
    listed = (await http.get(f"{base}/v24.0/{account['waba_id']}/subscribed_apps", headers=auth)).json()
    assert listed["data"][0]["whatsapp_business_api_data"]["id"] == APP_ID

    added = await http.post(f"{base}/v24.0/{account['waba_id']}/phone_numbers", headers=auth,
                            json={"country_code": "91", "phone_number": "9822233344", "verified_name": "Ravi"})
    phone = added.json()["id"]
    unverified = await http.post(f"{base}/v24.0/{phone}/register", headers=auth,
                                 json={"messaging_product": "whatsapp", "pin": "123456"})
    assert_meta_error(unverified, 133006, 400)
    await http.post(f"{base}/v24.0/{phone}/request_code", headers=auth, params={"code_method": "SMS",
                                                                                "language": "en_US"})
    code = (await http.get(f"{base}/_sandbox/phone-numbers/{phone}/code")).json()["code"]
    wrong = await http.post(f"{base}/v24.0/{phone}/verify_code", headers=auth, params={"code": "000000"
                            if code != "000000" else "111111"})
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == 136025
    assert (await http.post(f"{base}/v24.0/{phone}/verify_code", headers=auth,
                            params={"code": code})).json() == {"success": True}
    bad_region = await http.post(f"{base}/v24.0/{phone}/register", headers=auth, json={
        "messaging_product": "whatsapp", "pin": "123456", "data_localization_region": "XX"})
    assert_meta_error(bad_region, 100, 400)
    registered = await http.post(f"{base}/v24.0/{phone}/register", headers=auth, json={
        "messaging_product": "whatsapp", "pin": "123456", "data_localization_region": "IN"})
    assert registered.json() == {"success": True}

    fields = "verified_name,code_verification_status,display_phone_number,quality_rating,platform_type,throughput," \
             "status,is_on_biz_app,name_status,whatsapp_business_manager_messaging_limit,is_pin_enabled"
    info = (await http.get(f"{base}/v24.0/{phone}", headers=auth, params={"fields": fields})).json()
    assert info["id"] == phone and info["status"] == "CONNECTED" and info["code_verification_status"] == "VERIFIED"
    assert info["platform_type"] == "CLOUD_API" and info["throughput"] == {"level": "STANDARD"}
    assert info["is_on_biz_app"] is False and info["whatsapp_business_manager_messaging_limit"] == "TIER_250"
    assert info["display_phone_number"] == "+91 98222 33344" and info["is_pin_enabled"] is True
    listing = (await http.get(f"{base}/v24.0/{account['waba_id']}/phone_numbers", headers=auth)).json()
    assert [p["id"] for p in listing["data"]] == [phone]
    foreign_waba = await http.get(f"{base}/v24.0/{sandbox.account['waba_id']}/phone_numbers", headers=auth)
    assert_meta_error(foreign_waba, 200, 403)


async def test_two_step_pin_mismatch_and_register_rate_limit(sandbox: Sandbox) -> None:
    phone, auth, http = sandbox.account["phone_number_id"], sandbox.auth, sandbox.http
    url = f"{sandbox.graph}/{phone}"
    assert (await http.post(url, headers=auth, json={"pin": "654321"})).json() == {"success": True}

    assert_meta_error(await http.post(f"{url}/register", headers=auth,
                                      json={"messaging_product": "whatsapp", "pin": "111111"}), 133005, 400)
    codes = []
    for i in range(11):
        path = "deregister" if i % 2 == 0 else "register"
        response = await http.post(f"{url}/{path}", headers=auth, json={"messaging_product": "whatsapp",
                                                                         "pin": "654321"})
        codes.append(response.status_code)
    assert codes[:10] == [200] * 10
    assert_meta_error(response, 133016, 400)


async def test_coexistence_number_skips_registration_and_syncs_once(sandbox: Sandbox) -> None:
    account, token = await _signed_up(sandbox.http, sandbox.base, feature_type="coexistence",
                                      phone_number="+91 98444 55566")
    auth, phone = {"Authorization": f"Bearer {token}"}, account["phone_number_id"]
    url = f"{sandbox.base}/v24.0/{phone}"
    assert account["event"] == "FINISH_WHATSAPP_BUSINESS_APP_ONBOARDING"

    info = (await sandbox.http.get(url, headers=auth, params={"fields": "is_on_biz_app,platform_type"})).json()
    assert info == {"is_on_biz_app": True, "platform_type": "CLOUD_API", "id": phone}
    assert_meta_error(await sandbox.http.post(f"{url}/deregister", headers=auth), 100, 400)
    body = {"messaging_product": "whatsapp", "sync_type": "history"}
    first = await sandbox.http.post(f"{url}/smb_app_data", headers=auth, json=body)
    again = await sandbox.http.post(f"{url}/smb_app_data", headers=auth, json=body)
    assert first.json()["messaging_product"] == "whatsapp" and first.json()["request_id"]
    assert assert_meta_error(again, 100, 400)["error_subcode"] == 2593107


async def test_migration_needs_two_step_off_then_code_and_register(sandbox: Sandbox, receiver) -> None:
    http, base = sandbox.http, sandbox.base
    locked = await http.post(f"{base}/_sandbox/foreign-numbers", json={"phone_number": "919855500011",
                                                                        "two_step_enabled": True, "pin": "123123"})
    free = await http.post(f"{base}/_sandbox/foreign-numbers", json={"phone_number": "919855500022",
                                                                      "two_step_enabled": False})
    assert locked.status_code == free.status_code == 200
    url = f"{sandbox.graph}/{sandbox.account['waba_id']}/phone_numbers"

    refused = await http.post(url, headers=sandbox.auth, params={"cc": "91", "phone_number": "9855500011",
                                                                  "migrate_phone_number": "true"})
    moved = await http.post(url, headers=sandbox.auth, params={"cc": "91", "phone_number": "9855500022",
                                                                "migrate_phone_number": "true"})

    assert assert_meta_error(refused, 100, 400)["error_subcode"] == 2388001
    phone = moved.json()["id"]
    assert phone == free.json()["phone_number_id"]
    await http.post(f"{sandbox.graph}/{phone}/request_code", headers=sandbox.auth,
                    params={"code_method": "VOICE", "language": "en_US"})
    code = (await http.get(f"{base}/_sandbox/phone-numbers/{phone}/code")).json()["code"]
    await http.post(f"{sandbox.graph}/{phone}/verify_code", headers=sandbox.auth, params={"code": code})
    registered = await http.post(f"{sandbox.graph}/{phone}/register", headers=sandbox.auth,
                                 json={"messaging_product": "whatsapp", "pin": "222333"})
    assert registered.json() == {"success": True}


async def test_media_upload_url_download_and_delete(sandbox: Sandbox) -> None:
    http, auth, phone = sandbox.http, sandbox.auth, sandbox.account["phone_number_id"]
    data = b"%PDF-1.4 invoice"
    upload = await http.post(f"{sandbox.graph}/{phone}/media", headers=auth, data={
        "messaging_product": "whatsapp", "type": "application/pdf"},
        files={"file": ("invoice.pdf", data, "application/pdf")})
    bad = await http.post(f"{sandbox.graph}/{phone}/media", headers=auth, data={"messaging_product": "whatsapp"},
                          files={"file": ("x.exe", b"MZ", "application/x-msdownload")})
    assert_meta_error(bad, 131053, 400)
    media_id = upload.json()["id"]

    info = (await http.get(f"{sandbox.graph}/{media_id}", headers=auth)).json()
    assert info["mime_type"] == "application/pdf" and info["file_size"] == str(len(data))
    assert (await http.get(info["url"])).status_code == 401
    downloaded = await http.get(info["url"], headers=auth)
    assert downloaded.content == data
    assert (await http.get(info["url"].replace("hash=", "hash=x"), headers=auth)).status_code == 404

    await sandbox.customer_says("919866600000")
    sent = await sandbox.send({"to": "919866600000", "type": "document",
                               "document": {"id": media_id, "filename": "invoice.pdf", "caption": "Your invoice"}})
    assert sent.status_code == 200, sent.text
    assert (await http.delete(f"{sandbox.graph}/{media_id}", headers=auth)).json() == {"success": True}
    assert_meta_error(await http.get(f"{sandbox.graph}/{media_id}", headers=auth), 100, 400)


async def test_management_calls_are_limited_to_200_an_hour_without_a_registered_number(sandbox: Sandbox) -> None:
    account, token = await _signed_up(sandbox.http, sandbox.base)
    url = f"{sandbox.base}/v24.0/{account['waba_id']}/phone_numbers"
    auth = {"Authorization": f"Bearer {token}"}

    statuses = [(await sandbox.http.get(url, headers=auth)).status_code for _ in range(200)]

    assert statuses == [200] * 200
    assert_meta_error(await sandbox.http.get(url, headers=auth), 80007, 400)
