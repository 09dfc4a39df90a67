from __future__ import annotations

from softdukan.auth.service import auth_service
from softdukan.organization.models import Membership
from softdukan.platform.uow import unit_of_work
from tests.support.factories import PASSWORD, make_org


async def add_member(runtime, org, role_name: str, email: str):  # type: ignore[no-untyped-def]
    from softdukan.auth.repository import RoleRepository

    async with unit_of_work(runtime) as uow:
        user = await auth_service.create_user(uow, email=email, name=email.split("@")[0], password=PASSWORD,
                                              mobile=None)
        role = await RoleRepository(uow.session).by_name(org.id, role_name)
        membership = Membership(organization_id=org.id, user_id=user.id, role_id=role.id, created_at=uow.clock.now())
        uow.session.add(membership)
    return membership


async def test_change_role_remove_and_transfer_ownership(client, runtime) -> None:
    a = await make_org(runtime)
    m = await add_member(runtime, a.org, "agent", "mgr@example.com")
    roles = {r["name"]: r["id"] for r in (await client.get("/v1/roles", headers=a.auth)).json()}
    changed = await client.put(f"/v1/members/{m.id}/role", json={"role_id": roles["manager"]}, headers=a.auth)
    assert changed.status_code == 200 and changed.json()["role"] == "manager"
    owner_member = next(x for x in (await client.get("/v1/members", headers=a.auth)).json() if x["is_owner"])
    assert (await client.delete(f"/v1/members/{owner_member['id']}", headers=a.auth)).status_code == 403
    # only the owner (a person, not a key) may transfer ownership: service-level
    from softdukan.organization.service import organization_service

    async with unit_of_work(runtime) as uow:
        await organization_service.transfer_ownership(uow, a.subject, m.id)
    members = {x["email"]: x for x in (await client.get("/v1/members", headers=a.auth)).json()}
    assert members["mgr@example.com"]["is_owner"] and members["mgr@example.com"]["role"] == "owner"
    assert not members[a.owner.email]["is_owner"] and members[a.owner.email]["role"] == "admin"
    assert (await client.delete(f"/v1/members/{members[a.owner.email]['id']}", headers=a.auth)).status_code == 204


async def test_custom_role_limits_and_validation(client, runtime) -> None:
    a = await make_org(runtime)
    bad = await client.post("/v1/roles", json={"name": "x", "permissions": ["nope:read"]}, headers=a.auth)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "unknown_permission"
    reserved = await client.post("/v1/roles", json={"name": "Admin", "permissions": ["teams:read"]}, headers=a.auth)
    assert reserved.status_code == 409
    created = await client.post("/v1/roles", json={"name": "Support Lead", "permissions": ["teams:read",
                                                                                          "members:read"]},
                                headers=a.auth)
    assert created.status_code == 201 and created.json()["name"] == "support lead"
    builtin = next(r for r in (await client.get("/v1/roles", headers=a.auth)).json() if r["name"] == "agent")
    assert (await client.put(f"/v1/roles/{builtin['id']}", json={"name": "z", "permissions": ["teams:read"]},
                             headers=a.auth)).status_code == 403
    m = await add_member(runtime, a.org, "agent", "lead@example.com")
    assert (await client.put(f"/v1/members/{m.id}/role", json={"role_id": created.json()["id"]},
                             headers=a.auth)).status_code == 200
    in_use = await client.delete(f"/v1/roles/{created.json()['id']}", headers=a.auth)
    assert in_use.status_code == 409 and in_use.json()["error"]["code"] == "role_in_use"


async def test_api_key_cannot_exceed_its_own_scopes(client, runtime) -> None:
    a = await make_org(runtime, scopes=["api_keys:write", "teams:read"])
    response = await client.post("/v1/api-keys", json={"name": "wider", "scopes": ["members:write"]}, headers=a.auth)
    assert response.status_code == 403 and response.json()["error"]["code"] == "scope_exceeds_yours"


async def test_audit_log_filters(client, runtime) -> None:
    a = await make_org(runtime)
    await client.post("/v1/teams", json={"name": "Sales"}, headers=a.auth)
    events = (await client.get("/v1/audit-events", params={"action": "team."}, headers=a.auth)).json()
    assert [e["action"] for e in events] == ["team.created"]
    assert events[0]["actor_type"] == "api_key" and events[0]["target_label"] == "Sales"
    all_events = (await client.get("/v1/audit-events", headers=a.auth)).json()
    assert {"auth.signed_up", "api_key.created", "team.created"} <= {e["action"] for e in all_events}
    assert (await client.get("/v1/audit-events", params={"since": "yesterday"}, headers=a.auth)).status_code == 422


async def test_changing_password_ends_other_sessions_but_not_this_one(runtime) -> None:
    from sqlalchemy import select

    from softdukan.auth.models import UserSession
    from softdukan.auth.service import auth_service as auth

    a = await make_org(runtime)
    async with unit_of_work(runtime) as uow:
        here = await auth.start_session(uow, a.owner, organization_id=a.org.id, ip=None, user_agent=None)
        await auth.start_session(uow, a.owner, organization_id=a.org.id, ip=None, user_agent=None)
    async with unit_of_work(runtime) as uow:
        owner = await uow.session.get(type(a.owner), a.owner.id)
        await auth.change_password(uow, owner, current=PASSWORD, new="a-brand-new-secret-55", organization=a.org,
                                   ip=None, keep_session_token=here.token)
    async with runtime.sessionmaker() as session:
        left = (await session.execute(select(UserSession.id))).scalars().all()
    assert left == [here.session.id]


async def test_audit_actor_filter_treats_percent_literally(client, runtime) -> None:
    a = await make_org(runtime)
    await client.post("/v1/teams", json={"name": "Sales"}, headers=a.auth)
    assert (await client.get("/v1/audit-events", params={"actor": "%"}, headers=a.auth)).json() == []
    assert (await client.get("/v1/audit-events", params={"action": "_"}, headers=a.auth)).json() == []
    assert (await client.get("/v1/audit-events", params={"actor": a.api_key[:12]}, headers=a.auth)).json()


async def test_descriptions_are_length_checked_in_the_services(runtime) -> None:
    import pytest

    from softdukan.auth.roles import role_service
    from softdukan.platform.errors import Invalid
    from softdukan.team.service import team_service

    a = await make_org(runtime)
    long = "x" * 301
    with pytest.raises(Invalid):
        async with unit_of_work(runtime) as uow:
            await role_service.create(uow, a.subject, name="r", description=long, permissions=["teams:read"])
    with pytest.raises(Invalid):
        async with unit_of_work(runtime) as uow:
            await team_service.create(uow, a.subject, name="t", description=long)
