"""Teams pages: list, create, details, members, edit and delete; read-only for the agent role."""

from __future__ import annotations

import re

import httpx

from tests.dashboard import add_member, form_post, has_inline_error, sign_in_as
from tests.support.factories import browser_sign_in, make_org


async def _teams(client: httpx.AsyncClient, org) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    return {t["name"]: t for t in (await client.get("/v1/teams", headers=org.auth)).json()}


async def _team(client: httpx.AsyncClient, org, team_id: int) -> dict:  # type: ignore[no-untyped-def]
    return (await client.get(f"/v1/teams/{team_id}", headers=org.auth)).json()


async def _make_team(client: httpx.AsyncClient, org, name: str = "Support") -> int:  # type: ignore[no-untyped-def]
    response = await client.post("/v1/teams", json={"name": name, "description": "Answers customers"},
                                 headers=org.auth)
    return int(response.json()["id"])


async def test_owner_sees_teams_with_create_form(client, runtime) -> None:
    a = await make_org(runtime)
    team_id = await _make_team(client, a)
    await browser_sign_in(client, a.owner.email)
    page = await client.get("/settings/teams")
    assert page.status_code == 200
    assert 'id="teams-table"' in page.text and f'href="/settings/teams/{team_id}"' in page.text
    assert 'id="team-create-form"' in page.text and 'id="read-only-note"' not in page.text


async def test_agent_sees_teams_without_write_controls(client, runtime) -> None:
    a = await make_org(runtime)
    team_id = await _make_team(client, a)
    agent, agent_id = await add_member(runtime, a, "agent")
    await client.post(f"/v1/teams/{team_id}/members", json={"membership_id": agent_id}, headers=a.auth)
    await browser_sign_in(client, agent.email)
    page = await client.get("/settings/teams")
    assert page.status_code == 200
    assert 'id="teams-table"' in page.text and "Support" in page.text
    assert 'id="team-create-form"' not in page.text and "<form" not in page.text.split('id="main"')[1]
    note = re.search(r'id="read-only-note">(.*?)</div>', page.text, re.S)
    assert note and "Your role (agent) can view teams but not change them." in note.group(1)
    detail = await client.get(f"/settings/teams/{team_id}")
    assert detail.status_code == 200 and agent.email in detail.text
    main = detail.text.split('id="main"')[1]
    assert "<form" not in main and 'id="read-only-note"' in main
    for control in ("team-edit-form", "team-delete-form", "team-add-member-form", "/remove"):
        assert control not in main


async def test_teams_page_forbidden_without_teams_read(client, runtime) -> None:
    a = await make_org(runtime)
    team_id = await _make_team(client, a)
    viewer, _ = await add_member(runtime, a, "org viewer", permissions=["organization:read"])
    await browser_sign_in(client, viewer.email)
    assert (await client.get("/settings/teams")).status_code == 403
    assert (await client.get(f"/settings/teams/{team_id}")).status_code == 403


async def test_create_team(client, runtime) -> None:
    a = await make_org(runtime)
    await browser_sign_in(client, a.owner.email)
    response = await form_post(client, "/settings/teams", {"name": "  Sales  Desk ", "description": "Leads"})
    assert response.status_code == 303
    teams = await _teams(client, a)
    assert teams["Sales Desk"]["description"] == "Leads"
    assert response.headers["location"] == f"/settings/teams/{teams['Sales Desk']['id']}?flash=team_created"
    page = await client.get(response.headers["location"])
    assert "The team was created." in page.text and 'id="team-edit-form"' in page.text


async def test_create_team_bad_input_changes_nothing(client, runtime) -> None:
    a = await make_org(runtime)
    await _make_team(client, a, "Support")
    agent, _ = await add_member(runtime, a, "agent")
    await browser_sign_in(client, a.owner.email)
    empty = await form_post(client, "/settings/teams", {"name": " ", "description": "kept"})
    assert empty.status_code == 422 and has_inline_error(empty.text, "name", "Team name is required.")
    assert 'value="kept"' in empty.text
    taken = await form_post(client, "/settings/teams", {"name": "support", "description": ""})
    assert taken.status_code == 409 and has_inline_error(taken.text, "name", "Already used.")
    long = await form_post(client, "/settings/teams", {"name": "Ok", "description": "d" * 301})
    assert long.status_code == 422 and has_inline_error(long.text, "description", "300")
    no_csrf = await client.post("/settings/teams", data={"name": "Forged"})
    assert no_csrf.status_code == 403
    await sign_in_as(client, agent.email)
    forbidden = await form_post(client, "/settings/teams", {"name": "Agents"}, page="/settings/teams")
    assert forbidden.status_code == 403 and "teams:write" in forbidden.text
    assert list(await _teams(client, a)) == ["Support"]


async def test_team_members_add_and_remove(client, runtime) -> None:
    a = await make_org(runtime)
    team_id = await _make_team(client, a)
    agent, agent_id = await add_member(runtime, a, "agent")
    await browser_sign_in(client, a.owner.email)
    page = await client.get(f"/settings/teams/{team_id}")
    assert f'<option value="{agent_id}">' in page.text
    added = await form_post(client, f"/settings/teams/{team_id}/members", {"membership_id": str(agent_id)},
                            page=f"/settings/teams/{team_id}")
    assert added.status_code == 303
    page = await client.get(added.headers["location"])
    assert "The member was added to the team." in page.text and f'<option value="{agent_id}">' not in page.text
    assert [m["email"] for m in (await _team(client, a, team_id))["members"]] == [agent.email]
    again = await form_post(client, f"/settings/teams/{team_id}/members", {"membership_id": str(agent_id)},
                            page=f"/settings/teams/{team_id}")
    assert again.status_code == 409 and "already in the team" in again.text
    removed = await form_post(client, f"/settings/teams/{team_id}/members/{agent_id}/remove", {},
                              page=f"/settings/teams/{team_id}")
    assert removed.status_code == 303
    assert (await _team(client, a, team_id))["members"] == []
    missing = await form_post(client, f"/settings/teams/{team_id}/members/{agent_id}/remove", {},
                              page=f"/settings/teams/{team_id}")
    assert missing.status_code == 404 and "not in the team" in missing.text


async def test_add_member_bad_input_changes_nothing(client, runtime) -> None:
    a = await make_org(runtime)
    b = await make_org(runtime)
    team_id = await _make_team(client, a)
    _, agent_id = await add_member(runtime, a, "agent")
    _, b_agent_id = await add_member(runtime, b, "agent")
    await browser_sign_in(client, a.owner.email)
    garbage = await form_post(client, f"/settings/teams/{team_id}/members", {"membership_id": "x"},
                              page=f"/settings/teams/{team_id}")
    assert garbage.status_code == 422 and has_inline_error(garbage.text, "membership_id")
    foreign = await form_post(client, f"/settings/teams/{team_id}/members", {"membership_id": str(b_agent_id)},
                              page=f"/settings/teams/{team_id}")
    assert foreign.status_code == 404 and has_inline_error(foreign.text, "membership_id", "Unknown member.")
    no_csrf = await client.post(f"/settings/teams/{team_id}/members", data={"membership_id": str(agent_id)})
    assert no_csrf.status_code == 403
    assert (await _team(client, a, team_id))["members"] == []


async def test_edit_and_delete_team(client, runtime) -> None:
    a = await make_org(runtime)
    team_id = await _make_team(client, a)
    await _make_team(client, a, "Sales")
    await browser_sign_in(client, a.owner.email)
    taken = await form_post(client, f"/settings/teams/{team_id}", {"name": "Sales", "description": "x"})
    assert taken.status_code == 409 and has_inline_error(taken.text, "name") and 'value="x"' in taken.text
    assert (await _team(client, a, team_id))["name"] == "Support"
    saved = await form_post(client, f"/settings/teams/{team_id}", {"name": "Care", "description": ""})
    assert saved.status_code == 303
    team = await _team(client, a, team_id)
    assert (team["name"], team["description"]) == ("Care", None)
    no_csrf = await client.post(f"/settings/teams/{team_id}/delete")
    assert no_csrf.status_code == 403 and "Care" in await _teams(client, a)
    deleted = await form_post(client, f"/settings/teams/{team_id}/delete", {}, page=f"/settings/teams/{team_id}")
    assert deleted.status_code == 303 and deleted.headers["location"] == "/settings/teams?flash=team_deleted"
    assert "The team was deleted." in (await client.get(deleted.headers["location"])).text
    assert list(await _teams(client, a)) == ["Sales"]
    assert (await client.get(f"/settings/teams/{team_id}")).status_code == 404


async def test_another_organizations_team_is_404_everywhere(client, runtime) -> None:
    a = await make_org(runtime)
    b = await make_org(runtime)
    b_team = await _make_team(client, b, "Secret team")
    _, b_agent_id = await add_member(runtime, b, "agent")
    await client.post(f"/v1/teams/{b_team}/members", json={"membership_id": b_agent_id}, headers=b.auth)
    await browser_sign_in(client, a.owner.email)
    page = await client.get(f"/settings/teams/{b_team}")
    assert page.status_code == 404 and "Secret team" not in page.text
    for path, data in ((f"/settings/teams/{b_team}", {"name": "Hijacked"}), (f"/settings/teams/{b_team}/delete", {}),
                       (f"/settings/teams/{b_team}/members", {"membership_id": str(b_agent_id)}),
                       (f"/settings/teams/{b_team}/members/{b_agent_id}/remove", {})):
        response = await form_post(client, path, data, page="/settings/teams")
        assert response.status_code == 404, path
        assert "Secret team" not in response.text
    team = await _team(client, b, b_team)
    assert team["name"] == "Secret team" and len(team["members"]) == 1
    for path in ("/settings/teams/0", "/settings/teams/99999999999999999999999", "/settings/teams/abc"):
        assert (await client.get(path)).status_code in (404, 422), path
