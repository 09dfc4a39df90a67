"""Templates pages in-process: list, new with the live preview and rule checks, submit, review, delete, sync."""

from __future__ import annotations

from typing import Any

from softdukan.template.models import MessageTemplate
from tests.dashboard import add_member
from tests.support.factories import browser_sign_in, csrf_from
from tests.support.whatsapp import rows
from tests.template.conftest import Shop, order_shipped

FORM = {"name": "diwali_offer", "language": "en", "category": "MARKETING", "parameter_format": "POSITIONAL",
        "header_format": "TEXT", "header_text": "Diwali sale at {{1}}", "header_example": "Chai Point",
        "body": "Hi {{1}}, enjoy *{{2}} off* on every order this week. See you soon!",
        "body_examples": "Asha\n25%", "footer": "Reply STOP to opt out",
        "button_type": ["QUICK_REPLY", "URL"], "button_text": ["Stop promotions", "Shop now"],
        "button_value": ["", "https://chai.example/shop/{{1}}"],
        "button_example": ["", "https://chai.example/shop/diwali"]}


async def post_form(shop: Shop, path: str, data: dict[str, Any], page: str = "/templates/new") -> Any:
    token = csrf_from((await shop.client.get(page)).text)
    return await shop.client.post(path, data={**data, "csrf_token": token})


async def test_list_page_and_navigation(shop: Shop) -> None:
    await browser_sign_in(shop.client, shop.org.owner.email)
    home = await shop.client.get("/")
    assert 'href="/templates"' in home.text
    page = await shop.client.get("/templates")
    assert page.status_code == 200 and "No template yet" in page.text and 'id="sync-form"' in page.text


async def test_live_preview_fills_examples_and_lists_broken_rules(shop: Shop) -> None:
    await browser_sign_in(shop.client, shop.org.owner.email)
    response = await post_form(shop, "/templates/preview", FORM)
    assert response.status_code == 200
    bubble = response.text
    assert "Diwali sale at Chai Point" in bubble
    assert "Hi Asha, enjoy <strong>25% off</strong> on every order" in bubble
    assert "Reply STOP to opt out" in bubble and "Stop promotions" in bubble and "Shop now" in bubble
    assert 'id="live-problems"' not in bubble
    broken = await post_form(shop, "/templates/preview", {**FORM, "body": "{{1}} <b>x</b> {{2}}", "footer": ""})
    assert 'id="live-problems"' in broken.text and "start or end with a variable" in broken.text
    assert "<b>x</b>" not in broken.text  # what is typed is escaped


async def test_submit_from_the_form_then_approved_live(shop: Shop, published) -> None:  # type: ignore[no-untyped-def]
    await browser_sign_in(shop.client, shop.org.owner.email)
    response = await post_form(shop, "/templates/new", FORM)
    assert response.status_code == 303, response.text
    [template] = await rows(shop.runtime, MessageTemplate)
    assert response.headers["location"] == f"/templates/{template.id}?flash=submitted"
    assert template.status == "PENDING" and template.components[3]["buttons"][1]["example"] == [
        "https://chai.example/shop/diwali"]
    page = await shop.client.get(response.headers["location"])
    assert "submitted to WhatsApp" in page.text and "PENDING" in page.text and "button.1" in page.text

    await shop.settle(seconds=61)
    row = await shop.client.get(f"/templates/{template.id}/row")
    assert "APPROVED" in row.text
    status = await shop.client.get(f"/templates/{template.id}/status")
    assert "APPROVED" in status.text and (await shop.template(template.id)).meta_template_id in status.text
    assert any(e["type"] == "template.updated" and e["data"]["status"] == "APPROVED" for e in published)


async def test_broken_rules_are_shown_by_the_fields_and_values_kept(shop: Shop) -> None:
    await browser_sign_in(shop.client, shop.org.owner.email)
    response = await post_form(shop, "/templates/new", {**FORM, "name": "Diwali Offer", "footer": "x" * 61,
                                                          "body_examples": "Asha"})
    assert response.status_code == 422
    for message in ("lower case letters, digits and underscores", "at most 60 characters",
                    "missing: {{2}}"):
        assert message in response.text, message
    assert 'value="Diwali Offer"' in response.text and "Stop promotions" in response.text
    assert await rows(shop.runtime, MessageTemplate) == []


async def test_delete_and_sync_from_the_pages(shop: Shop) -> None:
    await browser_sign_in(shop.client, shop.org.owner.email)
    created = await shop.client.post("/v1/templates", json=order_shipped(), headers=shop.org.auth)
    template_id = created.json()["id"]
    other = order_shipped(name="made_in_manager")
    assert (await shop.graph("POST", f"{shop.account.waba_id}/message_templates", json=other)).status_code == 200

    synced = await post_form(shop, "/templates/sync", {}, page="/templates")
    assert synced.status_code == 303 and synced.headers["location"] == "/templates?synced=1-1-0"
    page = await shop.client.get(synced.headers["location"])
    assert "1 new, 1 updated" in page.text and "made_in_manager" in page.text

    deleted = await post_form(shop, f"/templates/{template_id}/delete", {}, page=f"/templates/{template_id}")
    assert deleted.status_code == 303
    assert (await shop.template(template_id)).status == "DELETED"


async def test_a_reader_sees_templates_but_cannot_create(shop: Shop) -> None:
    user, _ = await add_member(shop.runtime, shop.org, "agent")
    await browser_sign_in(shop.client, user.email)
    page = await shop.client.get("/templates")
    assert page.status_code == 200 and 'id="new-template"' not in page.text
    assert (await shop.client.get("/templates/new")).status_code == 403
    token = csrf_from(page.text)
    refused = await shop.client.post("/templates/new", data={**FORM, "csrf_token": token})
    assert refused.status_code == 403
    assert await rows(shop.runtime, MessageTemplate) == []
