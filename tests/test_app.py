from __future__ import annotations

import asyncio
import json
import subprocess

from tests.support.factories import make_org


async def test_healthz_reports_database_and_jobs(client) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"]["ok"] is True and "jobs" in body


async def test_openapi_describes_v1_only(client) -> None:
    schema = (await client.get("/openapi.json")).json()
    assert "/v1/me" in schema["paths"] and "/v1/teams/{team_id}" in schema["paths"]
    assert all(path.startswith("/v1") for path in schema["paths"])
    assert schema["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"


async def test_malformed_json_and_unknown_routes_get_json_errors(client, runtime) -> None:
    a = await make_org(runtime)
    response = await client.post("/v1/teams", content=b"{not json", headers={**a.auth,
                                                                            "content-type": "application/json"})
    assert response.status_code == 422 and response.json()["error"]["code"] == "validation_error"
    response = await client.get("/v1/nothing-here", headers=a.auth)
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    response = await client.put("/v1/teams/not-a-number", json={"name": "x"}, headers=a.auth)
    assert response.status_code == 422
    response = await client.patch("/v1/me", headers=a.auth)
    assert response.status_code == 405 and response.json()["error"]["code"] == "method_not_allowed"


def test_demo_json_prints_credentials(tmp_path, database_url) -> None:
    env = {"DATABASE_URL": database_url, "PATH": "/usr/bin:/bin", "BASE_URL": "http://127.0.0.1:8000"}
    first = subprocess.run([".venv/bin/softdukan", "demo", "--json"], capture_output=True, text=True, env=env,
                           check=True)
    second = subprocess.run([".venv/bin/softdukan", "demo", "--json"], capture_output=True, text=True, env=env,
                            check=True)
    a, b = json.loads(first.stdout), json.loads(second.stdout)
    assert {"base_url", "owner_email", "owner_password", "api_key"} <= set(a)
    assert a == b  # seeded once; the same credentials every time


async def test_demo_credentials_work_against_the_app(client, settings) -> None:
    env = {"DATABASE_URL": settings.database_url, "PATH": "/usr/bin:/bin",
           "SOFTDUKAN_SECRET_KEY": settings.softdukan_secret_key}
    done = await asyncio.to_thread(subprocess.run, [".venv/bin/softdukan", "demo", "--json"], capture_output=True,
                                   text=True, env=env, check=True)
    demo = json.loads(done.stdout)
    me = await client.get("/v1/me", headers={"Authorization": f"Bearer {demo['api_key']}"})
    assert me.status_code == 200 and me.json()["organization"]["name"] == demo["organization"]
    teams = (await client.get("/v1/teams", headers={"Authorization": f"Bearer {demo['api_key']}"})).json()
    assert {t["name"] for t in teams} == {"Customer Support", "Sales"}
    from tests.support.factories import browser_sign_in

    await browser_sign_in(client, demo["agent_email"], demo["agent_password"])
    home = await client.get("/")
    assert home.status_code == 200 and "agent" in home.text


async def test_nul_characters_are_refused_everywhere(client, runtime) -> None:
    a = await make_org(runtime)
    response = await client.post("/v1/teams", json={"name": "Bad\u0000Name"}, headers=a.auth)
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_characters"
    response = await client.get("/v1/audit-events", params={"actor": "a\x00b"}, headers=a.auth)
    assert response.status_code == 400
    response = await client.post("/sign-in", content=b"email=a%00b&password=x",
                                 headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 400
    assert (await client.get("/v1/teams", headers=a.auth)).json() == []


async def test_oversized_ids_are_422_not_a_database_overflow(client, runtime) -> None:
    a = await make_org(runtime)
    huge = "9" * 25
    for method, path, kwargs in (("GET", f"/v1/teams/{huge}", {}), ("DELETE", f"/v1/roles/{huge}", {}),
                                 ("GET", "/v1/audit-events", {"params": {"before_id": huge}}),
                                 ("POST", "/v1/invitations", {"json": {"email": "x@example.com", "role_id": 2**64}}),
                                 ("GET", "/v1/members/0", {})):
        response = await client.request(method, path, headers=a.auth, **kwargs)
        assert response.status_code == 422, (path, response.status_code)


async def test_percent_zero_zero_is_only_text_in_json(client, runtime) -> None:
    a = await make_org(runtime)
    response = await client.post("/v1/teams", json={"name": "Up to 50%00 off"}, headers=a.auth)
    assert response.status_code == 201 and response.json()["name"] == "Up to 50%00 off"
    literal = await client.post("/v1/teams", content=b'{"name": "back\\\\u0000slash"}',
                                headers={**a.auth, "content-type": "application/json"})
    assert literal.status_code == 201 and literal.json()["name"] == "back\\u0000slash"
