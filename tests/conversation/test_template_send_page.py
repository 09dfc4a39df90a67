# ruff: noqa: F811  (the `shop` fixture of tests/template is imported by name and requested by name)
"""The conversation page's "Send a template" once the 24-hour window is closed (in-process, the sandbox as Meta):
pick an approved template of the number's account, its inputs prefilled from the contact, a live preview, send
with CSRF over htmx; refusals shown in the panel, nothing sent."""

from __future__ import annotations

import re

from softdukan.contact.models import Contact
from softdukan.conversation.models import Conversation, Message
from tests.conversation.template_send_page_support import closed_conversation_of
from tests.conversation.template_send_support import approved, offer, outbound_counts, sandbox_outbound
from tests.support.factories import browser_sign_in, csrf_from
from tests.support.whatsapp import rows
from tests.template.conftest import Shop, order_shipped, shop  # noqa: F401  (fixture)

CUSTOMER = "919812377010"
HTMX = {"HX-Request": "true"}


async def closed_conversation(shop: Shop) -> Conversation:
    return await closed_conversation_of(shop, CUSTOMER)


async def test_closed_window_offers_approved_templates_prefilled_previewed_and_sent(shop: Shop) -> None:
    created = await approved(shop)
    marketing = await approved(shop, offer())
    await shop.client.post("/v1/templates", json=order_shipped("still_in_review"), headers=shop.org.auth)
    conversation = await closed_conversation(shop)
    await browser_sign_in(shop.client, shop.org.owner.email)

    page = await shop.client.get(f"/conversations/{conversation.id}")
    assert page.status_code == 200
    assert re.search(r'<details id="template-panel" class="mt-3" open>', page.text)
    options = re.findall(r'<option value="(\d+)"', page.text)
    assert sorted(int(o) for o in options) == sorted([created["id"], marketing["id"]])  # not the pending one

    form = await shop.client.get(f"/conversations/{conversation.id}/template-form",
                                 params={"template_id": created["id"]}, headers=HTMX)
    assert form.status_code == 200
    (contact,) = await rows(shop.runtime, Contact, Contact.wa_id == CUSTOMER)
    assert contact.profile_name
    inputs = dict(re.findall(r'name="var:([^"]+)" value="([^"]*)"', form.text))
    assert inputs == {"header.1": "", "body.1": contact.profile_name, "body.2": "", "body.3": "", "button.0": ""}
    assert "Hi " + contact.profile_name in form.text  # the preview, filled so far

    token = csrf_from(form.text)
    values = {"var:header.1": "#77", "var:body.1": "Meera", "var:body.2": "#77", "var:body.3": "Monday",
              "var:button.0": "77"}
    preview = await shop.client.post(f"/conversations/{conversation.id}/template-preview", headers=HTMX, data={
        "csrf_token": token, "template_id": str(created["id"]), **values})
    assert preview.status_code == 200
    assert "Hi Meera, your order #77 has shipped and arrives by Monday." in preview.text
    assert "Order #77 is on its way" in preview.text

    sent = await shop.client.post(f"/conversations/{conversation.id}/template", headers=HTMX, data={
        "csrf_token": token, "template_id": str(created["id"]), **values})
    assert sent.status_code == 200, sent.text
    assert 'data-template="order_shipped"' in sent.text and "Hi Meera" in sent.text
    (row,) = await rows(shop.runtime, Message, Message.direction == "out")
    assert row.type == "template" and row.content["category"] == "UTILITY" and row.sender_membership_id
    await shop.drain()
    (delivered,) = await sandbox_outbound(shop, CUSTOMER)
    body = next(c for c in delivered["payload"]["template"]["components"] if c["type"] == "body")
    assert [p["text"] for p in body["parameters"]] == ["Meera", "#77", "Monday"]
    thread = await shop.client.get(f"/conversations/{conversation.id}")
    assert "Hi Meera, your order #77" in thread.text


async def test_refusals_show_in_the_panel_and_send_nothing(shop: Shop) -> None:
    created = await approved(shop)
    conversation = await closed_conversation(shop)
    await browser_sign_in(shop.client, shop.org.owner.email)
    page = await shop.client.get(f"/conversations/{conversation.id}")
    token = csrf_from(page.text)
    path = f"/conversations/{conversation.id}/template"

    missing = await shop.client.post(path, headers=HTMX, data={
        "csrf_token": token, "template_id": str(created["id"]), "var:header.1": "#77", "var:body.1": "Meera",
        "var:body.3": "Monday", "var:button.0": "77"})
    assert missing.status_code == 422
    assert missing.headers["HX-Retarget"] == "#template-panel"
    assert 'data-error-code="template_variable_missing"' in missing.text and "{{2}} in the body" in missing.text
    assert 'value="Meera"' in missing.text  # what was typed stays

    none = await shop.client.post(path, headers=HTMX, data={"csrf_token": token, "template_id": ""})
    assert none.status_code == 422 and 'data-error-code="template_required"' in none.text
    forged = await shop.client.post(path, headers=HTMX, data={"template_id": str(created["id"]),
                                                              "var:body.1": "x"})
    assert forged.status_code == 403
    plain = await shop.client.post(path, data={"csrf_token": token, "template_id": "999999"})
    assert plain.status_code == 404 and 'id="template-panel"' in plain.text
    assert await outbound_counts(shop) == (0, 0)
    await shop.drain()
    assert await sandbox_outbound(shop, CUSTOMER) == []


async def test_without_approved_templates_the_panel_says_how_to_get_one(shop: Shop) -> None:
    conversation = await closed_conversation(shop)
    await browser_sign_in(shop.client, shop.org.owner.email)
    page = await shop.client.get(f"/conversations/{conversation.id}")
    assert 'id="no-templates"' in page.text and 'href="/templates/new"' in page.text
    assert 'data-window="closed"' in page.text
