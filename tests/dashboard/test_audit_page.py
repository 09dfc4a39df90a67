"""The audit log page: events in the organization's time zone, filters, paging and bad filter input."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from softdukan.audit.service import audit_service
from softdukan.kit.clock import FrozenClock
from softdukan.platform.uow import unit_of_work
from tests.dashboard import add_member, has_inline_error, sign_in_as
from tests.support.factories import browser_sign_in, make_org


def _actions(html: str) -> list[str]:
    return re.findall(r'data-action="([^"]+)"', html)


async def _record_at(runtime, org, at: datetime, action: str, **details: object) -> None:  # type: ignore[no-untyped-def]
    async with unit_of_work(runtime) as uow:
        uow.clock = FrozenClock(at)
        audit_service.record(uow, action, subject=org.subject, target_label="Support", **details)


async def test_audit_page_shows_events_in_the_organizations_time_zone(client, runtime) -> None:
    a = await make_org(runtime)
    await client.put("/v1/organization", json={"name": a.org.name, "timezone": "America/New_York"}, headers=a.auth)
    at = datetime(2025, 7, 4, 15, 30, 5, tzinfo=UTC)
    await _record_at(runtime, a, at, "team.created", members=["x@example.com", "y@example.com"])
    await browser_sign_in(client, a.owner.email)
    page = await client.get("/settings/audit")
    assert page.status_code == 200
    assert "04 Jul 2025, 11:30:05" in page.text  # 15:30 UTC is 11:30 in New York (EDT)
    row = re.search(r'<tr data-event-id="\d+" data-action="team.created">(.*?)</tr>', page.text, re.S)
    assert row and a.owner.email in row.group(1) and "Support" in row.group(1)
    assert "x@example.com, y@example.com" in row.group(1)
    assert _actions(page.text)[:2] == ["auth.signed_in", "team.created"]  # newest first


async def test_audit_page_needs_audit_read(client, runtime) -> None:
    a = await make_org(runtime)
    agent, _ = await add_member(runtime, a, "agent")
    manager, _ = await add_member(runtime, a, "manager")
    await browser_sign_in(client, agent.email)
    assert (await client.get("/settings/audit")).status_code == 403
    await sign_in_as(client, manager.email)
    assert (await client.get("/settings/audit")).status_code == 200


async def test_action_and_actor_filters(client, runtime) -> None:
    a = await make_org(runtime)
    b = await make_org(runtime)
    await client.post("/v1/teams", json={"name": "Sales"}, headers=a.auth)
    await client.post("/v1/teams", json={"name": "B team"}, headers=b.auth)
    await browser_sign_in(client, a.owner.email)
    page = await client.get("/settings/audit")
    assert '<optgroup label="Teams">' in page.text and '<option value="team.">' in page.text
    assert "B team" not in page.text  # another organization's events never show
    teams = await client.get("/settings/audit", params={"action": "team."})
    assert _actions(teams.text) == ["team.created"]
    assert '<option value="team." selected>' in teams.text
    exact = await client.get("/settings/audit", params={"action": "auth.signed_up"})
    assert _actions(exact.text) == ["auth.signed_up"]
    by_key = await client.get("/settings/audit", params={"actor": "sdk_"})
    assert set(_actions(by_key.text)) == {"team.created"}  # made through the API key
    nobody = await client.get("/settings/audit", params={"actor": "nobody@nowhere"})
    assert _actions(nobody.text) == [] and "No events match" in nobody.text


async def test_dates_are_days_in_the_organizations_time_zone(client, runtime) -> None:
    a = await make_org(runtime)  # Asia/Kolkata, UTC+5:30
    await _record_at(runtime, a, datetime(2025, 3, 9, 18, 15, tzinfo=UTC), "role.created")  # 9 Mar, 23:45 IST
    await _record_at(runtime, a, datetime(2025, 3, 9, 18, 45, tzinfo=UTC), "role.updated")  # 10 Mar, 00:15 IST
    await browser_sign_in(client, a.owner.email)
    tenth = await client.get("/settings/audit", params={"from": "2025-03-10", "to": "2025-03-10"})
    assert _actions(tenth.text) == ["role.updated"]
    ninth = await client.get("/settings/audit", params={"to": "2025-03-09"})
    assert _actions(ninth.text) == ["role.created"]
    both = await client.get("/settings/audit", params={"from": "2025-03-09", "to": "2025-03-10", "action": "role."})
    assert _actions(both.text) == ["role.updated", "role.created"]


async def test_bad_filters_show_inline_errors_not_500(client, runtime) -> None:
    a = await make_org(runtime)
    await browser_sign_in(client, a.owner.email)
    cases = [({"from": "2025-13-45"}, "from"), ({"to": "yesterday"}, "to"), ({"from": "0001-01-01"}, "from"),
             ({"to": "9999-12-31"}, "to"), ({"from": "2025-03-10", "to": "2025-03-01"}, "to"),
             ({"action": "drop table"}, "action"), ({"actor": "x" * 300}, "actor")]
    for params, field in cases:
        response = await client.get("/settings/audit", params=params)
        assert response.status_code == 422, params
        assert has_inline_error(response.text, field), params
        assert _actions(response.text) == []
    for before_id in ("abc", "-1", "99999999999999999999999", "²"):
        response = await client.get("/settings/audit", params={"before_id": before_id})
        assert response.status_code == 422 and "That page link is not valid" in response.text, before_id
    kept = await client.get("/settings/audit", params={"from": "bad", "actor": "asha"})
    assert 'value="bad"' in kept.text and 'value="asha"' in kept.text


async def test_older_pagination(client, runtime) -> None:
    a = await make_org(runtime)
    async with unit_of_work(runtime) as uow:
        for n in range(60):
            audit_service.record(uow, "team.updated", subject=a.subject, target_label=f"Team {n:02d}")
    await browser_sign_in(client, a.owner.email)
    first = await client.get("/settings/audit", params={"action": "team."})
    assert len(_actions(first.text)) == 50 and "Team 59" in first.text and "Team 09" not in first.text
    older = re.search(r'href="([^"]+)" id="audit-older"', first.text)
    assert older and "action=team." in older.group(1)
    second = await client.get(older.group(1).replace("&amp;", "&"))
    assert second.status_code == 200
    assert len(_actions(second.text)) == 10 and "Team 09" in second.text and "Team 10" not in second.text
    assert 'id="audit-older"' not in second.text and 'id="audit-newest"' in second.text


async def test_events_are_shown_with_local_time_filter_for_default_zone(client, runtime) -> None:
    a = await make_org(runtime)
    await _record_at(runtime, a, datetime(2025, 1, 1, 0, 0, tzinfo=UTC), "api_key.created")
    await browser_sign_in(client, a.owner.email)
    page = await client.get("/settings/audit", params={"action": "api_key."})
    expected = datetime(2025, 1, 1, tzinfo=UTC).astimezone(ZoneInfo("Asia/Kolkata")).strftime("%d %b %Y, %H:%M:%S")
    assert expected == "01 Jan 2025, 05:30:00" and expected in page.text
