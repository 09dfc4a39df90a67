"""/v1/contacts and /v1/contact-attributes: numbers, duplicates, typed attributes, tags, search, consent, notes."""

from __future__ import annotations

import httpx

from tests.support.factories import OrgFixture, make_org


async def _attrs(client: httpx.AsyncClient, org: OrgFixture) -> None:
    for body in ({"key": "city", "label": "City", "type": "text"},
                 {"key": "orders", "label": "Orders", "type": "number"},
                 {"key": "birthday", "label": "Birthday", "type": "date"},
                 {"key": "vip", "label": "VIP", "type": "boolean"},
                 {"key": "plan", "label": "Plan", "type": "choice", "options": ["Gold", "Silver"]}):
        response = await client.post("/v1/contact-attributes", json=body, headers=org.auth)
        assert response.status_code == 201, response.text


async def test_create_normalises_the_number_in_the_organizations_country(client, runtime) -> None:
    org = await make_org(runtime)
    response = await client.post("/v1/contacts", json={"phone": "098123 45678", "name": "  Asha   Rao "},
                                 headers=org.auth)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["phone"] == body["wa_id"] == "919812345678"
    assert body["name"] == "Asha Rao"
    assert body["source"] == "api"
    fetched = await client.get(f"/v1/contacts/{body['id']}", headers=org.auth)
    assert fetched.json()["display_name"] == "Asha Rao"


async def test_invalid_number_is_refused_with_the_reason_and_field(client, runtime) -> None:
    org = await make_org(runtime)
    for phone, reason in (("12345", "short"), ("not a phone", "not a phone number"), ("+999 1234567", "country")):
        response = await client.post("/v1/contacts", json={"phone": phone}, headers=org.auth)
        assert response.status_code == 422, (phone, response.text)
        error = response.json()["error"]
        assert error["code"] == "invalid_phone_number"
        assert reason in error["details"]["phone"].lower(), (phone, error)
    listed = await client.get("/v1/contacts", headers=org.auth)
    assert listed.json()["data"] == []


async def test_duplicate_number_is_a_409_naming_the_existing_contact(client, runtime) -> None:
    org = await make_org(runtime)
    first = (await client.post("/v1/contacts", json={"phone": "+91 98123 45678", "name": "Asha"},
                               headers=org.auth)).json()
    again = await client.post("/v1/contacts", json={"phone": "9812345678"}, headers=org.auth)
    assert again.status_code == 409
    error = again.json()["error"]
    assert error["code"] == "contact_exists"
    assert error["details"]["contact_id"] == first["id"]
    assert "Asha" in error["message"]
    other = (await client.post("/v1/contacts", json={"phone": "+919812345679"}, headers=org.auth)).json()
    moved = await client.patch(f"/v1/contacts/{other['id']}", json={"phone": "+919812345678"}, headers=org.auth)
    assert moved.status_code == 409


async def test_typed_attributes_are_validated_and_stored_normalised(client, runtime) -> None:
    org = await make_org(runtime)
    await _attrs(client, org)
    response = await client.post("/v1/contacts", json={
        "phone": "+919812345678", "attributes": {"city": "Pune", "orders": "1,200", "birthday": "05/03/1990",
                                                 "vip": "yes", "plan": "gold"}}, headers=org.auth)
    assert response.status_code == 201, response.text
    assert response.json()["attributes"] == {"city": "Pune", "orders": 1200, "birthday": "1990-03-05",
                                             "vip": True, "plan": "Gold"}
    bad = await client.post("/v1/contacts", json={
        "phone": "+919812345679", "attributes": {"orders": "many", "birthday": "31/02/2020", "plan": "Bronze",
                                                 "nope": "x"}}, headers=org.auth)
    assert bad.status_code == 422
    details = bad.json()["error"]["details"]
    assert set(details) == {"attributes.orders", "attributes.birthday", "attributes.plan", "attributes.nope"}
    assert "Gold, Silver" in details["attributes.plan"]
    contact_id = response.json()["id"]
    patched = await client.patch(f"/v1/contacts/{contact_id}", json={"attributes": {"city": None, "orders": 3}},
                                 headers=org.auth)
    assert patched.json()["attributes"] == {"orders": 3, "birthday": "1990-03-05", "vip": True, "plan": "Gold"}


async def test_attribute_definitions_rules(client, runtime) -> None:
    org = await make_org(runtime)
    for body, field in (({"key": "Bad Key", "label": "x", "type": "text"}, "key"),
                        ({"key": "phone", "label": "x", "type": "text"}, "key"),
                        ({"key": "tier", "label": "Tier", "type": "choice", "options": []}, "options"),
                        ({"key": "city", "label": " ", "type": "text"}, "label")):
        response = await client.post("/v1/contact-attributes", json=body, headers=org.auth)
        assert response.status_code == 422, response.text
        assert field in response.json()["error"]["details"]
    await _attrs(client, org)
    taken = await client.post("/v1/contact-attributes", json={"key": "city", "label": "Town", "type": "text"},
                              headers=org.auth)
    assert taken.status_code == 409
    listed = (await client.get("/v1/contact-attributes", headers=org.auth)).json()
    plan = next(a for a in listed if a["key"] == "plan")
    patched = await client.patch(f"/v1/contact-attributes/{plan['id']}", json={"options": ["Gold", "Platinum"]},
                                 headers=org.auth)
    assert patched.json()["options"] == ["Gold", "Platinum"]


async def test_deleting_an_attribute_removes_its_values(client, runtime) -> None:
    org = await make_org(runtime)
    await _attrs(client, org)
    contact = (await client.post("/v1/contacts", json={"phone": "+919812345678",
                                                       "attributes": {"city": "Pune", "vip": True}},
                                 headers=org.auth)).json()
    city = next(a for a in (await client.get("/v1/contact-attributes", headers=org.auth)).json()
                if a["key"] == "city")
    assert (await client.delete(f"/v1/contact-attributes/{city['id']}", headers=org.auth)).status_code == 204
    after = (await client.get(f"/v1/contacts/{contact['id']}", headers=org.auth)).json()
    assert after["attributes"] == {"vip": True}


async def test_search_by_name_number_tag_and_attribute(client, runtime) -> None:
    org = await make_org(runtime)
    await _attrs(client, org)
    people = [("+919812345678", "Asha Rao", ["VIP", "Pune"], {"orders": 5, "vip": True, "city": "Pune"}),
              ("+919812345679", "Ravi Kumar", ["pune"], {"orders": 2, "vip": False, "city": "Mumbai"}),
              ("+14155550100", "Zoë 100%", [], {"plan": "Silver"})]
    for phone, name, tags, attributes in people:
        response = await client.post("/v1/contacts", json={"phone": phone, "name": name, "tags": tags,
                                                           "attributes": attributes}, headers=org.auth)
        assert response.status_code == 201, response.text

    async def names(**params: str) -> list[str]:
        response = await client.get("/v1/contacts", params=params, headers=org.auth)
        assert response.status_code == 200, response.text
        return sorted(c["name"] for c in response.json()["data"])

    assert await names(q="asha") == ["Asha Rao"]
    assert await names(q="98123 4567") == ["Asha Rao", "Ravi Kumar"]
    assert await names(q="100%") == ["Zoë 100%"]
    assert await names(q="%") == ["Zoë 100%"]
    assert await names(tag="PUNE") == ["Asha Rao", "Ravi Kumar"]
    assert await names(tag="vip") == ["Asha Rao"]
    assert await names(attribute_key="orders", attribute_value="5") == ["Asha Rao"]
    assert await names(attribute_key="vip", attribute_value="no") == ["Ravi Kumar"]
    assert await names(attribute_key="city", attribute_value="mumbai") == ["Ravi Kumar"]
    assert await names(attribute_key="plan", attribute_value="silver") == ["Zoë 100%"]
    unknown = await client.get("/v1/contacts", params={"attribute_key": "nope", "attribute_value": "1"},
                               headers=org.auth)
    assert unknown.status_code == 422
    page = (await client.get("/v1/contacts", params={"limit": 2}, headers=org.auth)).json()
    assert len(page["data"]) == 2 and page["next_cursor"]
    rest = (await client.get("/v1/contacts", params={"limit": 2, "cursor": page["next_cursor"]},
                             headers=org.auth)).json()
    assert len(rest["data"]) == 1 and rest["next_cursor"] is None
    assert {c["id"] for c in page["data"]}.isdisjoint({c["id"] for c in rest["data"]})


async def test_tags_replace_on_patch_and_are_shared_case_insensitively(client, runtime) -> None:
    org = await make_org(runtime)
    a = (await client.post("/v1/contacts", json={"phone": "+919812345678", "tags": ["VIP", "vip ", "Pune"]},
                           headers=org.auth)).json()
    assert a["tags"] == ["Pune", "VIP"]
    patched = (await client.patch(f"/v1/contacts/{a['id']}", json={"tags": ["Delhi"]}, headers=org.auth)).json()
    assert patched["tags"] == ["Delhi"]
    too_long = await client.patch(f"/v1/contacts/{a['id']}", json={"tags": ["x" * 41]}, headers=org.auth)
    assert too_long.status_code == 422


async def test_consent_block_and_notes_show_on_the_contact(client, runtime) -> None:
    org = await make_org(runtime)
    contact = (await client.post("/v1/contacts", json={"phone": "+919812345678", "opt_in_source": "website"},
                                 headers=org.auth)).json()
    assert contact["opt_in_source"] == "website" and contact["opted_in_at"]
    out = (await client.post(f"/v1/contacts/{contact['id']}/opt-out", headers=org.auth)).json()
    assert out["opted_out_at"] is not None
    blocked = (await client.post(f"/v1/contacts/{contact['id']}/block", headers=org.auth)).json()
    assert blocked["blocked_at"] is not None
    unblocked = (await client.post(f"/v1/contacts/{contact['id']}/unblock", headers=org.auth)).json()
    assert unblocked["blocked_at"] is None and unblocked["opted_out_at"] is not None
    back = (await client.post(f"/v1/contacts/{contact['id']}/opt-in", headers=org.auth)).json()
    assert back["opted_out_at"] is None and back["opt_in_source"] == "api"
    note = await client.post(f"/v1/contacts/{contact['id']}/notes", json={"text": "Prefers Hindi"}, headers=org.auth)
    assert note.status_code == 201
    notes = (await client.get(f"/v1/contacts/{contact['id']}/notes", headers=org.auth)).json()
    assert [n["text"] for n in notes] == ["Prefers Hindi"]
    assert notes[0]["author"]


async def test_delete_and_permissions(client, runtime) -> None:
    org = await make_org(runtime)
    reader = await make_org(runtime, scopes=["contacts:read"])
    contact = (await client.post("/v1/contacts", json={"phone": "+919812345678"}, headers=org.auth)).json()
    denied = await client.post("/v1/contacts", json={"phone": "+919812345670"}, headers=reader.auth)
    assert denied.status_code == 403
    other_org = await client.get(f"/v1/contacts/{contact['id']}", headers=reader.auth)
    assert other_org.status_code == 404
    assert (await client.delete(f"/v1/contacts/{contact['id']}", headers=org.auth)).status_code == 204
    assert (await client.get(f"/v1/contacts/{contact['id']}", headers=org.auth)).status_code == 404


async def test_export_streams_csv_with_attributes_and_tags(client, runtime) -> None:
    org = await make_org(runtime)
    await _attrs(client, org)
    await client.post("/v1/contacts", json={"phone": "+919812345678", "name": "=cmd|calc", "tags": ["VIP"],
                                            "attributes": {"vip": True, "orders": 4}}, headers=org.auth)
    await client.post("/v1/contacts", json={"phone": "+919812345679", "name": "Ravi"}, headers=org.auth)
    response = await client.get("/v1/contacts/export", headers=org.auth)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    lines = response.text.strip().splitlines()
    assert lines[0].startswith("phone,name,profile_name,tags")
    assert "vip" in lines[0] and "orders" in lines[0]
    assert len(lines) == 3
    assert any(line.startswith("+919812345678,'=cmd|calc,,VIP,") for line in lines)
    only_vip = await client.get("/v1/contacts/export", params={"tag": "vip"}, headers=org.auth)
    assert len(only_vip.text.strip().splitlines()) == 2
