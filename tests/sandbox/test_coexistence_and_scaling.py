"""Coexistence webhooks (history, smb_app_state_sync, smb_message_echoes) and messaging-limit auto-scaling."""

from __future__ import annotations

from tests.sandbox.conftest import APP_ID, APP_SECRET, VERIFY_TOKEN, Sandbox


async def test_history_and_contact_sync_and_business_app_echoes(sandbox: Sandbox, receiver) -> None:
    await sandbox.profile(history_delay_seconds=0.0, history_customers=2, history_messages_per_customer=8)
    coexistence = await sandbox.http.post(f"{sandbox.base}/_sandbox/provision", json={
        "app_id": APP_ID, "app_secret": APP_SECRET, "callback_url": receiver.url, "verify_token": VERIFY_TOKEN,
        "business_name": "App Shop", "verified_name": "App Shop", "display_phone_number": "919800000055",
        "coexistence": True})
    account = coexistence.json()
    auth = {"Authorization": f"Bearer {account['access_token']}"}
    url = f"{sandbox.graph}/{account['phone_number_id']}/smb_app_data"

    for sync_type in ("history", "smb_app_state_sync"):
        response = await sandbox.http.post(url, headers=auth, json={"messaging_product": "whatsapp",
                                                                    "sync_type": sync_type})
        assert response.status_code == 200 and response.json()["request_id"], response.text

    await receiver.wait(lambda: len(receiver.changes("history")) == 3)  # one chunk per phase here
    chunks = [c for v in receiver.changes("history") for c in v["history"]]
    assert {c["metadata"]["phase"] for c in chunks} == {0, 1, 2}
    assert sorted(c["metadata"]["progress"] for c in chunks) == [33, 67, 100]
    assert all(c["metadata"]["chunk_order"] >= 1 for c in chunks)
    assert receiver.changes("history")[0]["metadata"]["phone_number_id"] == account["phone_number_id"]
    messages = [m for c in chunks for t in c["threads"] for m in t["messages"]]
    assert len(messages) == 16 and {t["id"] for c in chunks for t in c["threads"]} == {"917000550000", "917000550001"}
    outbound = [m for m in messages if m["from"] == "919800000055"]
    assert outbound and all(m["to"] in ("917000550000", "917000550001") for m in outbound)
    assert all(m["type"] == "text" and m["text"]["body"] and m["history_context"]["status"] for m in messages)

    await receiver.wait(lambda: receiver.changes("smb_app_state_sync"))
    state = receiver.changes("smb_app_state_sync")[0]["state_sync"]
    assert {s["contact"]["phone_number"] for s in state} == {"917000550000", "917000550001"}
    assert all(s["type"] == "contact" and s["action"] == "add" for s in state)

    echo = await sandbox.http.post(
        f"{sandbox.base}/_sandbox/phone-numbers/{account['phone_number_id']}/business-app-messages",
        json={"to": "917000550000", "message": {"type": "text", "text": {"body": "Sent from the app"}}})
    assert echo.status_code == 200, echo.text
    await receiver.wait(lambda: receiver.changes("smb_message_echoes"))
    echoed = receiver.changes("smb_message_echoes")[0]["message_echoes"][0]
    assert echoed == {"from": "919800000055", "to": "917000550000", "id": echo.json()["wamid"],
                      "timestamp": echoed["timestamp"], "type": "text", "text": {"body": "Sent from the app"}}
    not_coexistence = await sandbox.http.post(
        f"{sandbox.base}/_sandbox/phone-numbers/{sandbox.account['phone_number_id']}/business-app-messages",
        json={"to": "917000550000", "message": {"type": "text", "text": {"body": "x"}}})
    assert not_coexistence.status_code == 400


async def test_messaging_limit_scales_one_tier_after_half_the_limit_was_used(sandbox: Sandbox, receiver) -> None:
    phone = sandbox.account["phone_number_id"]
    template_id = await sandbox.template("scale_note", "Hello there friend", category="UTILITY")
    await receiver.wait(lambda: any(v["message_template_id"] == int(template_id) and v["event"] == "APPROVED"
                                    for v in receiver.changes("message_template_status_update")))
    await sandbox.http.post(f"{sandbox.base}/_sandbox/phone-numbers/{phone}/state",
                            json={"messaging_limit_tier": "TIER_50"})
    await sandbox.profile(limit_scale_delay_seconds=0.3)
    for i in range(25):
        response = await sandbox.send({"to": f"91981000{i:04d}", "type": "template",
                                       "template": {"name": "scale_note", "language": {"code": "en_US"}}})
        assert response.status_code == 200, response.text

    await receiver.wait(lambda: any(v["max_daily_conversations_per_business"] == "TIER_250"
                                    for v in receiver.changes("business_capability_update")))
    await receiver.wait(lambda: any(v.get("max_daily_conversations_per_business") == "TIER_250"
                                    for v in receiver.changes("phone_number_quality_update")))
    info = await sandbox.http.get(f"{sandbox.graph}/{phone}", headers=sandbox.auth,
                                  params={"fields": "whatsapp_business_manager_messaging_limit"})
    assert info.json()["whatsapp_business_manager_messaging_limit"] == "TIER_250"
