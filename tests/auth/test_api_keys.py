from __future__ import annotations

from tests.support.factories import make_org


async def test_me_returns_the_keys_organization_and_scopes(client, runtime) -> None:
    a = await make_org(runtime, "Alpha Traders", scopes=["members:read", "teams:read"])
    response = await client.get("/v1/me", headers=a.auth)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["organization"]["name"] == "Alpha Traders"
    assert body["scopes"] == ["members:read", "teams:read"]
    assert body["api_key_prefix"] == a.api_key[:12]  # "sdk_" + 8 characters (which may include "_")


async def test_missing_or_bad_key_is_401_json(client) -> None:
    for headers in ({}, {"Authorization": "Bearer sdk_nope_nope"}, {"Authorization": "Basic abc"}):
        response = await client.get("/v1/me", headers=headers)
        assert response.status_code == 401
        assert set(response.json()["error"]) == {"code", "message", "details"}


async def test_key_without_scope_gets_403(client, runtime) -> None:
    a = await make_org(runtime, scopes=["teams:read"])
    response = await client.get("/v1/members", headers=a.auth)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


async def test_revoked_key_stops_working(client, runtime) -> None:
    a = await make_org(runtime)
    created = await client.post("/v1/api-keys", json={"name": "ci", "scopes": ["teams:read"]}, headers=a.auth)
    assert created.status_code == 201
    key = created.json()["key"]
    assert (await client.get("/v1/teams", headers={"Authorization": f"Bearer {key}"})).status_code == 200
    revoked = await client.delete(f"/v1/api-keys/{created.json()['id']}", headers=a.auth)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert (await client.get("/v1/teams", headers={"Authorization": f"Bearer {key}"})).status_code == 401
