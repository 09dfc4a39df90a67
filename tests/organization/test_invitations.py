from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from softdukan.kit.clock import FrozenClock
from softdukan.notification.models import OutboundEmail
from tests.support.factories import csrf_from, make_org


async def role_id(client, auth, name: str) -> int:  # type: ignore[no-untyped-def]
    roles = (await client.get("/v1/roles", headers=auth)).json()
    return next(r["id"] for r in roles if r["name"] == name)


async def invite_link(runtime, to: str) -> str:  # type: ignore[no-untyped-def]
    async with runtime.sessionmaker() as session:
        email = (await session.execute(select(OutboundEmail).where(OutboundEmail.to_address == to))).scalars().first()
    match = re.search(r"http://testserver(/invitations/accept\?token=[\w-]+)", email.body_text)  # type: ignore[union-attr]
    assert match
    return match.group(1)


async def test_invite_accept_as_new_user_and_reuse_is_refused(client, runtime) -> None:
    a = await make_org(runtime, "Kirana King")
    agent = await role_id(client, a.auth, "agent")
    created = await client.post("/v1/invitations", json={"email": "New.Agent@example.com", "role_id": agent},
                                headers=a.auth)
    assert created.status_code == 201, created.text
    assert created.json()["email"] == "new.agent@example.com"
    link = await invite_link(runtime, "new.agent@example.com")
    page = await client.get(link)
    assert page.status_code == 200 and "Join Kirana King" in page.text
    token = link.split("token=")[1]
    bad = await client.post("/invitations/accept", data={"token": token, "name": "Neha", "password": "x",
                                                         "csrf_token": csrf_from(page.text)})
    assert bad.status_code == 422
    ok = await client.post("/invitations/accept", data={"token": token, "name": "Neha Agent",
                                                        "password": "agent-password-77",
                                                        "csrf_token": csrf_from(page.text)})
    assert ok.status_code == 303
    members = (await client.get("/v1/members", headers=a.auth)).json()
    assert {m["email"]: m["role"] for m in members}["new.agent@example.com"] == "agent"
    client.cookies.clear()
    reused = await client.get(link)
    assert reused.status_code == 410 and "already accepted" in reused.text


async def test_invite_bad_input(client, runtime) -> None:
    a = await make_org(runtime)
    b = await make_org(runtime)
    agent = await role_id(client, a.auth, "agent")
    owner = await role_id(client, a.auth, "owner")
    b_role = await role_id(client, b.auth, "agent")
    assert (await client.post("/v1/invitations", json={"email": "nope", "role_id": agent},
                              headers=a.auth)).status_code == 422
    assert (await client.post("/v1/invitations", json={"email": "x@example.com", "role_id": b_role},
                              headers=a.auth)).status_code == 404
    assert (await client.post("/v1/invitations", json={"email": "x@example.com", "role_id": owner},
                              headers=a.auth)).status_code == 422
    assert (await client.post("/v1/invitations", json={"email": a.owner.email, "role_id": agent},
                              headers=a.auth)).status_code == 409
    first = await client.post("/v1/invitations", json={"email": "y@example.com", "role_id": agent}, headers=a.auth)
    assert first.status_code == 201
    assert (await client.post("/v1/invitations", json={"email": "y@example.com", "role_id": agent},
                              headers=a.auth)).status_code == 409


async def test_expired_and_revoked_invitations_are_410(client, runtime) -> None:
    a = await make_org(runtime)
    agent = await role_id(client, a.auth, "agent")
    one = await client.post("/v1/invitations", json={"email": "late@example.com", "role_id": agent}, headers=a.auth)
    two = await client.post("/v1/invitations", json={"email": "gone@example.com", "role_id": agent}, headers=a.auth)
    assert (await client.delete(f"/v1/invitations/{two.json()['id']}", headers=a.auth)).status_code == 200
    assert (await client.get(await invite_link(runtime, "gone@example.com"))).status_code == 410
    runtime.clock = FrozenClock(runtime.clock.now() + timedelta(days=8))
    response = await client.get(await invite_link(runtime, "late@example.com"))
    assert response.status_code == 410 and "expired" in response.text
    assert one.status_code == 201
