"""Every sync check of POST /{phone}/messages answers Meta's error body with Meta's code and HTTP status."""

from __future__ import annotations

import time

import pytest

from tests.sandbox.conftest import Sandbox, assert_meta_error

CUSTOMER = "919833334444"


async def test_missing_or_unknown_token_is_190_401(sandbox: Sandbox) -> None:
    phone = sandbox.account["phone_number_id"]
    missing = await sandbox.http.post(f"{sandbox.graph}/{phone}/messages", json={"messaging_product": "whatsapp"})
    wrong = await sandbox.send({"to": CUSTOMER, "type": "text", "text": {"body": "x"}}, token="EAAnope")

    assert_meta_error(missing, 190, 401)
    assert_meta_error(wrong, 190, 401)


async def test_token_of_another_business_is_200_403(sandbox: Sandbox, receiver) -> None:
    other = await sandbox.http.post(f"{sandbox.base}/_sandbox/provision", json={
        "app_id": "999", "app_secret": "s" * 32, "callback_url": receiver.url, "verify_token": "v",
        "business_name": "Other", "verified_name": "Other"})

    response = await sandbox.send({"to": CUSTOMER, "type": "text", "text": {"body": "x"}},
                                  token=other.json()["access_token"])

    assert_meta_error(response, 200, 403)


async def test_unknown_number_and_bad_version(sandbox: Sandbox) -> None:
    unknown = await sandbox.http.post(f"{sandbox.graph}/123/messages", json={}, headers=sandbox.auth)
    version = await sandbox.http.post(f"{sandbox.base}/latest/{sandbox.account['phone_number_id']}/messages",
                                      json={}, headers=sandbox.auth)
    older = await sandbox.http.get(f"{sandbox.base}/v17.0/{sandbox.account['phone_number_id']}", headers=sandbox.auth)

    assert_meta_error(unknown, 100, 400)
    assert version.status_code == 400 and version.json()["error"]["code"] == 2500
    assert older.status_code == 200 and older.json()["id"] == sandbox.account["phone_number_id"]


LONG = "x" * 4097


@pytest.mark.parametrize(("body", "code"), [
    ({"to": CUSTOMER, "type": "text", "text": {"body": "hi"}, "messaging_product": None}, 100),
    ({"type": "text", "text": {"body": "hi"}}, 131008),
    ({"to": CUSTOMER, "type": "carrier_pigeon", "carrier_pigeon": {}}, 100),
    ({"to": CUSTOMER, "type": "text"}, 131008),
    ({"to": CUSTOMER, "type": "text", "text": {"body": LONG}}, 131009),
    ({"to": "abc", "type": "text", "text": {"body": "hi"}}, 131009),
    ({"to": CUSTOMER, "type": "text", "text": {"body": "hi"}, "biz_opaque_callback_data": "y" * 513}, 131009),
    ({"to": CUSTOMER, "type": "image", "image": {"id": "1", "link": "https://x.test/a.jpg"}}, 131009),
    ({"to": CUSTOMER, "type": "image", "image": {"link": "https://x.test/a.jpg", "filename": "a.jpg"}}, 131009),
    ({"to": CUSTOMER, "type": "audio", "audio": {"link": "https://x.test/a.ogg", "caption": "no"}}, 131009),
    ({"to": CUSTOMER, "type": "image", "image": {"id": "404404"}}, 131009),
    ({"to": CUSTOMER, "type": "interactive", "interactive": {"type": "button", "body": {"text": "Pick"}, "action": {
        "buttons": [{"type": "reply", "reply": {"id": str(i), "title": "B"}} for i in range(4)]}}}, 131009),
    ({"to": CUSTOMER, "type": "interactive", "interactive": {"type": "button", "body": {"text": "Pick"}, "action": {
        "buttons": [{"type": "reply", "reply": {"id": "a", "title": "x" * 21}}]}}}, 131009),
    ({"to": CUSTOMER, "type": "interactive", "interactive": {"type": "list", "body": {"text": "Pick"}, "action": {
        "button": "Options", "sections": [{"title": "S", "rows": [{"id": str(i), "title": "R"} for i in range(11)]}]}}},
     131009),
    ({"to": CUSTOMER, "type": "interactive", "interactive": {"type": "flow", "body": {"text": "Book"}, "action": {
        "name": "flow", "parameters": {"flow_cta": "Book 📅", "flow_id": "1", "flow_token": "t"}}}}, 131009),
])
async def test_request_checks(sandbox: Sandbox, body: dict, code: int) -> None:
    await sandbox.customer_says(CUSTOMER)
    payload = {"messaging_product": "whatsapp", **body}
    if payload.get("messaging_product") is None:
        payload.pop("messaging_product")
    response = await sandbox.http.post(f"{sandbox.graph}/{sandbox.account['phone_number_id']}/messages", json=payload,
                                       headers=sandbox.auth)

    assert_meta_error(response, code, 400)


async def test_lenient_parsing_accepts_nulls_upper_case_types_and_plus(sandbox: Sandbox) -> None:
    await sandbox.customer_says(CUSTOMER)

    response = await sandbox.send({"to": "+" + CUSTOMER, "type": "CONTACTS", "context": None, "contacts": [
        {"name": {"formatted_name": "Asha Rao", "first_name": "Asha", "last_name": None},
         "phones": [{"phone": "+91 98123 45678", "type": "CELL", "wa_id": None}], "emails": None}]})

    assert response.status_code == 200, response.text


async def test_recipient_cannot_be_sender(sandbox: Sandbox) -> None:
    response = await sandbox.text("919800000001")

    assert_meta_error(response, 131021, 400)


async def test_throughput_bucket_answers_130429(sandbox: Sandbox) -> None:
    await sandbox.profile(throughput_mps=3, enforce_pair_rate=False)
    responses = [await sandbox.text(f"9198000100{i:02d}") for i in range(8)]

    # the bucket refills while we send (3 a second), so which call hits the limit depends on the machine's
    # speed; that the first refused one carries Meta's 130429 body does not
    refused = [r for r in responses if r.status_code != 200]
    assert refused, [r.status_code for r in responses]
    assert_meta_error(refused[0], 130429, 400)


async def test_pair_rate_allows_a_burst_of_45_then_131056(sandbox: Sandbox) -> None:
    await sandbox.profile(enforce_throughput=False)
    await sandbox.customer_says(CUSTOMER)
    started = time.monotonic()
    statuses = [(await sandbox.text(CUSTOMER, f"m{i}")).status_code for i in range(45)]

    assert statuses == [200] * 45
    # one message per 6 s refills while we send: a slow machine earns that many more before the refusal
    for _ in range(int((time.monotonic() - started) // 6) + 1):
        response = await sandbox.text(CUSTOMER)
        if response.status_code != 200:
            break
    assert_meta_error(response, 131056, 400)


async def test_unregistered_sender_is_133010(sandbox: Sandbox) -> None:
    phone = sandbox.account["phone_number_id"]
    response = await sandbox.http.post(f"{sandbox.graph}/{phone}/deregister", headers=sandbox.auth)
    assert response.json() == {"success": True}

    assert_meta_error(await sandbox.text(CUSTOMER), 133010, 400)
