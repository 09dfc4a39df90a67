"""/v1/templates against the sandbox: submit, review by webhook, list, get, delete, sync; bad input changes nothing."""

from __future__ import annotations

from softdukan.template.models import MessageTemplate
from tests.support.factories import make_org
from tests.support.whatsapp import rows
from tests.template.conftest import Shop, order_shipped, review_rules


async def submit(shop: Shop, definition: dict) -> dict:  # type: ignore[type-arg]
    response = await shop.client.post("/v1/templates", json=definition, headers=shop.org.auth)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_submit_then_approved_by_webhook(shop: Shop, published) -> None:  # type: ignore[no-untyped-def]
    created = await submit(shop, order_shipped())
    assert created["status"] == "PENDING" and created["meta_template_id"]
    assert created["variables"] == ["header.1", "body.1", "body.2", "body.3", "button.0"]
    listed = (await shop.graph("GET", f"{shop.account.waba_id}/message_templates")).json()["data"]
    assert [(t["name"], t["status"]) for t in listed] == [("order_shipped", "PENDING")]

    await shop.settle(seconds=61)  # the sandbox's review delay, then its webhook is routed
    template = await shop.template(created["id"])
    assert (template.status, template.rejected_reason, template.status_event_at is not None) == ("APPROVED", None,
                                                                                                 True)
    got = await shop.client.get(f"/v1/templates/{created['id']}", headers=shop.org.auth)
    assert got.json()["status"] == "APPROVED"
    live = [e for e in published if e["type"] == "template.updated"]
    assert [e["data"]["status"] for e in live][-1] == "APPROVED"
    assert "order_shipped (en) is approved" in live[-1]["summary"]


async def test_rejection_reason_and_detail_arrive(shop: Shop) -> None:
    await review_rules(shop.runtime, [{"action": "reject", "reason": "PROMOTIONAL"}])
    created = await submit(shop, order_shipped())
    await shop.settle(seconds=61)
    template = await shop.template(created["id"])
    assert (template.status, template.rejected_reason) == ("REJECTED", "PROMOTIONAL")
    assert "rejected" in (template.status_detail or "")


async def test_recategorized_then_paused_then_quality(shop: Shop) -> None:
    await review_rules(shop.runtime, [{"action": "recategorize", "category": "MARKETING"}])
    created = await submit(shop, order_shipped())
    await shop.settle(seconds=61)
    template = await shop.template(created["id"])
    assert (template.status, template.category, template.previous_category) == ("APPROVED", "MARKETING", "UTILITY")

    shop.clock.advance(seconds=5)
    await shop.meta("PAUSED", created["meta_template_id"])
    await shop.settle()
    template = await shop.template(created["id"])
    assert template.status == "PAUSED" and "paused" in (template.status_detail or "")

    from tests.support.whatsapp import envelope, post_webhook

    change = {"field": "message_template_quality_update", "value": {
        "previous_quality_score": "GREEN", "new_quality_score": "YELLOW",
        "message_template_id": int(created["meta_template_id"]), "message_template_name": "order_shipped",
        "message_template_language": "en"}}
    # signed with the account's app secret, exactly as Meta (the sandbox) signs it
    from softdukan.platform.uow import unit_of_work

    async with unit_of_work(shop.runtime) as uow:
        secret = uow.runtime.secrets.open(shop.account.app_secret_sealed)
    response = await post_webhook(shop.client, envelope(shop.account.waba_id, [change], time=2_000_000_000),
                                  secret=secret)
    assert response.status_code == 200
    await shop.settle()
    assert (await shop.template(created["id"])).quality == "YELLOW"


async def test_a_late_older_status_never_overwrites_a_newer_one(shop: Shop) -> None:
    from softdukan.platform.uow import unit_of_work
    from tests.support.whatsapp import envelope, post_webhook

    created = await submit(shop, order_shipped())
    async with unit_of_work(shop.runtime) as uow:
        secret = uow.runtime.secrets.open(shop.account.app_secret_sealed)

    def status(event: str) -> dict:  # type: ignore[type-arg]
        return {"field": "message_template_status_update", "value": {
            "event": event, "message_template_id": int(created["meta_template_id"]),
            "message_template_name": "order_shipped", "message_template_language": "en", "reason": "NONE"}}

    for event, time in (("PAUSED", 1_900_000_100), ("APPROVED", 1_900_000_000)):  # the older one arrives last
        assert (await post_webhook(shop.client, envelope(shop.account.waba_id, [status(event)], time=time),
                                   secret=secret)).status_code == 200
        await shop.drain()
    assert (await shop.template(created["id"])).status == "PAUSED"


async def test_broken_rules_are_all_named_and_nothing_is_stored(shop: Shop) -> None:
    bad = order_shipped(name="Order Shipped!")
    bad["components"][1]["text"] = "{{1}} your order {{3}} shipped"
    bad["components"][2]["text"] = "Reply {{1}} to stop"
    response = await shop.client.post("/v1/templates", json=bad, headers=shop.org.auth)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "template_invalid"
    assert set(error["details"]) >= {"name", "body.text", "footer.text"}
    assert "numbered {{1}}, {{2}}" in error["details"]["body.text"]
    assert "start or end" in error["details"]["body.text"]
    assert await rows(shop.runtime, MessageTemplate) == []
    assert (await shop.graph("GET", f"{shop.account.waba_id}/message_templates")).json()["data"] == []


async def test_duplicate_name_and_language_is_409_and_meta_refusal_leaves_nothing(shop: Shop) -> None:
    await submit(shop, order_shipped())
    again = await shop.client.post("/v1/templates", json=order_shipped(), headers=shop.org.auth)
    assert again.status_code == 409 and again.json()["error"]["code"] == "template_exists"
    # created at Meta (in WhatsApp Manager) but unknown here: Meta refuses, we keep nothing half-written
    direct = order_shipped(name="made_elsewhere")
    assert (await shop.graph("POST", f"{shop.account.waba_id}/message_templates", json=direct)).status_code == 200
    refused = await shop.client.post("/v1/templates", json=direct, headers=shop.org.auth)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["details"]["meta_subcode"] == 2388024
    assert [t.name for t in await rows(shop.runtime, MessageTemplate)] == ["order_shipped"]


async def test_list_filters_and_pages(shop: Shop) -> None:
    for n in range(3):
        await submit(shop, order_shipped(name=f"order_shipped_{n}"))
    page = (await shop.client.get("/v1/templates", params={"limit": 2}, headers=shop.org.auth)).json()
    assert [t["name"] for t in page["data"]] == ["order_shipped_2", "order_shipped_1"]
    rest = (await shop.client.get("/v1/templates", params={"limit": 2, "cursor": page["next_cursor"]},
                                  headers=shop.org.auth)).json()
    assert [t["name"] for t in rest["data"]] == ["order_shipped_0"] and rest["next_cursor"] is None
    named = (await shop.client.get("/v1/templates", params={"name": "_1"}, headers=shop.org.auth)).json()
    assert [t["name"] for t in named["data"]] == ["order_shipped_1"]
    bad = await shop.client.get("/v1/templates", params={"status": "SHINY"}, headers=shop.org.auth)
    assert bad.status_code == 422


async def test_delete_removes_it_at_meta(shop: Shop) -> None:
    created = await submit(shop, order_shipped())
    response = await shop.client.delete(f"/v1/templates/{created['id']}", headers=shop.org.auth)
    assert response.status_code == 200 and response.json()["status"] == "DELETED"
    assert (await shop.graph("GET", f"{shop.account.waba_id}/message_templates")).json()["data"] == []
    # the same name can be submitted again
    again = await submit(shop, order_shipped())
    assert again["id"] == created["id"] and again["status"] == "PENDING"


async def test_sync_pulls_the_accounts_templates_and_marks_deleted_ones(shop: Shop) -> None:
    ours = await submit(shop, order_shipped())
    for n in range(3):  # made in WhatsApp Manager, not here
        body = order_shipped(name=f"manager_made_{n}")
        assert (await shop.graph("POST", f"{shop.account.waba_id}/message_templates", json=body)).status_code == 200
    await shop.settle(seconds=61)
    response = await shop.client.post("/v1/templates/sync", json={}, headers=shop.org.auth)
    assert response.status_code == 200, response.text
    assert response.json() == {"created": 3, "updated": 1, "removed": 0}
    templates = {t.name: t for t in await rows(shop.runtime, MessageTemplate)}
    assert set(templates) == {"order_shipped", "manager_made_0", "manager_made_1", "manager_made_2"}
    assert all(t.status == "APPROVED" and t.meta_template_id for t in templates.values())
    assert templates["manager_made_1"].components[1]["text"].startswith("Hi {{1}}")

    deleted = await shop.graph("DELETE", f"{shop.account.waba_id}/message_templates",
                               params={"name": "manager_made_1"})
    assert deleted.status_code == 200
    response = await shop.client.post("/v1/templates/sync", json={}, headers=shop.org.auth)
    assert response.json() == {"created": 0, "updated": 3, "removed": 1}
    assert (await shop.template(templates["manager_made_1"].id)).status == "DELETED"
    assert (await shop.template(ours["id"])).status == "APPROVED"


async def test_another_organization_sees_nothing(shop: Shop) -> None:
    created = await submit(shop, order_shipped())
    other = await make_org(shop.runtime, "Other Shop")
    assert (await shop.client.get(f"/v1/templates/{created['id']}", headers=other.auth)).status_code == 404
    assert (await shop.client.delete(f"/v1/templates/{created['id']}", headers=other.auth)).status_code == 404
    assert (await shop.client.get("/v1/templates", headers=other.auth)).json()["data"] == []
    listed = await shop.client.get("/v1/templates", params={"account_id": shop.account.id}, headers=other.auth)
    assert listed.status_code == 404
    response = await shop.client.post("/v1/templates", json={**order_shipped(), "account_id": shop.account.id},
                                      headers=other.auth)
    assert response.status_code == 404
    no_number = await shop.client.post("/v1/templates", json=order_shipped(), headers=other.auth)
    assert no_number.status_code == 422 and no_number.json()["error"]["code"] == "no_whatsapp_account"


async def test_read_only_keys_cannot_write(shop: Shop) -> None:
    reader = await make_org(shop.runtime, "Reader", scopes=["templates:read"])
    response = await shop.client.post("/v1/templates", json=order_shipped(), headers=reader.auth)
    assert response.status_code == 403
