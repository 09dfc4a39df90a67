"""Roles and API keys pages."""

from __future__ import annotations

import re

import httpx

from tests.dashboard import add_member, form_post, has_inline_error, sign_in_as
from tests.support.factories import browser_sign_in, make_org


async def _roles(client: httpx.AsyncClient, org) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    return {r["name"]: r for r in (await client.get("/v1/roles", headers=org.auth)).json()}


async def _keys(client: httpx.AsyncClient, org) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    return {k["name"]: k for k in (await client.get("/v1/api-keys", headers=org.auth)).json()}


# -- roles ---------------------------------------------------------------------------------------------------

async def test_roles_page_for_owner_manager_and_agent(client, runtime) -> None:
    a = await make_org(runtime)
    manager, _ = await add_member(runtime, a, "manager")
    agent, _ = await add_member(runtime, a, "agent")
    await browser_sign_in(client, a.owner.email)
    page = await client.get("/settings/roles")
    assert page.status_code == 200
    for name in ("owner", "admin", "manager", "agent"):
        assert f'data-role="{name}"' in page.text
    assert 'id="role-create-form"' in page.text and 'value="members:write"' in page.text
    assert "API keys" in page.text  # permissions grouped by resource
    await sign_in_as(client, manager.email)
    page = await client.get("/settings/roles")
    assert page.status_code == 200 and 'data-role="agent"' in page.text
    assert 'id="role-create-form"' not in page.text and 'id="read-only-note"' in page.text
    await sign_in_as(client, agent.email)
    assert (await client.get("/settings/roles")).status_code == 403


async def test_create_role(client, runtime) -> None:
    a = await make_org(runtime)
    await browser_sign_in(client, a.owner.email)
    response = await form_post(client, "/settings/roles", {"name": "Support Lead", "description": "Runs support",
                                                           "permissions": ["teams:read", "teams:write"]})
    assert response.status_code == 303
    role = (await _roles(client, a))["support lead"]
    assert role["permissions"] == ["teams:read", "teams:write"] and role["description"] == "Runs support"
    assert response.headers["location"] == f"/settings/roles/{role['id']}?flash=role_created"
    page = await client.get(response.headers["location"])
    assert "The role was created." in page.text and 'id="role-edit-form"' in page.text
    assert re.search(r'value="teams:write"[^>]*checked', page.text)


async def test_create_role_bad_input_changes_nothing(client, runtime) -> None:
    a = await make_org(runtime)
    manager, _ = await add_member(runtime, a, "manager")
    await browser_sign_in(client, a.owner.email)
    none = await form_post(client, "/settings/roles", {"name": "Empty", "description": "kept"})
    assert none.status_code == 422 and has_inline_error(none.text, "permissions", "Choose one.")
    assert 'value="Empty"' in none.text and 'value="kept"' in none.text
    reserved = await form_post(client, "/settings/roles", {"name": "Admin", "permissions": ["teams:read"]})
    assert reserved.status_code == 409 and has_inline_error(reserved.text, "name", "Reserved.")
    assert re.search(r'value="teams:read"[^>]*checked', reserved.text)  # ticked boxes stay ticked
    unknown = await form_post(client, "/settings/roles", {"name": "X", "permissions": ["teams:read", "nuke:all"]})
    assert unknown.status_code == 422 and "nuke:all" in unknown.text
    long = await form_post(client, "/settings/roles", {"name": "Y", "description": "d" * 301,
                                                       "permissions": ["teams:read"]})
    assert long.status_code == 422 and has_inline_error(long.text, "description")
    no_csrf = await client.post("/settings/roles", data={"name": "Forged", "permissions": ["teams:read"]})
    assert no_csrf.status_code == 403
    await sign_in_as(client, manager.email)
    forbidden = await form_post(client, "/settings/roles", {"name": "Mine", "permissions": ["teams:read"]},
                                page="/settings/roles")
    assert forbidden.status_code == 403
    assert set(await _roles(client, a)) == {"owner", "admin", "manager", "agent"}


async def test_edit_and_delete_custom_role(client, runtime) -> None:
    a = await make_org(runtime)
    created = (await client.post("/v1/roles", json={"name": "helper", "permissions": ["teams:read"]},
                                 headers=a.auth)).json()
    await browser_sign_in(client, a.owner.email)
    path = f"/settings/roles/{created['id']}"
    bad = await form_post(client, path, {"name": "helper", "description": "", "permissions": []})
    assert bad.status_code == 422 and has_inline_error(bad.text, "permissions")
    assert (await _roles(client, a))["helper"]["permissions"] == ["teams:read"]
    saved = await form_post(client, path, {"name": "Helper Two", "description": "More",
                                           "permissions": ["teams:read", "members:read"]})
    assert saved.status_code == 303 and "The role was saved." in (await client.get(saved.headers["location"])).text
    role = (await _roles(client, a))["helper two"]
    assert role["permissions"] == ["members:read", "teams:read"] and role["description"] == "More"
    # a role in use can't be deleted
    _, member_id = await add_member(runtime, a, "helper two")
    in_use = await form_post(client, f"{path}/delete", {}, page=path)
    assert in_use.status_code == 409 and "Members still have this role" in in_use.text
    await client.put(f"/v1/members/{member_id}/role",
                     json={"role_id": (await _roles(client, a))["agent"]["id"]}, headers=a.auth)
    no_csrf = await client.post(f"{path}/delete")
    assert no_csrf.status_code == 403 and "helper two" in await _roles(client, a)
    deleted = await form_post(client, f"{path}/delete", {}, page=path)
    assert deleted.status_code == 303
    assert "The role was deleted." in (await client.get(deleted.headers["location"])).text
    assert "helper two" not in await _roles(client, a)
    assert (await client.get(path)).status_code == 404


async def test_builtin_roles_are_read_only(client, runtime) -> None:
    a = await make_org(runtime)
    roles = await _roles(client, a)
    await browser_sign_in(client, a.owner.email)
    page = await client.get(f"/settings/roles/{roles['agent']['id']}")
    assert page.status_code == 200 and 'id="read-only-note"' in page.text
    assert 'id="role-edit-form"' not in page.text and 'id="role-delete-form"' not in page.text
    edit = await form_post(client, f"/settings/roles/{roles['agent']['id']}",
                           {"name": "agent", "permissions": ["teams:read"]})
    assert edit.status_code == 403 and "Built-in roles can&#39;t be changed" in edit.text
    delete = await form_post(client, f"/settings/roles/{roles['agent']['id']}/delete", {},
                             page=f"/settings/roles/{roles['agent']['id']}")
    assert delete.status_code == 403
    assert (await _roles(client, a))["agent"]["permissions"] == roles["agent"]["permissions"]


async def test_another_organizations_role_is_404(client, runtime) -> None:
    a = await make_org(runtime)
    b = await make_org(runtime)
    secret = (await client.post("/v1/roles", json={"name": "b-only", "permissions": ["teams:read"]},
                                headers=b.auth)).json()
    await browser_sign_in(client, a.owner.email)
    page = await client.get(f"/settings/roles/{secret['id']}")
    assert page.status_code == 404 and "b-only" not in page.text
    edit = await form_post(client, f"/settings/roles/{secret['id']}", {"name": "x", "permissions": ["teams:read"]},
                           page="/settings/roles")
    assert edit.status_code == 404
    delete = await form_post(client, f"/settings/roles/{secret['id']}/delete", {}, page="/settings/roles")
    assert delete.status_code == 404
    assert (await _roles(client, b))["b-only"]["permissions"] == ["teams:read"]


# -- API keys ------------------------------------------------------------------------------------------------

async def test_api_keys_page_lists_keys_and_is_forbidden_to_agents(client, runtime) -> None:
    a = await make_org(runtime)
    agent, _ = await add_member(runtime, a, "agent")
    await browser_sign_in(client, a.owner.email)
    page = await client.get("/settings/api-keys")
    assert page.status_code == 200
    prefix = (await _keys(client, a))["test"]["prefix"]
    assert f'data-key-prefix="{prefix}"' in page.text and a.api_key not in page.text
    assert 'id="api-key-create-form"' in page.text and "Active" in page.text
    await sign_in_as(client, agent.email)
    assert (await client.get("/settings/api-keys")).status_code == 403


async def test_create_api_key_shows_it_once(client, runtime) -> None:
    a = await make_org(runtime)
    await browser_sign_in(client, a.owner.email)
    response = await form_post(client, "/settings/api-keys", {"name": "Shopify sync", "scopes": ["teams:read"]})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    match = re.search(r'id="api-key-secret"[^>]*value="(sdk_[^"]+)"', response.text)
    assert match and "shown only once" in response.text and 'id="copy-key"' in response.text
    secret = match.group(1)
    me = await client.get("/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200 and me.json()["scopes"] == ["teams:read"]
    listing = await client.get("/settings/api-keys")
    assert "Shopify sync" in listing.text and secret not in listing.text


async def test_create_api_key_bad_input_changes_nothing(client, runtime) -> None:
    a = await make_org(runtime)
    await browser_sign_in(client, a.owner.email)
    no_scope = await form_post(client, "/settings/api-keys", {"name": "Empty"})
    assert no_scope.status_code == 422 and has_inline_error(no_scope.text, "scopes")
    assert 'value="Empty"' in no_scope.text
    no_name = await form_post(client, "/settings/api-keys", {"name": "", "scopes": ["teams:read"]})
    assert no_name.status_code == 422 and has_inline_error(no_name.text, "name", "Key name is required.")
    unknown = await form_post(client, "/settings/api-keys", {"name": "X", "scopes": ["root:all"]})
    assert unknown.status_code == 422 and "root:all" in unknown.text
    no_csrf = await client.post("/settings/api-keys", data={"name": "Forged", "scopes": ["teams:read"]})
    assert no_csrf.status_code == 403
    assert list(await _keys(client, a)) == ["test"]


async def test_key_scopes_are_limited_to_the_creators_permissions(client, runtime) -> None:
    a = await make_org(runtime)
    keymaker, _ = await add_member(runtime, a, "key maker", permissions=["api_keys:read", "api_keys:write",
                                                                          "teams:read"])
    await browser_sign_in(client, keymaker.email)
    page = await client.get("/settings/api-keys")
    assert 'value="teams:read"' in page.text and 'value="members:write"' not in page.text
    refused = await form_post(client, "/settings/api-keys", {"name": "Too much", "scopes": ["members:write"]})
    assert refused.status_code == 403 and "scopes you don&#39;t have" in refused.text
    assert list(await _keys(client, a)) == ["test"]


async def test_revoke_api_key(client, runtime) -> None:
    a = await make_org(runtime)
    b = await make_org(runtime)
    created = (await client.post("/v1/api-keys", json={"name": "ci", "scopes": ["teams:read"]}, headers=a.auth)).json()
    b_key = (await _keys(client, b))["test"]
    auth = {"Authorization": f"Bearer {created['key']}"}
    await browser_sign_in(client, a.owner.email)
    page = await client.get("/settings/api-keys")
    assert f'action="/settings/api-keys/{created["id"]}/revoke"' in page.text and "data-confirm=" in page.text
    no_csrf = await client.post(f"/settings/api-keys/{created['id']}/revoke")
    assert no_csrf.status_code == 403 and (await client.get("/v1/me", headers=auth)).status_code == 200
    foreign = await form_post(client, f"/settings/api-keys/{b_key['id']}/revoke", {}, page="/settings/api-keys")
    assert foreign.status_code == 404 and (await client.get("/v1/me", headers=b.auth)).status_code == 200
    revoked = await form_post(client, f"/settings/api-keys/{created['id']}/revoke", {}, page="/settings/api-keys")
    assert revoked.status_code == 303
    page = await client.get(revoked.headers["location"])
    assert "The API key was revoked." in page.text and "Revoked" in page.text
    assert (await client.get("/v1/me", headers=auth)).status_code == 401
    again = await form_post(client, f"/settings/api-keys/{created['id']}/revoke", {}, page="/settings/api-keys")
    assert again.status_code == 409 and "already revoked" in again.text
