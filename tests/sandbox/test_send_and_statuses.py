"""POST /{phone}/messages over real HTTP: the success shape, then signed status webhooks with pricing."""

from __future__ import annotations

import asyncio

from tests.sandbox.conftest import Sandbox, signature_ok

CUSTOMER = "919811112222"


async def test_text_in_window_gets_wamid_then_signed_sent_delivered_with_free_service_pricing(sandbox: Sandbox,
                                                                                               receiver) -> None:
    await sandbox.customer_says(CUSTOMER, "hello shop")
    response = await sandbox.text("+" + CUSTOMER, "Hi! How can we help?", biz_opaque_callback_data="order-7")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["messaging_product"] == "whatsapp"
    assert body["contacts"] == [{"input": "+" + CUSTOMER, "wa_id": CUSTOMER}]
    wamid = body["messages"][0]["id"]
    assert wamid.startswith("wamid.") and "message_status" not in body["messages"][0]

    await receiver.wait(lambda: {s["status"] for s in receiver.statuses(wamid)} >= {"sent", "delivered"})
    assert all(signature_ok(raw, headers) for raw, headers in receiver.posts)
    by_status = {s["status"]: s for s in receiver.statuses(wamid)}
    sent, delivered = by_status["sent"], by_status["delivered"]
    free = {"billable": False, "pricing_model": "PMP", "type": "free_customer_service", "category": "service"}
    assert sent["pricing"] == free and delivered["pricing"] == free
    assert sent["recipient_id"] == CUSTOMER and sent["biz_opaque_callback_data"] == "order-7"
    assert "conversation" not in sent  # v24+: only inside a free entry point window
    envelope = receiver.bodies()[-1]
    assert envelope["object"] == "whatsapp_business_account"
    assert envelope["entry"][0]["id"] == sandbox.account["waba_id"]
    assert envelope["entry"][0]["changes"][0]["value"]["metadata"] == {
        "display_phone_number": "919800000001", "phone_number_id": sandbox.account["phone_number_id"]}


async def test_inbound_message_webhook_has_contacts_and_string_timestamp(sandbox: Sandbox, receiver) -> None:
    wamid = await sandbox.customer_says(CUSTOMER, "do you deliver?")

    await receiver.wait(lambda: any(v.get("messages") for v in receiver.changes()))
    value = next(v for v in receiver.changes() if v.get("messages"))
    assert value["contacts"][0]["wa_id"] == CUSTOMER and value["contacts"][0]["profile"]["name"]
    message = value["messages"][0]
    assert message["id"] == wamid and message["from"] == CUSTOMER and message["type"] == "text"
    assert message["text"] == {"body": "do you deliver?"} and isinstance(message["timestamp"], str)


async def test_non_template_outside_window_is_accepted_then_fails_131047(sandbox: Sandbox, receiver) -> None:
    response = await sandbox.text(CUSTOMER)

    assert response.status_code == 200
    wamid = response.json()["messages"][0]["id"]
    await receiver.wait(lambda: receiver.statuses(wamid))
    (failed,) = receiver.statuses(wamid)
    assert failed["status"] == "failed" and "pricing" not in failed
    assert failed["errors"][0]["code"] == 131047
    assert failed["errors"][0]["title"] == "Re-engagement message" and failed["errors"][0]["error_data"]["details"]


async def test_window_rule_switched_to_sync_answers_400_131047(sandbox: Sandbox) -> None:
    await sandbox.profile(csw_mode="sync")

    response = await sandbox.text(CUSTOMER)

    assert response.status_code == 400 and response.json()["error"]["code"] == 131047


async def test_customer_reading_at_once_skips_delivered_and_puts_pricing_on_read(sandbox: Sandbox, receiver) -> None:
    await sandbox.profile(delivered_after_seconds=30)
    await sandbox.customer_says(CUSTOMER)
    wamid = (await sandbox.text(CUSTOMER)).json()["messages"][0]["id"]
    await receiver.wait(lambda: receiver.statuses(wamid))

    read = await sandbox.http.post(f"{sandbox.base}/_sandbox/customers/{CUSTOMER}/read",
                                   json={"phone_number_id": sandbox.account["phone_number_id"]})

    assert read.json() == {"read": [wamid]}
    await receiver.wait(lambda: any(s["status"] == "read" for s in receiver.statuses(wamid)))
    kinds = [s["status"] for s in receiver.statuses(wamid)]
    assert kinds == ["sent", "read"]
    assert receiver.statuses(wamid)[1]["pricing"]["type"] == "free_customer_service"


async def test_reaction_gets_only_sent(sandbox: Sandbox, receiver) -> None:
    inbound = await sandbox.customer_says(CUSTOMER)
    response = await sandbox.send({"to": CUSTOMER, "type": "reaction",
                                   "reaction": {"message_id": inbound, "emoji": "👍"}})
    wamid = response.json()["messages"][0]["id"]
    later = (await sandbox.text(CUSTOMER, "and a text")).json()["messages"][0]["id"]

    await receiver.wait(lambda: any(s["status"] == "delivered" for s in receiver.statuses(later)))
    assert [s["status"] for s in receiver.statuses(wamid)] == ["sent"]


async def test_mark_as_read_and_typing_answer_success(sandbox: Sandbox) -> None:
    inbound = await sandbox.customer_says(CUSTOMER)

    plain = await sandbox.send({"status": "read", "message_id": inbound})
    typing = await sandbox.send({"status": "read", "message_id": inbound, "typing_indicator": {"type": "text"}})

    assert plain.json() == {"success": True} and typing.json() == {"success": True}
    thread = await sandbox.http.get(f"{sandbox.base}/_sandbox/customers/{CUSTOMER}/thread",
                                    params={"phone_number_id": sandbox.account["phone_number_id"]})
    assert thread.json()["data"][-1]["status"] == "read"


async def test_webhook_500s_are_retried_with_backoff_until_delivered(sandbox: Sandbox, receiver) -> None:
    receiver.fail_next = 2
    wamid = await sandbox.customer_says(CUSTOMER, "retry me")

    await receiver.wait(lambda: len(receiver.posts) >= 3)
    bodies = [raw for raw, _ in receiver.posts[:3]]
    assert bodies[0] == bodies[1] == bodies[2] and wamid.encode() in bodies[0]
    # the receiver answered the third POST; the delivery job records that after the response reaches it
    for _ in range(200):
        (delivery,) = (await sandbox.http.get(f"{sandbox.base}/_sandbox/webhooks")).json()["data"]
        if delivery["status"] != "pending":
            break
        await asyncio.sleep(0.05)
    assert delivery["status"] == "delivered" and delivery["attempts"] == 3
