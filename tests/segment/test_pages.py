"""Dashboard pages of segments: the builder (rows re-render by field, add/remove), the live count, save with errors
kept, a segment's page with its contacts, JSON mode for nested groups, edit, delete, and "from this search"."""

from __future__ import annotations

import re

from tests.segment.support import build_world, post
from tests.support.factories import browser_sign_in, csrf_from, form_post, make_org


async def _token(client, path: str = "/segments/new") -> str:  # type: ignore[no-untyped-def]
    return csrf_from((await client.get(path)).text)


async def test_builder_live_count_and_save(client, drain_jobs, wa) -> None:  # type: ignore[no-untyped-def]
    await build_world(client, drain_jobs, wa)
    await browser_sign_in(client, wa.org.owner.email)
    page = await client.get("/segments/new", params={"tag": "VIP"})
    assert page.status_code == 200
    assert 'name="c0_field"' in page.text and 'value="VIP"' in page.text
    token = csrf_from(page.text)
    htmx = {"HX-Request": "true", "X-CSRF-Token": token}

    # the count of the rows as they stand
    count = await client.post("/segments/preview", data={"match": "all", "c0_field": "tags", "c0_op": "has_any",
                                                         "c0_value": "VIP"}, headers=htmx)
    assert count.status_code == 200 and 'data-count="2"' in count.text and "Asha" in count.text

    # switching a row to an attribute re-renders it with that type's operators and value input
    rows = await client.post("/segments/builder", data={"match": "all", "c0_field": "attr:orders", "c0_op": "has_any",
                                                        "c0_value": "VIP"}, headers=htmx)
    assert rows.status_code == 200
    assert '<option value="gte"' in rows.text and '<option value="has_any"' not in rows.text
    assert 'inputmode="decimal"' in rows.text
    added = await client.post("/segments/builder", data={"match": "all", "c0_field": "attr:orders", "c0_op": "gte",
                                                         "c0_value": "3", "action": "add"}, headers=htmx)
    assert 'name="c1_field"' in added.text
    removed = await client.post("/segments/builder", data={"c0_field": "tags", "c0_op": "has_any", "c0_value": "x",
                                                           "c1_field": "consent", "c1_op": "is",
                                                           "c1_value": "opted_in", "action": "remove-0"},
                                headers=htmx)
    assert 'name="c1_field"' not in removed.text and '<option value="opted_in" selected' in removed.text

    # a multi-choice row posts each checked box
    sources = await client.post("/segments/preview", data={
        "match": "any", "c0_field": "source", "c0_op": "in", "c0_value": ["inbound", "ad"]}, headers=htmx)
    assert 'data-count="2"' in sources.text
    broken = await client.post("/segments/preview", data={"c0_field": "attr:orders", "c0_op": "gte",
                                                          "c0_value": "lots"}, headers=htmx)
    assert 'id="count-problems"' in broken.text and "Expected a number" in broken.text

    bad = await client.post("/segments/new", data={"csrf_token": token, "name": "Big buyers", "match": "all",
                                                   "c0_field": "attr:orders", "c0_op": "gte", "c0_value": "lots"})
    assert bad.status_code == 422
    assert "Expected a number" in bad.text and 'value="Big buyers"' in bad.text and 'value="lots"' in bad.text
    saved = await client.post("/segments/new", data={
        "csrf_token": token, "name": "Big buyers", "match": "all", "c0_field": "attr:orders", "c0_op": "gte",
        "c0_value": "3", "c1_field": "consent", "c1_op": "is_not", "c1_value": "blocked"})
    assert saved.status_code == 303, saved.text
    url = saved.headers["location"].split("?")[0]
    shown = await client.get(url)
    assert 'id="segment-total">2<' in shown.text
    assert "Orders is at least 3 and Consent is not blocked" in shown.text
    assert shown.text.count('data-contact-id="') == 2

    listing = await client.get("/segments")
    assert "Big buyers" in listing.text and 'data-count="2"' in listing.text
    again = await client.post("/segments/new", data={"csrf_token": token, "name": "big BUYERS", "match": "all"})
    assert again.status_code == 409 and "exists already" in again.text

    # edit: the builder opens with the saved rows; saving a change shows the new count
    edit = await client.get(f"{url}/edit")
    assert '<option value="attr:orders" selected' in edit.text and 'value="3"' in edit.text
    changed = await form_post(client, f"{url}/edit", {"name": "Big buyers", "match": "all",
                                                      "c0_field": "attr:orders", "c0_op": "gte", "c0_value": "10"})
    assert changed.status_code == 303
    assert 'id="segment-total">1<' in (await client.get(url)).text

    assert (await form_post(client, f"{url}/delete", {}, page=url)).status_code == 303
    assert (await client.get(url)).status_code == 404


async def test_nested_groups_are_edited_as_json(client, runtime) -> None:  # type: ignore[no-untyped-def]
    org = await make_org(runtime)
    await post(client, org.auth, "/v1/contacts", {"phone": "+919800000001", "tags": ["VIP"]})
    nested = {"any": [{"field": "tags", "op": "has_any", "value": ["VIP"]},
                      {"all": [{"field": "window", "op": "is", "value": "open"},
                               {"field": "consent", "op": "is", "value": "opted_in"}]}]}
    segment = await post(client, org.auth, "/v1/segments", {"name": "Nested", "definition": nested})
    await browser_sign_in(client, org.owner.email)
    edit = await client.get(f"/segments/{segment['id']}/edit")
    assert 'id="definition-json"' in edit.text and "&#34;window&#34;" in edit.text
    token = csrf_from(edit.text)
    broken = await client.post(f"/segments/{segment['id']}/edit", data={
        "csrf_token": token, "name": "Nested", "advanced": "1", "definition_json": "{not json"})
    assert broken.status_code == 422 and "not valid JSON" in broken.text
    fixed = await client.post(f"/segments/{segment['id']}/edit", data={
        "csrf_token": token, "name": "Nested", "advanced": "1",
        "definition_json": '{"all": [{"field": "tags", "op": "has_none", "value": ["VIP"]}]}'})
    assert fixed.status_code == 303
    got = (await client.get(f"/v1/segments/{segment['id']}", headers=org.auth)).json()
    assert got["contact_count"] == 0 and got["definition"]["all"][0]["op"] == "has_none"
    # a flat JSON definition goes back to the row builder
    simple = await client.post("/segments/builder", data={
        "advanced": "1", "action": "simple", "definition_json": '{"any": [{"field": "window", "op": "is", '
                                                                 '"value": "open"}]}'},
        headers={"HX-Request": "true", "X-CSRF-Token": token})
    assert 'name="c0_field"' in simple.text and '<option value="any" selected' in simple.text


async def test_agents_read_segments_but_cannot_build_them(client, runtime) -> None:  # type: ignore[no-untyped-def]
    from softdukan.auth.roles import role_service
    from softdukan.auth.service import auth_service
    from softdukan.organization.models import Membership
    from softdukan.platform.uow import unit_of_work
    from tests.support.factories import PASSWORD

    org = await make_org(runtime)
    segment = await post(client, org.auth, "/v1/segments", {"name": "Everyone", "definition": {}})
    async with unit_of_work(runtime) as uow:
        agent_role = next(r for r in await role_service.list(uow, org.subject) if r.name == "agent")
        user = await auth_service.create_user(uow, email="agent-seg@example.com", name="Agent", password=PASSWORD,
                                              mobile=None)
        uow.session.add(Membership(organization_id=org.org.id, user_id=user.id, role_id=agent_role.id,
                                   created_at=uow.clock.now()))
    await browser_sign_in(client, "agent-seg@example.com")
    home = await client.get("/segments")
    assert home.status_code == 200 and 'href="/segments"' in home.text and 'id="new-segment"' not in home.text
    assert (await client.get(f"/segments/{segment['id']}")).status_code == 200
    assert (await client.get("/segments/new")).status_code == 403
    token = csrf_from(home.text)
    refused = await client.post(f"/segments/{segment['id']}/delete", data={"csrf_token": token})
    assert refused.status_code == 403
    assert re.search(r'id="edit-segment"', (await client.get(f"/segments/{segment['id']}")).text) is None
