import httpx


async def test_live_server_answers_health(runtime, live_server) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{live_server.url}/healthz")
    assert response.status_code == 200
    assert response.json()["database"]["ok"] is True
    assert response.json()["jobs"]["EmbeddedRunner"]["running"] is True
