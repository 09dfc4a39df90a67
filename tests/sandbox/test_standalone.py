"""The sandbox alone (what `softdukan sandbox` serves) in-process, its Python service API, and webhooks routed
to an ASGI receiver through `use_transport` while jobs are drained by hand."""

from __future__ import annotations

import json

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from softdukan.platform.uow import unit_of_work
from softdukan.sandbox import service
from softdukan.sandbox.app import create_sandbox_app
from softdukan.sandbox.graph.webhooks import use_transport
from tests.sandbox.conftest import FAST, signature_ok


async def test_standalone_app_service_functions_and_drained_webhooks(settings, runtime, drain_jobs) -> None:
    received: list[tuple[bytes, dict[str, str]]] = []

    async def hook(request: Request) -> PlainTextResponse:
        received.append((await request.body(), {k.lower(): v for k, v in request.headers.items()}))
        return PlainTextResponse("ok")

    receiver = Starlette(routes=[Route("/hook", hook, methods=["POST"])])
    use_transport(httpx.ASGITransport(app=receiver))
    try:
        async with unit_of_work(runtime) as uow:
            await service.update_profile(uow, {**FAST, "delivered_after_seconds": 0.0})
            account = await service.provision(uow, app_id="42", app_secret="app-secret-42",
                                              callback_url="http://receiver/hook", verify_token="v",
                                              business_name="Meena Sweets", verified_name="Meena Sweets")
            wamid = await service.customer_sends(uow, "919812300000", phone_number_id=account["phone_number_id"],
                                                 message={"type": "text", "text": {"body": "1 kg laddoo?"}})
        app = create_sandbox_app(settings, runtime=runtime, background=False)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox") as http:
            response = await http.post(f"/sandbox/graph/v25.0/{account['phone_number_id']}/messages", json={
                "messaging_product": "whatsapp", "to": "919812300000", "type": "text", "text": {"body": "Yes!"}},
                headers={"Authorization": f"Bearer {account['access_token']}"})
            assert response.status_code == 200, response.text
            assert (await http.get("/healthz")).json()["sandbox"] is True

        await drain_jobs()

        bodies = [json.loads(raw) for raw, _ in received]
        assert all(signature_ok(raw, headers, "app-secret-42") for raw, headers in received)
        values = [change["value"] for body in bodies for change in body["entry"][0]["changes"]]
        assert values[0]["messages"][0]["id"] == wamid
        kinds = [s["status"] for v in values for s in v.get("statuses", [])]
        assert kinds == ["sent", "delivered"]
        async with unit_of_work(runtime) as uow:
            thread = await service.thread(uow, "919812300000", phone_number_id=account["phone_number_id"])
        assert [(m["direction"], m["status"]) for m in thread] == [("in", "received"), ("out", "delivered")]
    finally:
        use_transport(None)
