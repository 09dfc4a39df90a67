"""A person in several organizations switches between them; they can't switch into one they're not in."""

from __future__ import annotations

from softdukan.organization.models import Membership
from softdukan.platform.uow import unit_of_work
from tests.support.factories import browser_sign_in, form_post, make_org


async def join(runtime, user, org, role_name: str = "agent") -> Membership:  # type: ignore[no-untyped-def]
    from softdukan.auth.repository import RoleRepository

    async with unit_of_work(runtime) as uow:
        role = await RoleRepository(uow.session).by_name(org.id, role_name)
        membership = Membership(organization_id=org.id, user_id=user.id, role_id=role.id, created_at=uow.clock.now())
        uow.session.add(membership)
    return membership


async def test_switching_organizations(client, runtime) -> None:
    a = await make_org(runtime, "Anand Textiles")
    b = await make_org(runtime, "Bose Bakery")
    stranger = await make_org(runtime, "Chawla Chemists")
    await join(runtime, a.owner, b.org)
    await browser_sign_in(client, a.owner.email)
    home = await client.get("/")
    assert 'id="org-switcher"' in home.text and "Bose Bakery" in home.text and "Chawla Chemists" not in home.text

    switched = await form_post(client, "/switch-organization", {"organization_id": str(b.org.id)}, page="/")
    assert switched.status_code == 303
    home = await client.get("/")
    assert '<h1 class="h3 mb-4">Bose Bakery</h1>' in home.text and ">agent<" in home.text
    # the agent role of Bose Bakery applies now: no API keys page
    assert (await client.get("/settings/api-keys")).status_code == 403

    refused = await form_post(client, "/switch-organization", {"organization_id": str(stranger.org.id)}, page="/")
    assert refused.status_code == 404
    assert '<h1 class="h3 mb-4">Bose Bakery</h1>' in (await client.get("/")).text


async def test_removed_from_the_current_organization_falls_back_to_another(client, runtime) -> None:
    a = await make_org(runtime, "Anand Textiles")
    b = await make_org(runtime, "Bose Bakery")
    membership = await join(runtime, a.owner, b.org)
    await browser_sign_in(client, a.owner.email)
    await form_post(client, "/switch-organization", {"organization_id": str(b.org.id)}, page="/")
    response = await client.delete(f"/v1/members/{membership.id}", headers=b.auth)
    assert response.status_code == 204
    home = await client.get("/")
    assert home.status_code == 200 and '<h1 class="h3 mb-4">Anand Textiles</h1>' in home.text
