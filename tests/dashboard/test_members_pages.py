"""The members page: listing, inviting, roles, removing, leaving and transferring ownership."""

from __future__ import annotations

import re

import httpx

from tests.dashboard import add_member, form_post, has_inline_error, page_token, sign_in_as
from tests.support.factories import browser_sign_in, make_org


async def _members(client: httpx.AsyncClient, org) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    return {m["email"]: m for m in (await client.get("/v1/members", headers=org.auth)).json()}


async def _invited(client: httpx.AsyncClient, org) -> list[str]:  # type: ignore[no-untyped-def]
    return [i["email"] for i in (await client.get("/v1/invitations", headers=org.auth)).json()]


async def _mailbox_ids(client: httpx.AsyncClient) -> list[int]:
    return [int(i) for i in re.findall(r'data-email-id="(\d+)"', (await client.get("/mailbox")).text)]


async def _role_id(client: httpx.AsyncClient, org, name: str) -> int:  # type: ignore[no-untyped-def]
    return next(r["id"] for r in (await client.get("/v1/roles", headers=org.auth)).json() if r["name"] == name)


async def test_owner_sees_members_with_write_controls(client, runtime) -> None:
    a = await make_org(runtime)
    agent, agent_id = await add_member(runtime, a, "agent")
    await browser_sign_in(client, a.owner.email)
    page = await client.get("/settings/members")
    assert page.status_code == 200
    assert a.owner.email in page.text and agent.email in page.text
    assert "owner-badge" in page.text
    assert 'id="invite-form"' in page.text
    assert f'action="/settings/members/{agent_id}/role"' in page.text
    assert f'action="/settings/members/{agent_id}/remove"' in page.text
    assert f'action="/settings/members/{agent_id}/transfer-ownership"' in page.text
    assert 'id="leave-form"' not in page.text  # the owner can't leave


async def test_agent_sees_members_read_only_and_can_leave(client, runtime) -> None:
    a = await make_org(runtime)
    agent, agent_id = await add_member(runtime, a, "agent")
    await browser_sign_in(client, agent.email)
    page = await client.get("/settings/members")
    assert page.status_code == 200 and a.owner.email in page.text
    for control in ('id="invite-form"', "role-form", "remove-form", "transfer-form", "/revoke"):
        assert control not in page.text
    assert 'id="leave-form"' in page.text and f'action="/settings/members/{agent_id}/remove"' in page.text


async def test_members_page_forbidden_without_members_read(client, runtime) -> None:
    a = await make_org(runtime)
    viewer, _ = await add_member(runtime, a, "team viewer", permissions=["teams:read"])
    await browser_sign_in(client, viewer.email)
    response = await client.get("/settings/members")
    assert response.status_code == 403 and "members:read" in response.text


async def test_invite_sends_and_flashes(client, runtime) -> None:
    a = await make_org(runtime)
    await browser_sign_in(client, a.owner.email)
    manager = await _role_id(client, a, "manager")
    response = await form_post(client, "/settings/members/invite", {"email": "Priya@Example.com",
                                                                     "role_id": str(manager)}, page="/settings/members")
    assert response.status_code == 303
    page = await client.get(response.headers["location"])
    assert "Invitation sent to priya@example.com." in page.text
    assert "invitations-table" in page.text and "manager" in page.text
    assert await _invited(client, a) == ["priya@example.com"]


async def test_invite_bad_input_is_inline_and_changes_nothing(client, runtime) -> None:
    a = await make_org(runtime)
    agent, _ = await add_member(runtime, a, "agent")
    await browser_sign_in(client, a.owner.email)
    agent_role = await _role_id(client, a, "agent")
    bad_email = await form_post(client, "/settings/members/invite",
                                {"email": "not-an-email", "role_id": str(agent_role)}, page="/settings/members")
    assert bad_email.status_code == 422
    assert has_inline_error(bad_email.text, "email") and 'value="not-an-email"' in bad_email.text
    no_role = await form_post(client, "/settings/members/invite", {"email": "ravi@example.com", "role_id": "abc"},
                              page="/settings/members")
    assert no_role.status_code == 422 and has_inline_error(no_role.text, "role_id", "Choose a role.")
    owner_role = await _role_id(client, a, "owner")
    as_owner = await form_post(client, "/settings/members/invite", {"email": "ravi@example.com",
                                                                    "role_id": str(owner_role)},
                               page="/settings/members")
    assert as_owner.status_code == 422 and has_inline_error(as_owner.text, "role_id", "Transfer ownership")
    member = await form_post(client, "/settings/members/invite", {"email": agent.email, "role_id": str(agent_role)},
                             page="/settings/members")
    assert member.status_code == 409 and has_inline_error(member.text, "email", "Already a member.")
    b = await make_org(runtime)
    foreign_role = await _role_id(client, b, "agent")
    foreign = await form_post(client, "/settings/members/invite", {"email": "ravi@example.com",
                                                                   "role_id": str(foreign_role)},
                              page="/settings/members")
    assert foreign.status_code == 404 and has_inline_error(foreign.text, "role_id")
    no_csrf = await client.post("/settings/members/invite", data={"email": "ravi@example.com",
                                                                  "role_id": str(agent_role)})
    assert no_csrf.status_code == 403
    assert await _invited(client, a) == []


async def test_agent_cannot_invite(client, runtime) -> None:
    a = await make_org(runtime)
    agent, _ = await add_member(runtime, a, "agent")
    await browser_sign_in(client, agent.email)
    agent_role = await _role_id(client, a, "agent")
    response = await form_post(client, "/settings/members/invite", {"email": "x@example.com",
                                                                    "role_id": str(agent_role)},
                               page="/settings/members")
    assert response.status_code == 403
    assert await _invited(client, a) == []


async def test_revoke_invitation(client, runtime) -> None:
    a = await make_org(runtime)
    b = await make_org(runtime)
    await client.post("/v1/invitations", json={"email": "a@example.com", "role_id": await _role_id(client, a, "agent")},
                      headers=a.auth)
    other = (await client.post("/v1/invitations", json={"email": "b@example.com",
                                                         "role_id": await _role_id(client, b, "agent")},
                               headers=b.auth)).json()
    await browser_sign_in(client, a.owner.email)
    mine = (await client.get("/v1/invitations", headers=a.auth)).json()[0]
    foreign = await form_post(client, f"/settings/invitations/{other['id']}/revoke", {}, page="/settings/members")
    assert foreign.status_code == 404
    assert await _invited(client, b) == ["b@example.com"]
    no_csrf = await client.post(f"/settings/invitations/{mine['id']}/revoke")
    assert no_csrf.status_code == 403 and await _invited(client, a) == ["a@example.com"]
    response = await form_post(client, f"/settings/invitations/{mine['id']}/revoke", {}, page="/settings/members")
    assert response.status_code == 303
    assert "The invitation was revoked." in (await client.get(response.headers["location"])).text
    assert await _invited(client, a) == []
    again = await form_post(client, f"/settings/invitations/{mine['id']}/revoke", {}, page="/settings/members")
    assert again.status_code == 409 and "already accepted or revoked" in again.text


async def test_change_role(client, runtime) -> None:
    a = await make_org(runtime)
    agent, agent_id = await add_member(runtime, a, "agent")
    await browser_sign_in(client, a.owner.email)
    manager = await _role_id(client, a, "manager")
    response = await form_post(client, f"/settings/members/{agent_id}/role", {"role_id": str(manager)},
                               page="/settings/members")
    assert response.status_code == 303
    assert "The member&#39;s role was changed." in (await client.get(response.headers["location"])).text
    assert (await _members(client, a))[agent.email]["role"] == "manager"


async def test_change_role_refusals_change_nothing(client, runtime) -> None:
    a = await make_org(runtime)
    b = await make_org(runtime)
    agent, agent_id = await add_member(runtime, a, "agent")
    _, b_agent_id = await add_member(runtime, b, "agent")
    await browser_sign_in(client, a.owner.email)
    manager = await _role_id(client, a, "manager")
    owner_id = (await _members(client, a))[a.owner.email]["id"]
    owner_row = await form_post(client, f"/settings/members/{owner_id}/role", {"role_id": str(manager)},
                                page="/settings/members")
    assert owner_row.status_code == 403 and "transfer ownership first" in owner_row.text
    foreign_member = await form_post(client, f"/settings/members/{b_agent_id}/role", {"role_id": str(manager)},
                                     page="/settings/members")
    assert foreign_member.status_code == 404
    foreign_role = await form_post(client, f"/settings/members/{agent_id}/role",
                                   {"role_id": str(await _role_id(client, b, "manager"))}, page="/settings/members")
    assert foreign_role.status_code == 404
    garbage = await form_post(client, f"/settings/members/{agent_id}/role", {"role_id": ""}, page="/settings/members")
    assert garbage.status_code == 422
    no_csrf = await client.post(f"/settings/members/{agent_id}/role", data={"role_id": str(manager)})
    assert no_csrf.status_code == 403
    assert (await _members(client, a))[agent.email]["role"] == "agent"
    assert (await _members(client, b)).keys() and all(m["role"] in {"owner", "agent"}
                                                      for m in (await _members(client, b)).values())


async def test_remove_member_and_refusals(client, runtime) -> None:
    a = await make_org(runtime)
    b = await make_org(runtime)
    agent, agent_id = await add_member(runtime, a, "agent")
    other_agent, other_agent_id = await add_member(runtime, a, "agent")
    _, b_agent_id = await add_member(runtime, b, "agent")
    # an agent may leave but not remove others
    await browser_sign_in(client, agent.email)
    refused = await form_post(client, f"/settings/members/{other_agent_id}/remove", {}, page="/settings/members")
    assert refused.status_code == 403 and "members:write" in refused.text
    await sign_in_as(client, a.owner.email)
    foreign = await form_post(client, f"/settings/members/{b_agent_id}/remove", {}, page="/settings/members")
    assert foreign.status_code == 404
    owner_id = (await _members(client, a))[a.owner.email]["id"]
    owner = await form_post(client, f"/settings/members/{owner_id}/remove", {}, page="/settings/members")
    assert owner.status_code == 403 and "The owner can&#39;t be removed" in owner.text
    no_csrf = await client.post(f"/settings/members/{agent_id}/remove")
    assert no_csrf.status_code == 403
    assert set(await _members(client, a)) == {a.owner.email, agent.email, other_agent.email}
    assert len(await _members(client, b)) == 2
    response = await form_post(client, f"/settings/members/{agent_id}/remove", {}, page="/settings/members")
    assert response.status_code == 303
    assert "The member was removed." in (await client.get(response.headers["location"])).text
    assert set(await _members(client, a)) == {a.owner.email, other_agent.email}


async def test_leave_organization(client, runtime) -> None:
    a = await make_org(runtime)
    agent, agent_id = await add_member(runtime, a, "agent")
    await browser_sign_in(client, agent.email)
    response = await form_post(client, f"/settings/members/{agent_id}/remove", {}, page="/settings/members")
    assert response.status_code == 303 and response.headers["location"] == "/no-organization"
    assert agent.email not in await _members(client, a)
    assert (await client.get(response.headers["location"])).status_code == 200
    assert (await client.get("/settings/members")).headers["location"] == "/no-organization"
    assert (await client.get("/settings/profile")).status_code == 200  # still their own profile


async def test_leaving_one_of_two_organizations_goes_home(client, runtime) -> None:
    a = await make_org(runtime)
    b = await make_org(runtime)
    agent, agent_id = await add_member(runtime, a, "agent")
    await client.post("/v1/invitations", json={"email": agent.email, "role_id": await _role_id(client, b, "agent")},
                      headers=b.auth)
    email = await client.get(f"/mailbox/{max(await _mailbox_ids(client))}")
    token = re.search(r"token=([\w-]+)", email.text)
    assert token
    await browser_sign_in(client, agent.email)
    accept = await client.get(f"/invitations/accept?token={token.group(1)}")
    joined = await client.post("/invitations/accept", data={"token": token.group(1),
                                                            "csrf_token": page_token(accept.text)})
    assert joined.status_code == 303
    await client.post("/switch-organization", data={"organization_id": str(a.org.id),
                                                     "csrf_token": page_token(accept.text)})
    response = await form_post(client, f"/settings/members/{agent_id}/remove", {}, page="/settings/members")
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert agent.email not in await _members(client, a) and agent.email in await _members(client, b)


async def test_transfer_ownership(client, runtime) -> None:
    a = await make_org(runtime)
    admin, admin_id = await add_member(runtime, a, "admin")
    await browser_sign_in(client, admin.email)
    page = await client.get("/settings/members")
    assert "transfer-form" not in page.text  # only the owner sees it
    refused = await form_post(client, f"/settings/members/{admin_id}/transfer-ownership", {},
                              page="/settings/members")
    assert refused.status_code == 403 and "Only the owner" in refused.text
    assert (await _members(client, a))[a.owner.email]["is_owner"] is True
    await sign_in_as(client, a.owner.email)
    no_csrf = await client.post(f"/settings/members/{admin_id}/transfer-ownership")
    assert no_csrf.status_code == 403 and (await _members(client, a))[admin.email]["is_owner"] is False
    response = await form_post(client, f"/settings/members/{admin_id}/transfer-ownership", {},
                               page="/settings/members")
    assert response.status_code == 303
    page = await client.get(response.headers["location"])
    assert "Ownership was transferred." in page.text and "transfer-form" not in page.text
    assert 'id="leave-form"' in page.text  # the former owner is now an admin who may leave
    members = await _members(client, a)
    assert members[admin.email]["is_owner"] is True and members[admin.email]["role"] == "owner"
    assert members[a.owner.email]["is_owner"] is False and members[a.owner.email]["role"] == "admin"


async def test_an_agent_cannot_remove_anyone_but_themselves(client, runtime) -> None:
    a = await make_org(runtime)
    agent, _ = await add_member(runtime, a, "agent")
    other, other_id = await add_member(runtime, a, "agent")
    await browser_sign_in(client, agent.email)
    response = await form_post(client, f"/settings/members/{other_id}/remove", {}, page="/settings/members")
    assert response.status_code == 403
    assert other.email in await _members(client, a)
