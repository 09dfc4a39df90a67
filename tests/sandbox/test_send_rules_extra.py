"""MM Lite, Flow blocks and throttling, account restrictions, the throughput upgrade and two-step PIN guesses,
each over real HTTP with Meta's error body."""

from __future__ import annotations

import asyncio

from tests.sandbox.conftest import Sandbox, assert_meta_error

CUSTOMER = "919811112222"


async def approved(sandbox: Sandbox, receiver, name: str, category: str) -> str:  # type: ignore[no-untyped-def]
    template_id = await sandbox.template(name, "Hello there friend", category=category)
    await receiver.wait(lambda: any(v["message_template_id"] == int(template_id) and v["event"] == "APPROVED"
                                    for v in receiver.changes("message_template_status_update")))
    return template_id


def template(name: str, to: str = CUSTOMER) -> dict:
    return {"messaging_product": "whatsapp", "to": to, "type": "template",
            "template": {"name": name, "language": {"code": "en_US"}}}


async def test_mm_lite_enforces_template_marketing_synced_available_and_prices_marketing_lite(
        sandbox: Sandbox, receiver) -> None:
    promo = await approved(sandbox, receiver, "lite_promo", "MARKETING")
    await approved(sandbox, receiver, "lite_util", "UTILITY")
    url = f"{sandbox.graph}/{sandbox.account['phone_number_id']}/marketing_messages"

    async def post(body: dict):  # type: ignore[no-untyped-def]
        return await sandbox.http.post(url, json=body, headers=sandbox.auth)

    text = await post({"messaging_product": "whatsapp", "to": CUSTOMER, "type": "text", "text": {"body": "hi"}})
    assert_meta_error(text, 100, 400)
    assert text.json()["error"]["message"] == "(#100) Message must be a template message."
    assert_meta_error(await post(template("lite_util")), 134100, 400)
    assert_meta_error(await post(template("lite_promo")), 134101, 400)  # approved < 10 min ago: syncing

    await sandbox.profile(mm_lite_sync_seconds=0)
    assert_meta_error(await post({**template("lite_promo"), "message_activity_sharing": "yes"}), 131009, 400)
    sent = await post({**template("lite_promo"), "message_activity_sharing": True})
    assert sent.status_code == 200, sent.text
    wamid = sent.json()["messages"][0]["id"]
    await receiver.wait(lambda: receiver.statuses(wamid))
    assert receiver.statuses(wamid)[0]["pricing"] == {"billable": True, "pricing_model": "PMP", "type": "regular",
                                                       "category": "marketing_lite"}

    await sandbox.profile(mm_lite_marketing_only_code=131055)
    assert_meta_error(await post(template("lite_util")), 131055, 400)
    off = await sandbox.http.post(f"{sandbox.base}/_sandbox/templates/{promo}/status",
                                  json={"mm_lite_available": False})
    assert off.status_code == 200, off.text
    assert_meta_error(await post(template("lite_promo")), 134102, 500)


def flow(flow_id: str) -> dict:
    return {"to": CUSTOMER, "type": "interactive", "interactive": {
        "type": "flow", "body": {"text": "Book an appointment"},
        "action": {"name": "flow", "parameters": {"flow_message_version": "3", "flow_token": "TOKEN",
                                                  "flow_id": flow_id, "flow_cta": "Book", "mode": "published",
                                                  "flow_action": "navigate"}}}}


async def test_flow_blocked_132068_and_throttled_after_10_sends_an_hour_132069(sandbox: Sandbox) -> None:
    await sandbox.customer_says(CUSTOMER)
    for _ in range(10):
        response = await sandbox.send(flow("111"))
        assert response.status_code == 200, response.text
    assert_meta_error(await sandbox.send(flow("111")), 132069, 400)
    assert (await sandbox.send(flow("333"))).status_code == 200  # counted per Flow

    blocked = await sandbox.http.post(f"{sandbox.base}/_sandbox/flows", json={
        "waba_id": sandbox.account["waba_id"], "flow_id": "222", "status": "BLOCKED"})
    assert blocked.json()["status"] == "BLOCKED"
    assert_meta_error(await sandbox.send(flow("222")), 132068, 400)
    await sandbox.http.post(f"{sandbox.base}/_sandbox/flows", json={
        "waba_id": sandbox.account["waba_id"], "flow_id": "222", "status": "PUBLISHED"})
    assert (await sandbox.send(flow("222"))).status_code == 200


async def test_restricted_business_initiated_messaging_blocks_templates_until_expiration(sandbox: Sandbox,
                                                                                         receiver) -> None:
    await approved(sandbox, receiver, "restricted_note", "UTILITY")
    state = f"{sandbox.base}/_sandbox/phone-numbers/{sandbox.account['phone_number_id']}/state"
    await sandbox.http.post(state, json={"restriction": "RESTRICTED_BIZ_INITIATED_MESSAGING",
                                         "restriction_seconds": 1.5})
    await receiver.wait(lambda: receiver.changes("account_update"))
    assert receiver.changes("account_update")[0]["restriction_info"][0]["restriction_type"] == \
        "RESTRICTED_BIZ_INITIATED_MESSAGING"

    assert_meta_error(await sandbox.send(template("restricted_note")), 368, 403)
    await sandbox.customer_says(CUSTOMER)  # inside the window the business may answer
    assert (await sandbox.text(CUSTOMER)).status_code == 200
    assert (await sandbox.send(template("restricted_note", "919811113333"))).status_code == 403
    await asyncio.sleep(1.6)
    assert (await sandbox.send(template("restricted_note", "919811113333"))).status_code == 200


async def test_throughput_upgrade_answers_131057_then_fires_throughput_upgrade_and_level_high(
        sandbox: Sandbox, receiver) -> None:
    phone = sandbox.account["phone_number_id"]
    state = f"{sandbox.base}/_sandbox/phone-numbers/{phone}/state"
    early = await sandbox.http.post(state, json={"throughput_upgrade": True})
    assert_meta_error(early, 100, 400)  # only at TIER_UNLIMITED
    await sandbox.profile(throughput_upgrade_seconds=1.0)
    await sandbox.http.post(state, json={"messaging_limit_tier": "TIER_UNLIMITED"})
    started = await sandbox.http.post(state, json={"throughput_upgrade": True})
    assert started.json()["upgrading_until"]
    await sandbox.customer_says(CUSTOMER)

    assert_meta_error(await sandbox.text(CUSTOMER), 131057, 500)
    await receiver.wait(lambda: any(v["event"] == "THROUGHPUT_UPGRADE"
                                    for v in receiver.changes("phone_number_quality_update")))
    info = await sandbox.http.get(f"{sandbox.graph}/{phone}", params={"fields": "throughput"}, headers=sandbox.auth)
    assert info.json()["throughput"] == {"level": "HIGH"}
    assert (await sandbox.text(CUSTOMER)).status_code == 200


async def test_two_step_pin_guesses_mismatch_too_fast_then_too_many(sandbox: Sandbox) -> None:
    await sandbox.profile(pin_guess_limit=3, pin_guess_min_interval_seconds=0.5)
    url = f"{sandbox.graph}/{sandbox.account['phone_number_id']}/register"
    right = sandbox.account["pin"]
    wrong = "000000" if right != "000000" else "111111"

    async def register(pin: str):  # type: ignore[no-untyped-def]
        return await sandbox.http.post(url, headers=sandbox.auth, json={"messaging_product": "whatsapp", "pin": pin})

    assert_meta_error(await register(wrong), 133005, 400)
    assert_meta_error(await register(wrong), 133009, 400)  # guessed again within 0.5 s
    await asyncio.sleep(0.6)
    assert_meta_error(await register(wrong), 133005, 400)
    locked = assert_meta_error(await register(right), 133008, 400)  # 3 wrong guesses: even the right PIN waits
    assert "Try again after" in locked["error_data"]["details"]
