# ruff: noqa: F811  (the `shop` fixture of tests/template is imported by name and requested by name)
"""`POST /v1/messages` with `"type": "template"` against the sandbox (in-process): an approved template reaches a
customer outside the 24-hour window with its values filled, the row records the template for billing, and every
refusal is a clear 4xx that stores and sends nothing."""

from __future__ import annotations

from typing import Any

from softdukan.conversation.models import Message
from softdukan.number.models import PhoneNumber, WhatsAppAccount
from softdukan.platform.uow import unit_of_work
from softdukan.template.models import MessageTemplate
from tests.conversation.template_send_support import (
    FRESH,
    approved,
    offer,
    outbound_counts,
    sandbox_outbound,
    send,
    shipped_values,
)
from tests.support.factories import make_org
from tests.support.whatsapp import rows
from tests.template.conftest import Shop, order_shipped, shop  # noqa: F401  (fixture)


async def test_an_approved_template_reaches_a_customer_outside_the_window(shop: Shop) -> None:
    created = await approved(shop)
    response = await send(shop, {"name": "order_shipped", "language": "en", "values": shipped_values()})
    assert response.status_code == 202, response.text
    body = response.json()
    assert (body["type"], body["status"]) == ("template", "pending")
    assert body["content"]["name"] == "order_shipped" and body["content"]["language"] == {"code": "en"}
    assert (body["content"]["category"], body["content"]["template_id"]) == ("UTILITY", created["id"])
    assert body["preview"] == "Order #1042 is on its way Hi Asha, your order #1042 has shipped and arrives by " \
                              "Friday. Thank you!"

    await shop.drain()
    (sent,) = await sandbox_outbound(shop, FRESH)
    template = sent["payload"]["template"]
    assert template["name"] == "order_shipped" and template["language"]["code"] == "en"
    by_type = {c["type"]: c for c in template["components"]}
    assert by_type["header"]["parameters"] == [{"type": "text", "text": "#1042"}]
    assert [p["text"] for p in by_type["body"]["parameters"]] == ["Asha", "#1042", "Friday"]
    assert by_type["button"] == {"type": "button", "sub_type": "url", "index": 0,
                                 "parameters": [{"type": "text", "text": "1042"}]}
    (row,) = await rows(shop.runtime, Message, Message.direction == "out")
    assert row.wamid == sent["wamid"] and row.status in ("accepted", "sent", "delivered", "read")


async def test_by_id_with_a_mapping_and_fallbacks_from_the_contact(shop: Shop) -> None:
    created = await approved(shop, offer())
    contact = (await shop.client.post("/v1/contacts", json={"phone": "+919812377002", "name": "Ravi Kumar"},
                                      headers=shop.org.auth)).json()
    mapping = {"first_name": {"source": "field", "value": "first_name", "fallback": "there"},
               "discount": {"source": "attribute", "value": "festive_discount", "fallback": "15%"}}
    first = await send(shop, {"id": created["id"], "mapping": {f"body.{k}": v for k, v in mapping.items()}},
                       to=contact["phone"])
    assert first.status_code == 202, first.text
    nameless = await send(shop, {"id": created["id"], "mapping": {f"body.{k}": v for k, v in mapping.items()},
                                 "values": {"body.discount": "25%"}}, to="919812377003")
    assert nameless.status_code == 202, nameless.text
    await shop.drain()
    (to_ravi,) = await sandbox_outbound(shop, "919812377002")
    (to_new,) = await sandbox_outbound(shop, "919812377003")
    ravi = to_ravi["payload"]["template"]["components"][0]["parameters"]
    assert ravi == [{"type": "text", "text": "Ravi", "parameter_name": "first_name"},
                    {"type": "text", "text": "15%", "parameter_name": "discount"}]
    assert [p["text"] for p in to_new["payload"]["template"]["components"][0]["parameters"]] == ["there", "25%"]
    assert nameless.json()["preview"] == "Hi there, 25% off all teas this Diwali!"


async def test_metas_own_components_are_checked_against_the_template(shop: Shop) -> None:
    await approved(shop, offer())
    components = [{"type": "BODY", "parameters": [
        {"type": "text", "text": "Asha", "parameter_name": "first_name"},
        {"type": "text", "text": "30%", "parameter_name": "discount"}]}]
    ok = await send(shop, {"name": "diwali_offer", "language": {"code": "en", "policy": "deterministic"},
                           "components": components})
    assert ok.status_code == 202, ok.text
    short = await send(shop, {"name": "diwali_offer", "language": "en", "components": [
        {"type": "body", "parameters": [{"type": "text", "text": "Asha", "parameter_name": "first_name"}]}]},
        to="919812377004")
    assert short.status_code == 422
    assert short.json()["error"]["code"] == "template_variable_missing"
    assert short.json()["error"]["details"] == {"variable": "body.discount"}
    extra = await send(shop, {"name": "diwali_offer", "language": "en", "components": [
        *components, {"type": "header", "parameters": [{"type": "text", "text": "Hey"}]}]}, to="919812377004")
    assert extra.status_code == 422 and extra.json()["error"]["code"] == "template_parameters_mismatch"
    await shop.drain()
    assert len(await sandbox_outbound(shop, FRESH)) == 1
    assert await sandbox_outbound(shop, "919812377004") == []


async def refused(shop: Shop, template: dict[str, Any], status: int, code: str, **extra: Any) -> dict[str, Any]:
    before = await outbound_counts(shop)
    response = await send(shop, template, **extra)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code, error
    assert await outbound_counts(shop) == before  # nothing stored, no job
    return error  # type: ignore[no-any-return]


async def test_refusals_name_what_is_wrong_and_send_nothing(shop: Shop) -> None:
    await approved(shop)
    pending = (await shop.client.post("/v1/templates", json=order_shipped("order_delayed"),
                                      headers=shop.org.auth)).json()
    error = await refused(shop, {"name": "order_shiped", "language": "en", "values": shipped_values()}, 404,
                          "template_not_found")
    assert "order_shiped" in error["message"] and shop.number.display_phone_number in error["message"]
    await refused(shop, {"name": "order_shipped", "language": "hi", "values": shipped_values()}, 404,
                  "template_not_found")
    await refused(shop, {"id": 999_999, "values": shipped_values()}, 404, "template_not_found")
    error = await refused(shop, {"id": pending["id"], "values": shipped_values()}, 409, "template_not_approved")
    assert "pending" in error["message"] and error["details"]["status"] == "PENDING"
    values = shipped_values()
    del values["body.2"]
    error = await refused(shop, {"name": "order_shipped", "language": "en", "values": values}, 422,
                          "template_variable_missing")
    assert error["details"] == {"variable": "body.2"} and "{{2}} in the body" in error["message"]
    error = await refused(shop, {"name": "order_shipped", "language": "en",
                                 "values": {**shipped_values(), "body.4": "x"}}, 422, "unknown_template_variable")
    assert "body.4" in error["message"]
    await refused(shop, {"name": "order_shipped", "language": "en", "values": {**shipped_values(), "body.1": "  "}},
                  422, "template_variable_missing")
    await refused(shop, {"name": "order_shipped", "language": "en", "values": shipped_values(), "colour": "red"},
                  422, "invalid_message")
    await refused(shop, {"language": "en", "values": shipped_values()}, 422, "template_required")
    await refused(shop, {"name": "order_shipped", "language": "en", "values": {"body.1": 7}}, 422, "invalid_message")
    await refused(shop, "order_shipped", 422, "invalid_message")  # type: ignore[arg-type]
    await refused(shop, {"name": "order_shipped", "language": "en",
                         "values": {**shipped_values(), "body.3": "x" * 1000}}, 422, "template_text_too_long")
    await shop.drain()
    assert await sandbox_outbound(shop, FRESH) == []


async def test_paused_and_rejected_templates_are_refused_with_their_status(shop: Shop) -> None:
    created = await approved(shop)
    shop.clock.advance(seconds=5)
    await shop.meta("PAUSED", created["meta_template_id"])
    await shop.settle()
    error = await refused(shop, {"id": created["id"], "values": shipped_values()}, 409, "template_not_approved")
    assert "paused" in error["message"] and error["details"]["status"] == "PAUSED"


async def test_a_template_of_another_account_is_refused(shop: Shop) -> None:
    created = await approved(shop)
    async with unit_of_work(shop.runtime) as uow:  # a second WhatsApp account of the same organization
        other = WhatsAppAccount(organization_id=shop.org.org.id, waba_id="104996122399999", name="Second WABA",
                                access_token_sealed=shop.account.access_token_sealed,
                                app_secret_sealed=shop.account.app_secret_sealed,
                                verify_token_sealed=shop.account.verify_token_sealed,
                                verify_token_hash="second-account")
        uow.session.add(other)
        await uow.flush()
        number = PhoneNumber(organization_id=shop.org.org.id, account_id=other.id, phone_number_id="106540352299999",
                             display_phone_number="15550799999", wa_number="15550799999", verified_name="Second",
                             status="CONNECTED")
        uow.session.add(number)
        await uow.flush()
        number_id = number.id
    for template in ({"id": created["id"]}, {"name": "order_shipped", "language": "en"}):
        error = await refused(shop, {**template, "values": shipped_values()}, 422, "template_wrong_account",
                              phone_number_id=number_id)
        assert "another WhatsApp Business account" in error["message"]


async def test_marketing_is_refused_to_opted_out_and_blocked_contacts_utility_only_to_blocked(shop: Shop) -> None:
    await approved(shop)
    await approved(shop, offer())
    contact = (await shop.client.post("/v1/contacts", json={"phone": "+919812377005"}, headers=shop.org.auth)).json()
    assert (await shop.client.post(f"/v1/contacts/{contact['id']}/opt-out", headers=shop.org.auth)).status_code == 200
    marketing = {"name": "diwali_offer", "language": "en", "values": {"body.first_name": "Asha",
                                                                      "body.discount": "20%"}}
    error = await refused(shop, marketing, 409, "contact_opted_out", to="919812377005")
    assert "marketing" in error["message"] and error["details"] == {"category": "MARKETING"}
    utility = await send(shop, {"name": "order_shipped", "language": "en", "values": shipped_values()},
                         to="919812377005")
    assert utility.status_code == 202, utility.text  # an opt-out is from marketing: order updates still go
    await shop.drain()  # sent before the block (a block stops queued messages too: test_..._consent_at_send_time)

    assert (await shop.client.post(f"/v1/contacts/{contact['id']}/block", headers=shop.org.auth)).status_code == 200
    await refused(shop, {"name": "order_shipped", "language": "en", "values": shipped_values()}, 409,
                  "contact_blocked", to="919812377005")
    await shop.drain()
    assert [m["payload"]["template"]["name"] for m in await sandbox_outbound(shop, "919812377005")] == [
        "order_shipped"]


async def test_a_recategorized_template_is_recorded_with_its_new_category(shop: Shop) -> None:
    created = await approved(shop)
    async with unit_of_work(shop.runtime) as uow:  # Meta moved it to MARKETING (webhook tested in tests/template)
        template = await uow.session.get(MessageTemplate, created["id"])
        assert template is not None
        template.category, template.previous_category = "MARKETING", "UTILITY"
    response = await send(shop, {"id": created["id"], "values": shipped_values()})
    assert response.status_code == 202 and response.json()["content"]["category"] == "MARKETING"


async def test_other_organizations_templates_are_not_found(shop: Shop) -> None:
    created = await approved(shop)
    other = await make_org(shop.runtime, "Other Dukan")
    from tests.support.whatsapp import make_whatsapp

    theirs = await make_whatsapp(shop.runtime, other)
    response = await shop.client.post("/v1/messages", headers=other.auth, json={
        "phone_number_id": theirs.phone.id, "to": FRESH, "type": "template",
        "template": {"id": created["id"], "values": shipped_values()}})
    assert response.status_code == 404 and response.json()["error"]["code"] == "template_not_found"


LOGIN_CODE = {"name": "login_code", "language": "en", "category": "AUTHENTICATION", "parameter_format": "POSITIONAL",
              "components": [{"type": "BODY", "add_security_recommendation": True},
                             {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE",
                                                              "text": "Copy code"}]}]}


async def test_an_authentication_template_needs_its_code_in_metas_components(shop: Shop) -> None:
    await approved(shop, LOGIN_CODE)
    error = await refused(shop, {"name": "login_code", "language": "en"}, 422, "authentication_template_unsupported")
    assert "components" in error["message"]
    no_button = [{"type": "body", "parameters": [{"type": "text", "text": "482913"}]}]
    error = await refused(shop, {"name": "login_code", "language": "en", "components": no_button}, 422,
                          "template_variable_missing")
    assert error["details"] == {"variable": "button.0"}
    response = await send(shop, {"name": "login_code", "language": "en", "components": [
        *no_button, {"type": "button", "sub_type": "url", "index": "0",
                     "parameters": [{"type": "text", "text": "482913"}]}]})
    assert response.status_code == 202, response.text
    assert response.json()["content"]["category"] == "AUTHENTICATION"
    assert response.json()["content"]["components"][1] == {
        "type": "button", "sub_type": "url", "index": 0, "parameters": [{"type": "text", "text": "482913"}]}


async def test_an_opted_out_contact_still_gets_replies_inside_the_window(shop: Shop) -> None:
    await approved(shop, offer())
    written = await shop.client.post(f"/sandbox/graph/_sandbox/customers/{FRESH}/messages", json={
        "phone_number_id": shop.number.phone_number_id, "message": {"type": "text", "text": {"body": "Hi"}}})
    assert written.status_code == 200, written.text
    await shop.settle()
    contact = (await shop.client.get("/v1/contacts", params={"q": FRESH}, headers=shop.org.auth)).json()["data"][0]
    assert (await shop.client.post(f"/v1/contacts/{contact['id']}/opt-out", headers=shop.org.auth)).status_code == 200
    reply = await shop.client.post("/v1/messages", headers=shop.org.auth, json={
        "phone_number_id": shop.number.id, "to": FRESH, "type": "text",
        "text": {"body": "You won't get offers from us any more."}})
    assert reply.status_code == 202, reply.text  # the opt-out's confirmation is a service reply, not marketing
    await refused(shop, {"name": "diwali_offer", "language": "en", "values": {
        "body.first_name": "Asha", "body.discount": "20%"}}, 409, "contact_opted_out")
    await shop.drain()
    assert [m["payload"].get("text", {}).get("body") for m in await sandbox_outbound(shop, FRESH)] == [
        "You won't get offers from us any more."]
