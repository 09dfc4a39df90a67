"""Dashboard pages of contacts: list and search, create with errors kept, the contact's timeline, consent buttons,
attribute settings."""

from __future__ import annotations

from softdukan.contact.service import contact_service
from softdukan.conversation.outbound import record_outbound
from softdukan.number.provision import provision_sandbox_number
from softdukan.platform.uow import unit_of_work
from tests.support.factories import browser_sign_in, form_post, make_org


async def test_create_search_and_timeline(client, runtime) -> None:
    org = await make_org(runtime)
    await browser_sign_in(client, org.owner.email)
    bad = await form_post(client, "/contacts", {"phone": "12", "name": "Asha", "tags": "VIP"})
    assert bad.status_code == 422
    assert "Too short" in bad.text and 'value="Asha"' in bad.text
    created = await form_post(client, "/contacts", {"phone": "9812345678", "name": "Asha Rao", "tags": "VIP, Pune"})
    assert created.status_code == 303
    url = created.headers["location"].split("?")[0]
    contact_id = int(url.rsplit("/", 1)[1])
    duplicate = await form_post(client, "/contacts", {"phone": "+919812345678"})
    assert duplicate.status_code == 409 and "Asha Rao" in duplicate.text

    listing = await client.get("/contacts", params={"q": "asha"})
    assert f'data-contact-id="{contact_id}"' in listing.text
    assert 'id="no-contacts"' in (await client.get("/contacts", params={"tag": "nobody"})).text
    tagged = await client.get("/contacts", params={"tag": "VIP"})
    assert f'data-contact-id="{contact_id}"' in tagged.text and 'href="/segments/new?tag=VIP"' in tagged.text
    assert "segment-from-search" not in listing.text  # only a tag search has a segment to offer
    prefilled = await client.get("/segments/new", params={"tag": "VIP"})
    assert prefilled.status_code == 200 and "VIP" in prefilled.text
    unknown = await client.get("/contacts", params={"attribute_key": "nope", "attribute_value": "1"})
    assert unknown.status_code == 200 and "No contact attribute" in unknown.text

    async with unit_of_work(runtime) as uow:
        _, number = await provision_sandbox_number(uow, org.org.id, business_name="Pages Ltd")
        contact = await contact_service.ensure(uow, org.org.id, "919812345678")
        await record_outbound(uow, number, contact, type="text", content={"body": "Your order shipped"},
                              preview="Your order shipped")
    assert (await form_post(client, f"{url}/notes", {"text": "Called, prefers Hindi"}, page=url)).status_code == 303
    assert (await form_post(client, f"{url}/opt-out", {}, page=url)).status_code == 303
    assert (await form_post(client, f"{url}/block", {}, page=url)).status_code == 303
    page = await client.get(url)
    assert 'id="badge-blocked"' in page.text and 'id="badge-opted-out"' in page.text
    kinds = [part.split('"')[0] for part in page.text.split('data-kind="')[1:]]
    assert kinds[:2] == ["event", "event"] and "note" in kinds and "message" in kinds
    assert "Your order shipped" in page.text and "Called, prefers Hindi" in page.text

    edited = await form_post(client, url, {"phone": "+919812345678", "name": "Asha R", "tags": "Pune"}, page=url)
    assert edited.status_code == 303
    assert (await form_post(client, f"{url}/delete", {}, page=url)).status_code == 303
    assert (await client.get(url)).status_code == 404


async def test_attribute_settings_and_typed_edit(client, runtime) -> None:
    org = await make_org(runtime)
    await browser_sign_in(client, org.owner.email)
    page = "/settings/contact-attributes"
    bad = await form_post(client, page, {"label": "Plan", "key": "plan", "type": "choice", "options": ""})
    assert bad.status_code == 422 and "at least one option" in bad.text
    ok = await form_post(client, page, {"label": "Plan", "key": "plan", "type": "choice", "options": "Gold, Silver"})
    assert ok.status_code == 303
    created = await form_post(client, "/contacts", {"phone": "+919812345678"})
    url = created.headers["location"].split("?")[0]
    refused = await form_post(client, url, {"phone": "+919812345678", "attr_plan": "Bronze"}, page=url)
    assert refused.status_code == 422 and "Gold, Silver" in refused.text
    saved = await form_post(client, url, {"phone": "+919812345678", "attr_plan": "silver"}, page=url)
    assert saved.status_code == 303
    contact = (await client.get(f"/v1/contacts/{url.rsplit('/', 1)[1]}", headers=org.auth)).json()
    assert contact["attributes"] == {"plan": "Silver"}


async def test_agent_reads_but_cannot_import(client, runtime) -> None:
    reader = await make_org(runtime, scopes=["contacts:read"])
    assert (await client.get("/v1/contacts", headers=reader.auth)).status_code == 200
    assert (await client.get("/v1/contacts/export", headers=reader.auth)).status_code == 403
    assert (await client.post("/v1/contact-attributes", json={"key": "a", "label": "A", "type": "text"},
                              headers=reader.auth)).status_code == 403
