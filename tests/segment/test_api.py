"""/v1/segments: create, list, get with the live count, patch, delete, the segment's contacts (paged), names
unique per organization, permissions, a deleted attribute, and segment_contact_ids for broadcast snapshots."""

from __future__ import annotations

import pytest

from softdukan.platform.errors import Forbidden, Invalid, NotFound
from softdukan.platform.uow import unit_of_work
from softdukan.segment.models import Segment
from softdukan.segment.service import segment_contact_ids
from tests.segment.support import build_world, post
from tests.support.factories import make_org

VIP = {"all": [{"field": "tags", "op": "has_any", "value": ["VIP"]}]}


async def test_crud_and_live_count(client, drain_jobs, wa) -> None:  # type: ignore[no-untyped-def]
    auth = wa.org.auth
    ids = await build_world(client, drain_jobs, wa)
    created = await client.post("/v1/segments", json={"name": "  VIP   buyers ", "definition": VIP}, headers=auth)
    assert created.status_code == 201, created.text
    segment = created.json()
    assert segment["name"] == "VIP buyers" and segment["contact_count"] == 2 and segment["problems"] is None
    assert segment["definition"] == {"all": [{"field": "tags", "op": "has_any", "value": ["VIP"]}]}

    taken = await client.post("/v1/segments", json={"name": "vip BUYERS", "definition": {}}, headers=auth)
    assert taken.status_code == 409
    assert taken.json()["error"]["code"] == "segment_name_taken"
    assert taken.json()["error"]["details"]["segment_id"] == segment["id"]
    assert (await client.post("/v1/segments", json={"name": "   ", "definition": {}},
                              headers=auth)).status_code == 422

    # the count is live: a new VIP contact is in the segment without touching it
    await post(client, auth, "/v1/contacts", {"phone": "+919800000077", "name": "Farah", "tags": ["vip"]})
    got = (await client.get(f"/v1/segments/{segment['id']}", headers=auth)).json()
    assert got["contact_count"] == 3

    contacts = await client.get(f"/v1/segments/{segment['id']}/contacts", params={"limit": 2}, headers=auth)
    page = contacts.json()
    assert [c["name"] for c in page["data"]] == ["Farah", "Bilal"] and page["next_cursor"]
    rest = (await client.get(f"/v1/segments/{segment['id']}/contacts",
                             params={"limit": 2, "cursor": page["next_cursor"]}, headers=auth)).json()
    assert [c["name"] for c in rest["data"]] == ["Asha"] and rest["next_cursor"] is None
    assert rest["data"][0]["tags"] == ["Pune", "VIP"]

    opted_in = {"all": [*VIP["all"], {"field": "consent", "op": "is", "value": "opted_in"}]}
    patched = await client.patch(f"/v1/segments/{segment['id']}", json={"definition": opted_in}, headers=auth)
    assert patched.status_code == 200 and patched.json()["contact_count"] == 1
    assert patched.json()["name"] == "VIP buyers"
    renamed = await client.patch(f"/v1/segments/{segment['id']}", json={"name": "Opted-in VIPs"}, headers=auth)
    assert renamed.json()["name"] == "Opted-in VIPs" and renamed.json()["definition"] == opted_in
    bad = await client.patch(f"/v1/segments/{segment['id']}",
                             json={"definition": {"all": [{"field": "window", "op": "is", "value": "x"}]}},
                             headers=auth)
    assert bad.status_code == 422
    assert (await client.get(f"/v1/segments/{segment['id']}", headers=auth)).json()["definition"] == opted_in

    other = await post(client, auth, "/v1/segments", {"name": "Everyone", "definition": {}})
    assert other["contact_count"] == 6
    clash = await client.patch(f"/v1/segments/{other['id']}", json={"name": "opted-in vips"}, headers=auth)
    assert clash.status_code == 409
    listed = (await client.get("/v1/segments", params={"limit": 1}, headers=auth)).json()
    assert [s["name"] for s in listed["data"]] == ["Everyone"] and listed["next_cursor"]
    second = (await client.get("/v1/segments", params={"cursor": listed["next_cursor"]}, headers=auth)).json()
    assert [s["name"] for s in second["data"]] == ["Opted-in VIPs"] and second["next_cursor"] is None
    assert (await client.get("/v1/segments", params={"cursor": "abc"}, headers=auth)).status_code == 422

    assert (await client.delete(f"/v1/segments/{other['id']}", headers=auth)).status_code == 204
    assert (await client.get(f"/v1/segments/{other['id']}", headers=auth)).status_code == 404
    assert (await client.delete(f"/v1/segments/{other['id']}", headers=auth)).status_code == 404
    assert ids["asha"]


async def test_a_deleted_attribute_makes_the_segment_report_the_problem(client, runtime) -> None:  # type: ignore[no-untyped-def]
    org = await make_org(runtime)
    attribute = await post(client, org.auth, "/v1/contact-attributes",
                           {"key": "city", "label": "City", "type": "text"})
    await post(client, org.auth, "/v1/contacts", {"phone": "+919800000001", "attributes": {"city": "Pune"}})
    segment = await post(client, org.auth, "/v1/segments", {"name": "Pune", "definition": {
        "all": [{"field": "attribute", "key": "city", "op": "equals", "value": "pune"}]}})
    assert segment["contact_count"] == 1
    assert (await client.delete(f"/v1/contact-attributes/{attribute['id']}", headers=org.auth)).status_code == 204
    got = (await client.get(f"/v1/segments/{segment['id']}", headers=org.auth)).json()
    assert got["contact_count"] is None
    assert "No contact attribute" in got["problems"]["definition.all[0].key"]
    listing = await client.get(f"/v1/segments/{segment['id']}/contacts", headers=org.auth)
    assert listing.status_code == 422 and listing.json()["error"]["code"] == "invalid_segment_definition"


async def test_permissions(client, runtime) -> None:  # type: ignore[no-untyped-def]
    owner = await make_org(runtime)
    segment = await post(client, owner.auth, "/v1/segments", {"name": "All", "definition": {}})
    reader = await make_org(runtime, scopes=["segments:read", "contacts:read"])
    assert (await client.get("/v1/segments", headers=reader.auth)).status_code == 200
    assert (await client.post("/v1/segments", json={"name": "x", "definition": {}},
                              headers=reader.auth)).status_code == 403
    assert (await client.post("/v1/segments/preview", json={"definition": {}},
                              headers=reader.auth)).status_code == 403
    no_segments = await make_org(runtime, scopes=["contacts:read"])
    assert (await client.get("/v1/segments", headers=no_segments.auth)).status_code == 403
    # another organization's segment is not found, whatever the key may do
    assert (await client.get(f"/v1/segments/{segment['id']}", headers=reader.auth)).status_code == 404
    assert (await client.get(f"/v1/segments/{segment['id']}/contacts", headers=reader.auth)).status_code == 404


async def test_segment_contact_ids_batches_every_member_once_in_order(client, runtime) -> None:  # type: ignore[no-untyped-def]
    org = await make_org(runtime)
    stranger = await make_org(runtime)
    made = []
    for i in range(25):
        body = {"phone": f"+9198000{i:05d}", "tags": ["even" if i % 2 == 0 else "odd"]}
        made.append((await post(client, org.auth, "/v1/contacts", body))["id"])
        await post(client, stranger.auth, "/v1/contacts", {"phone": f"+9198000{i:05d}", "tags": ["even"]})
    created = await post(client, org.auth, "/v1/segments", {"name": "Even", "definition": {
        "all": [{"field": "tags", "op": "has_any", "value": ["even"]}]}})
    async with unit_of_work(runtime) as uow:
        segment = await uow.session.get(Segment, created["id"])
        assert segment is not None
        batches = [batch async for batch in segment_contact_ids(uow, org.subject, segment, batch_size=5)]
        by_org = [batch async for batch in segment_contact_ids(uow, org.org.id, segment, batch_size=100)]
        with pytest.raises(NotFound):
            _ = [b async for b in segment_contact_ids(uow, stranger.org.id, segment)]
        with pytest.raises(NotFound):
            _ = [b async for b in segment_contact_ids(uow, stranger.subject, segment)]
        weak = org.subject.__class__(**{**org.subject.__dict__, "permissions": frozenset({"contacts:read"})})
        with pytest.raises(Forbidden):
            _ = [b async for b in segment_contact_ids(uow, weak, segment)]
    expected = sorted(made[0::2])
    assert [len(b) for b in batches] == [5, 5, 3]
    assert [i for b in batches for i in b] == expected
    assert by_org == [expected]


async def test_snapshot_of_a_segment_that_no_longer_checks_out_is_refused(client, runtime) -> None:  # type: ignore[no-untyped-def]
    org = await make_org(runtime)
    attribute = await post(client, org.auth, "/v1/contact-attributes",
                           {"key": "orders", "label": "Orders", "type": "number"})
    created = await post(client, org.auth, "/v1/segments", {"name": "Buyers", "definition": {
        "all": [{"field": "attribute", "key": "orders", "op": "gt", "value": 0}]}})
    assert (await client.delete(f"/v1/contact-attributes/{attribute['id']}", headers=org.auth)).status_code == 204
    async with unit_of_work(runtime) as uow:
        segment = await uow.session.get(Segment, created["id"])
        assert segment is not None
        with pytest.raises(Invalid):
            _ = [b async for b in segment_contact_ids(uow, org.org.id, segment)]
