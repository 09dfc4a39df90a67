"""Schemathesis walks every /v1 operation of the OpenAPI schema with valid and invalid input.

The rule under test: bad input gets a clear error and no request produces a 500. Every response must be
below 500, and every error response must have the API's error body {"error": {"code", "message", "details"}}.
Nothing else is checked (documented status codes, response schemas, ... are other tests' business).

Schemathesis builds its test items when pytest imports this module, before any fixture exists, so the
schema comes from an app that never touches a database. The requests go to a second app (the
`fuzz_target` fixture, one per xdist worker) on its own migrated database, seeded with an organization
that has a member, a team, a custom role, an invitation and two API keys, so small fuzzed ids hit real
rows now and then. Both apps run in Schemathesis' own event-loop thread, which is why the database and
the seed are made with their own short-lived runtime and event loop. Generation is derandomized (the
same cases every run) and not shrunk (the database has moved on by then; the failure names the request).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from pydantic import TypeAdapter, ValidationError
from schemathesis.config import SchemathesisConfig
from schemathesis.errors import SchemathesisError
from sqlalchemy import select

from softdukan.auth.api_keys import api_key_service
from softdukan.auth.models import ApiKey
from softdukan.auth.roles import role_service
from softdukan.auth.service import auth_service
from softdukan.config import Settings
from softdukan.main import create_app
from softdukan.organization.models import Membership
from softdukan.organization.service import organization_service
from softdukan.platform.runtime import build_runtime
from softdukan.platform.uow import unit_of_work
from softdukan.team.service import team_service
from tests.support.databases import fresh_database
from tests.support.factories import PASSWORD, make_org

MAX_EXAMPLES = 30  # per operation and generation mode; the coverage phase adds its own boundary cases
ERROR_KEYS = {"code", "message", "details"}
_PATH_INT = TypeAdapter(int)
SECRET = "api-fuzz-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"


def _settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, redis_url=None, softdukan_secret_key=SECRET,
                    base_url="http://testserver", run_jobs_in_process=False, scheduler_in_process=False,
                    smtp_url=None)


# Only serves /openapi.json (built from the routes, no query): its engine never opens a connection.
_schema_app = create_app(_settings("sqlite+aiosqlite:///:memory:"), background=False)
_config = SchemathesisConfig.from_dict({"generation": {
    "mode": "all",  # schema-valid input and deliberately invalid input (wrong types, out of range, missing)
    # NUL is refused before any route (platform/input_guard.py, tested in test_form_fuzz.py): strings with
    # it would all end in that one 400 and crowd out the inputs that reach the routes
    "allow-x00": False,
    "with-security-parameters": False,  # the test sends the real key; a fuzzed one only ever gets a 401
}})
schema = schemathesis.openapi.from_asgi("/openapi.json", _schema_app, config=_config)


@dataclass(frozen=True)
class FuzzTarget:
    app: Any
    auth: dict[str, str]
    key_id: int  # the key the fuzzer authenticates with: it must not revoke it
    decoy_key_id: int  # revoked instead when a fuzzed DELETE aims at key_id


async def _seed(database_url: str) -> tuple[str, int, int]:
    runtime = build_runtime(_settings(database_url))
    try:
        org = await make_org(runtime, "Fuzz Target Ltd")
        async with unit_of_work(runtime) as uow:
            agent = next(r for r in await role_service.list(uow, org.subject) if r.name == "agent")
            await role_service.create(uow, org.subject, name="fuzz-role", description="seeded",
                                      permissions=["teams:read"])
            team = await team_service.create(uow, org.subject, name="Fuzz Team", description="seeded")
            await organization_service.invite(uow, org.subject, email="fuzz-invitee@example.com", role_id=agent.id)
            user = await auth_service.create_user(uow, email="fuzz-member@example.com", name="Fuzz Member",
                                                  password=PASSWORD, mobile=None)
            member = Membership(organization_id=org.org.id, user_id=user.id, role_id=agent.id,
                                created_at=uow.clock.now())
            uow.session.add(member)
            await uow.flush()
            await team_service.add_member(uow, org.subject, team.id, member.id)
            decoy = await api_key_service.create(uow, org.subject, name="decoy", scopes=["teams:read"])
            key_id = (await uow.session.execute(select(ApiKey.id).where(ApiKey.name == "test"))).scalar_one()
            decoy_id = decoy.api_key.id
        return org.api_key, key_id, decoy_id
    finally:
        await runtime.close()


@pytest.fixture(scope="module")
def fuzz_target(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> FuzzTarget:
    database_url = fresh_database(tmp_path_factory.mktemp("api-fuzz"), f"apifuzz_{worker_id}")
    secret, key_id, decoy_id = asyncio.run(_seed(database_url))
    # Its runtime is built here but first used in Schemathesis' event-loop thread, where the lifespan
    # (started on the first request) also closes it when the process exits.
    app = create_app(_settings(database_url), background=False)
    return FuzzTarget(app, {"Authorization": f"Bearer {secret}"}, key_id, decoy_id)


_idempotency_calls: dict[str, int] = {}


def _idempotency_headers(case: schemathesis.Case) -> dict[str, str]:
    """Some POSTs carry an Idempotency-Key: a new one, or the previous one again (a replay of the stored
    answer for the same request, a 422 for another). Counted per operation, so the choice is reproducible."""
    if case.method.upper() != "POST":
        return {}
    n = _idempotency_calls[case.path] = _idempotency_calls.get(case.path, 0) + 1
    operation = hashlib.sha256(case.path.encode()).hexdigest()[:12]
    if n % 4 == 2:
        return {"Idempotency-Key": f"fuzz-{operation}-{n}"}
    if n % 4 == 3:
        return {"Idempotency-Key": f"fuzz-{operation}-{n - 1}"}
    return {}


def _as_route_reads_it(value: Any) -> int | None:
    """The id a path segment means to the route: pydantic's lax int ("1", "+1", "01", "1.0" are all 1)."""
    try:
        return _PATH_INT.validate_python(str(value))
    except ValidationError:
        return None


def _check_error_body(response: Any, described: str) -> None:
    try:
        body = json.loads(response.content)
    except ValueError:
        pytest.fail(f"{response.status_code} error is not JSON: {response.content[:300]!r}\n{described}")
    error = body.get("error") if isinstance(body, dict) else None
    assert isinstance(error, dict) and set(error) >= ERROR_KEYS, (
        f"{response.status_code} error body lacks error.code/message/details: {body!r}\n{described}")
    assert isinstance(error["code"], str) and error["code"], described
    assert isinstance(error["message"], str) and error["message"], described


def _raised(exc: BaseException) -> BaseException:
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
          phases=[Phase.explicit, Phase.generate],  # no shrinking: the database moved on since the failure
          suppress_health_check=list(HealthCheck))
def test_api_never_fails_and_errors_have_the_error_shape(case: schemathesis.Case, fuzz_target: FuzzTarget) -> None:
    if (case.method.upper() == "DELETE" and case.path == "/v1/api-keys/{key_id}" and case.path_parameters
            and _as_route_reads_it(case.path_parameters.get("key_id")) == fuzz_target.key_id):
        case.path_parameters["key_id"] = fuzz_target.decoy_key_id  # keep the fuzzer's own key alive
    try:
        response = case.call(app=fuzz_target.app, headers={**fuzz_target.auth, **_idempotency_headers(case)})
    except SchemathesisError:
        raise
    except Exception as error:  # the app answered 500 and re-raised (Starlette's ServerErrorMiddleware)
        exc = _raised(error)
        raise AssertionError(f"500 (unhandled {type(exc).__name__}: {exc})\n{case.as_curl_command()}") from exc
    described = f"{response.request.method} {response.request.url}\n{case.as_curl_command()}"
    assert response.status_code < 500, f"{response.status_code}: {response.content[:500]!r}\n{described}"
    if response.status_code >= 400:
        _check_error_body(response, described)


# -- 500s the fuzzer found once, kept as regression tests (conftest fixtures: a fresh database per test) -----


async def test_fixed_5xx_second_team_with_the_same_non_ascii_name(client, runtime) -> None:  # type: ignore[no-untyped-def]
    org = await make_org(runtime)
    first = await client.post("/v1/teams", json={"name": "İstanbul"}, headers=org.auth)
    assert first.status_code == 201, first.text
    again = await client.post("/v1/teams", json={"name": "İstanbul"}, headers=org.auth)
    assert again.status_code == 409, f"{again.status_code}: expected team_name_taken"


async def test_fixed_5xx_role_name_that_lower_case_lengthens(client, runtime) -> None:  # type: ignore[no-untyped-def]
    org = await make_org(runtime)
    response = await client.post("/v1/roles", json={"name": "İ" * 60, "permissions": ["teams:read"]},
                                 headers=org.auth)
    assert response.status_code < 500, f"{response.status_code}: the database refused the lower-cased name"
    assert response.status_code == 422 or len(response.json()["name"]) <= 60, (
        "a role name longer than its 60-character column was stored")
