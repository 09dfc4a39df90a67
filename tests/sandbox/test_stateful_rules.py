"""Stateful rules: free entry point windows, pricing by category and window, opt-out, messaging limit,
injected failures, webhook versions, inbound types."""

from __future__ import annotations

from tests.sandbox.conftest import Sandbox

CUSTOMER = "919877778888"
REFERRAL = {"source_url": "https://fb.me/ad", "source_id": "ADID", "source_type": "ad", "headline": "Sale",
            "body": "50% off", "media_type": "image", "image_url": "https://x.test/i.jpg", "ctwa_clid": "CLID"}


async def _approve(sandbox: Sandbox, receiver, name: str, category: str) -> None:  # type: ignore[no-untyped-def]
    template_id = await sandbox.template(name, "Hello there friend", category=category)
    await receiver.wait(lambda: any(v["message_template_id"] == int(template_id) and v["event"] == "APPROVED"
                                    for v in receiver.changes("message_template_status_update")))


def _template(name: str, to: str = CUSTOMER) -> dict:
    return {"to": to, "type": "template", "template": {"name": name, "language": {"code": "en_US"}}}


async def _first_status(sandbox: Sandbox, receiver, response) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    wamid = response.json()["messages"][0]["id"]
    await receiver.wait(lambda: receiver.statuses(wamid))
    return receiver.statuses(wamid)[0]


async def test_pricing_by_template_category_inside_and_outside_the_window(sandbox: Sandbox, receiver) -> None:
    await _approve(sandbox, receiver, "util_note", "UTILITY")
    await _approve(sandbox, receiver, "promo_note", "MARKETING")

    outside = await _first_status(sandbox, receiver, await sandbox.send(_template("util_note")))
    await sandbox.customer_says(CUSTOMER)
    utility_inside = await _first_status(sandbox, receiver, await sandbox.send(_template("util_note")))
    marketing_inside = await _first_status(sandbox, receiver, await sandbox.send(_template("promo_note")))

    assert outside["pricing"] == {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "utility"}
    assert utility_inside["pricing"] == {"billable": False, "pricing_model": "PMP", "type": "free_customer_service",
                                         "category": "utility"}
    assert marketing_inside["pricing"]["type"] == "regular" and marketing_inside["pricing"]["category"] == "marketing"


async def test_reply_to_an_ad_opens_a_free_entry_point_window_with_one_conversation(sandbox: Sandbox,
                                                                                    receiver) -> None:
    await _approve(sandbox, receiver, "promo_note", "MARKETING")
    await sandbox.customer_says(CUSTOMER, "I saw your ad", referral=REFERRAL)
    await receiver.wait(lambda: any(v.get("messages") for v in receiver.changes()))
    inbound = next(v for v in receiver.changes() if v.get("messages"))
    assert inbound["messages"][0]["referral"] == REFERRAL

    reply = await _first_status(sandbox, receiver, await sandbox.text(CUSTOMER, "Welcome!"))
    template = await _first_status(sandbox, receiver, await sandbox.send(_template("promo_note")))

    fep = {"billable": False, "pricing_model": "PMP", "type": "free_entry_point", "category": "referral_conversion"}
    assert reply["pricing"] == fep and template["pricing"] == fep
    assert reply["conversation"]["id"] == template["conversation"]["id"]
    assert reply["conversation"]["origin"] == {"type": "referral_conversion"}
    assert int(reply["conversation"]["expiration_timestamp"]) - int(reply["timestamp"]) in range(72 * 3600 - 5,
                                                                                                  72 * 3600 + 5)


async def test_webhook_version_23_carries_a_conversation_per_message(sandbox: Sandbox, receiver) -> None:
    await sandbox.profile(webhook_version="v23.0")
    await sandbox.customer_says(CUSTOMER)
    wamid = (await sandbox.text(CUSTOMER)).json()["messages"][0]["id"]

    await receiver.wait(lambda: len(receiver.statuses(wamid)) == 2)
    sent, delivered = receiver.statuses(wamid)
    assert sent["conversation"]["origin"] == {"type": "service"} and "expiration_timestamp" in sent["conversation"]
    assert "expiration_timestamp" not in delivered["conversation"]
    assert sent["pricing"] == {"billable": False, "pricing_model": "PMP", "category": "service"}


async def test_marketing_to_an_opted_out_customer_fails_131050_and_tells_the_business(sandbox: Sandbox,
                                                                                      receiver) -> None:
    await _approve(sandbox, receiver, "promo_note", "MARKETING")
    await sandbox.customer_says(CUSTOMER)
    opt_out = await sandbox.http.put(f"{sandbox.base}/_sandbox/customers/{CUSTOMER}",
                                     json={"name": "Ravi", "opted_out_marketing": True})
    assert opt_out.json()["opted_out_marketing"] is True

    failed = await _first_status(sandbox, receiver, await sandbox.send(_template("promo_note")))

    assert failed["status"] == "failed" and failed["errors"][0]["code"] == 131050
    await receiver.wait(lambda: any(v.get("user_preferences") for v in receiver.changes()))
    preferences = [v for v in receiver.changes() if v.get("user_preferences")]
    assert preferences[0]["user_preferences"][0]["value"] == "stop"
    assert preferences[0]["user_preferences"][0]["category"] == "marketing_messages"


async def test_injected_failures_per_recipient_and_by_rule(sandbox: Sandbox, receiver) -> None:
    await _approve(sandbox, receiver, "promo_note", "MARKETING")
    await sandbox.http.put(f"{sandbox.base}/_sandbox/customers/919800000777", json={"on_whatsapp": False})
    await sandbox.http.put(f"{sandbox.base}/_sandbox/customers/919800000778", json={"failure_code": 130472})
    await sandbox.profile(failures=[{"code": 131049, "recipient": "919800000779", "categories": ["MARKETING"]}])

    codes = []
    for to in ("919800000777", "919800000778", "919800000779"):
        status = await _first_status(sandbox, receiver, await sandbox.send(_template("promo_note", to)))
        codes.append(status["errors"][0]["code"])

    assert codes == [131026, 130472, 131049]


async def test_messaging_limit_counts_unique_recipients_per_portfolio(sandbox: Sandbox, receiver) -> None:
    await _approve(sandbox, receiver, "promo_note", "MARKETING")
    await sandbox.http.post(f"{sandbox.base}/_sandbox/phone-numbers/{sandbox.account['phone_number_id']}/state",
                            json={"messaging_limit_tier": "TIER_50"})
    await sandbox.profile(messaging_limit_code=131064)
    for i in range(50):
        assert (await sandbox.send(_template("promo_note", f"91980002{i:04d}"))).status_code == 200

    again = await _first_status(sandbox, receiver, await sandbox.send(_template("promo_note", "919800020000")))
    over = await _first_status(sandbox, receiver, await sandbox.send(_template("promo_note", "919800029999")))

    assert again["status"] == "sent"
    assert over["status"] == "failed" and over["errors"][0]["code"] == 131064
    await receiver.wait(lambda: receiver.changes("business_capability_update"))
    capability = receiver.changes("business_capability_update")
    assert capability[0]["max_daily_conversations_per_business"] == "TIER_50"


async def test_inbound_types_media_context_system_and_unsupported(sandbox: Sandbox, receiver) -> None:
    phone = sandbox.account["phone_number_id"]
    url = f"{sandbox.base}/_sandbox/customers/{CUSTOMER}/messages"
    image = await sandbox.http.post(url, json={"phone_number_id": phone, "message": {
        "type": "image", "image": {"caption": "my receipt"}}})
    first = image.json()["wamid"]
    reply = await sandbox.http.post(url, json={"phone_number_id": phone, "context": {"id": first}, "message": {
        "type": "interactive", "interactive": {"type": "button_reply", "button_reply": {"id": "yes", "title": "Yes"}}}})
    system = await sandbox.http.post(url, json={"phone_number_id": phone, "message": {
        "type": "system", "system": {"body": "User changed number", "wa_id": "919800009999",
                                     "type": "user_changed_number"}}})
    unsupported = await sandbox.http.post(url, json={"phone_number_id": phone, "message": {"type": "unsupported"}})
    assert all(r.status_code == 200 for r in (image, reply, system, unsupported))

    await receiver.wait(lambda: len([v for v in receiver.changes() if v.get("messages")]) == 4)
    values = {v["messages"][0]["type"]: v for v in receiver.changes() if v.get("messages")}
    media = values["image"]["messages"][0]["image"]
    assert media["caption"] == "my receipt" and media["mime_type"] == "image/jpeg" and media["id"] and media["sha256"]
    assert values["interactive"]["messages"][0]["context"] == {"from": "919800000001", "id": first}
    assert "contacts" not in values["system"]
    assert values["unsupported"]["messages"][0]["errors"][0]["code"] == 131051
    downloaded = await sandbox.http.get(f"{sandbox.graph}/{media['id']}", headers=sandbox.auth)
    assert downloaded.status_code == 200 and downloaded.json()["mime_type"] == "image/jpeg"
