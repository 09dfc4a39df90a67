from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from softdukan.team.models import Team
from tests.support.factories import make_org


async def teams(runtime) -> int:  # type: ignore[no-untyped-def]
    async with runtime.sessionmaker() as session:
        return int((await session.execute(select(func.count()).select_from(Team))).scalar_one())


async def test_retry_with_the_same_key_replays_without_a_second_effect(client, runtime) -> None:
    a = await make_org(runtime)
    headers = {**a.auth, "Idempotency-Key": "create-sales-team-1"}
    first = await client.post("/v1/teams", json={"name": "Sales"}, headers=headers)
    second = await client.post("/v1/teams", json={"name": "Sales"}, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert await teams(runtime) == 1


async def test_same_key_other_body_is_422_and_errors_are_replayed_too(client, runtime) -> None:
    a = await make_org(runtime)
    headers = {**a.auth, "Idempotency-Key": "k-2"}
    assert (await client.post("/v1/teams", json={"name": "Ops"}, headers=headers)).status_code == 201
    other = await client.post("/v1/teams", json={"name": "Not Ops"}, headers=headers)
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_key_reused"
    dup = {**a.auth, "Idempotency-Key": "k-3"}
    conflict = await client.post("/v1/teams", json={"name": "Ops"}, headers=dup)
    assert conflict.status_code == 409
    assert (await client.post("/v1/teams", json={"name": "Ops"}, headers=dup)).json() == conflict.json()
    assert await teams(runtime) == 1


async def test_keys_are_per_api_key_and_concurrent_duplicates_run_once(client, runtime) -> None:
    a = await make_org(runtime)
    b = await make_org(runtime)
    assert (await client.post("/v1/teams", json={"name": "X"}, headers={**a.auth, "Idempotency-Key": "same"})
            ).status_code == 201
    assert (await client.post("/v1/teams", json={"name": "X"}, headers={**b.auth, "Idempotency-Key": "same"})
            ).status_code == 201
    results = await asyncio.gather(*(client.post("/v1/teams", json={"name": "Race"},
                                                 headers={**a.auth, "Idempotency-Key": "race"}) for _ in range(5)))
    assert sorted({r.status_code for r in results}) in ([201], [201, 409])
    async with runtime.sessionmaker() as session:
        races = (await session.execute(select(func.count()).select_from(Team).where(Team.name == "Race"))).scalar_one()
    assert races == 1


async def test_bad_key_is_400_and_missing_auth_is_not_stored(client, runtime) -> None:
    a = await make_org(runtime)
    response = await client.post("/v1/teams", json={"name": "Y"}, headers={**a.auth, "Idempotency-Key": "x" * 300})
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_idempotency_key"
    bad_key = {"Authorization": "Bearer sdk_wrong", "Idempotency-Key": "k"}
    assert (await client.post("/v1/teams", json={"name": "Y"}, headers=bad_key)).status_code == 401
    assert (await client.post("/v1/teams", json={"name": "Y"}, headers=bad_key)).status_code == 401
