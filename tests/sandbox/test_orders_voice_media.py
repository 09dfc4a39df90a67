"""order_status transitions and payment (2046 / 2047, payment webhook, payments lookup), voice notes `played`,
inbound media over 100 MB (131052) and media sha256 encodings."""

from __future__ import annotations

import base64

from tests.sandbox.conftest import Sandbox, assert_meta_error

CUSTOMER = "919822223333"


def order_details(reference: str) -> dict:
    return {"to": CUSTOMER, "type": "interactive", "interactive": {
        "type": "order_details", "body": {"text": "Your order is ready"},
        "action": {"name": "review_and_pay", "parameters": {
            "reference_id": reference, "type": "digital-goods",
            "payment_settings": [{"type": "payment_gateway", "payment_gateway": {
                "type": "razorpay", "configuration_name": "payment-config-id",
                "razorpay": {"receipt": "receipt-value", "notes": {"key1": "value1"}}}}],
            "currency": "INR", "total_amount": {"value": 21000, "offset": 100},
            "order": {"status": "pending", "catalog_id": "the-catalog_id",
                      "items": [{"retailer_id": "1234567", "name": "Bread", "amount": {"value": 10000, "offset": 100},
                                 "quantity": 2}],
                      "subtotal": {"value": 20000, "offset": 100}, "tax": {"value": 1000, "offset": 100}}}}}}


def order_status(reference: str, status: str) -> dict:
    return {"to": CUSTOMER, "type": "interactive", "interactive": {
        "type": "order_status", "body": {"text": f"Your order is {status}"},
        "action": {"name": "review_order", "parameters": {"reference_id": reference, "order": {"status": status}}}}}


async def test_order_status_transitions_payment_webhook_lookup_and_no_cancel_after_payment(sandbox: Sandbox,
                                                                                           receiver) -> None:
    phone = sandbox.account["phone_number_id"]
    await sandbox.customer_says(CUSTOMER)
    assert_meta_error(await sandbox.send(order_status("NEVER-SENT", "shipped")), 2046, 400)
    assert (await sandbox.send(order_details("BM345A-12"))).status_code == 200
    assert (await sandbox.send(order_status("BM345A-12", "processing"))).status_code == 200
    assert (await sandbox.send(order_status("BM345A-12", "shipped"))).status_code == 200
    assert_meta_error(await sandbox.send(order_status("BM345A-12", "processing")), 2046, 400)

    unpaid = await sandbox.http.get(f"{sandbox.graph}/{phone}/payments/payment-config-id/BM345A-12",
                                    headers=sandbox.auth)
    assert unpaid.json()["payments"][0]["status"] == "pending" and unpaid.json()["payments"][0]["transactions"] == []

    paid = await sandbox.http.post(f"{sandbox.base}/_sandbox/orders/BM345A-12/pay",
                                   json={"phone_number_id": phone, "method": "upi"})
    assert paid.status_code == 200, paid.text
    await receiver.wait(lambda: any(s.get("type") == "payment" for s in receiver.statuses()))
    payment = next(s for s in receiver.statuses() if s.get("type") == "payment")
    assert payment["status"] == "captured" and payment["recipient_id"] == CUSTOMER
    assert payment["payment"]["reference_id"] == "BM345A-12"
    assert payment["payment"]["amount"] == {"value": 21000, "offset": 100}
    assert payment["payment"]["transaction"]["status"] == "success"
    assert payment["payment"]["transaction"]["method"] == {"type": "upi"}
    assert payment["payment"]["receipt"] == "receipt-value" and payment["payment"]["notes"] == {"key1": "value1"}

    lookup = await sandbox.http.get(f"{sandbox.graph}/{phone}/payments/payment-config-id/BM345A-12",
                                    headers=sandbox.auth)
    item = lookup.json()["payments"][0]
    assert item["status"] == "captured" and item["total_amount"] == {"value": 21000, "offset": 100}
    assert [t["status"] for t in item["transactions"]] == ["success"]
    missing = await sandbox.http.get(f"{sandbox.graph}/{phone}/payments/payment-config-id/NOPE",
                                     headers=sandbox.auth)
    assert_meta_error(missing, 100, 400)

    assert_meta_error(await sandbox.send(order_status("BM345A-12", "canceled")), 2047, 400)
    assert (await sandbox.send(order_status("BM345A-12", "completed"))).status_code == 200
    assert_meta_error(await sandbox.send(order_status("BM345A-12", "shipped")), 2046, 400)  # completed is final

    assert (await sandbox.send(order_details("UNPAID-1"))).status_code == 200
    assert (await sandbox.send(order_status("UNPAID-1", "canceled"))).status_code == 200  # not paid: may cancel


async def test_voice_note_played_once_after_delivery(sandbox: Sandbox, receiver) -> None:
    phone = sandbox.account["phone_number_id"]
    await sandbox.customer_says(CUSTOMER)
    voice = {"to": CUSTOMER, "type": "audio", "audio": {"link": "https://example.com/note.ogg", "voice": True}}
    wamid = (await sandbox.send(voice)).json()["messages"][0]["id"]
    await receiver.wait(lambda: any(s["status"] == "delivered" for s in receiver.statuses(wamid)))
    play = f"{sandbox.base}/_sandbox/customers/{CUSTOMER}/play"

    first = await sandbox.http.post(play, json={"phone_number_id": phone, "wamid": wamid})
    again = await sandbox.http.post(play, json={"phone_number_id": phone, "wamid": wamid})
    assert first.json() == {"played": True} and again.json() == {"played": False}
    await receiver.wait(lambda: len(receiver.statuses(wamid)) == 4)
    statuses = [s["status"] for s in receiver.statuses(wamid)]  # deliveries are concurrent: order not guaranteed
    assert sorted(statuses) == sorted(["sent", "delivered", "read", "played"])

    text = (await sandbox.text(CUSTOMER)).json()["messages"][0]["id"]
    assert_meta_error(await sandbox.http.post(play, json={"phone_number_id": phone, "wamid": text}), 100, 400)
    await sandbox.profile(delivery_ratio=0.0)
    undelivered = (await sandbox.send(voice)).json()["messages"][0]["id"]
    await receiver.wait(lambda: receiver.statuses(undelivered))
    early = await sandbox.http.post(play, json={"phone_number_id": phone, "wamid": undelivered})
    assert_meta_error(early, 100, 400)


async def test_inbound_media_over_100_mb_arrives_as_131052_and_sha256_is_base64_in_webhooks_hex_in_get(
        sandbox: Sandbox, receiver) -> None:
    phone = sandbox.account["phone_number_id"]
    url = f"{sandbox.base}/_sandbox/customers/{CUSTOMER}/messages"
    big = await sandbox.http.post(url, json={"phone_number_id": phone, "message": {
        "type": "document", "document": {"filename": "movie.mp4", "file_size": 150 * 1024 * 1024}}})
    small = await sandbox.http.post(url, json={"phone_number_id": phone, "message": {
        "type": "image", "image": {"data_base64": base64.b64encode(b"tiny image bytes").decode()}}})
    assert big.status_code == 200 and small.status_code == 200

    await receiver.wait(lambda: len([v for v in receiver.changes() if v.get("messages")]) == 2)
    messages = {v["messages"][0]["id"]: v["messages"][0] for v in receiver.changes() if v.get("messages")}
    refused = messages[big.json()["wamid"]]
    assert refused["type"] == "unsupported" and "document" not in refused
    assert refused["errors"][0]["code"] == 131052 and "100MB" in refused["errors"][0]["error_data"]["details"]
    image = messages[small.json()["wamid"]]["image"]
    assert "file_size" not in image
    info = (await sandbox.http.get(f"{sandbox.graph}/{image['id']}", headers=sandbox.auth)).json()
    assert base64.b64decode(image["sha256"]).hex() == info["sha256"] and len(info["sha256"]) == 64
