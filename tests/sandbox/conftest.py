"""Sandbox fixtures: the whole app on a real port, a webhook receiver on another, and a provisioned number."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from tests.support.services import LiveServer

APP_ID = "1234567890123456"
APP_SECRET = "sandbox-app-secret-0123456789abcdef"
VERIFY_TOKEN = "verify-me-please"
FAST = {"sent_after_seconds": 0.0, "delivered_after_seconds": 0.05, "read_after_seconds": 0.1,
        "delivery_ratio": 1.0, "read_ratio": 0.0, "template_review_delay_seconds": 0.0,
        "display_name_review_delay_seconds": 0.0, "retry_schedule_seconds": [0.2, 0.4, 0.8]}


@dataclass
class Receiver:
    """Records webhook POSTs (raw body + headers); answers `fail_next` of them with 500."""

    url: str = ""
    posts: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)
    handshakes: list[dict[str, str]] = field(default_factory=list)
    fail_next: int = 0
    verify_token: str = VERIFY_TOKEN

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(body) for body, _ in self.posts]

    def changes(self, field_name: str = "messages") -> list[dict[str, Any]]:
        return [change["value"] for body in self.bodies() for entry in body["entry"] for change in entry["changes"]
                if change["field"] == field_name]

    def statuses(self, wamid: str | None = None) -> list[dict[str, Any]]:
        found = [s for value in self.changes() for s in value.get("statuses", [])]
        return [s for s in found if wamid is None or s["id"] == wamid]

    async def wait(self, predicate: Any, within: float = 30.0) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if predicate():
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"timed out; received: {self.bodies()}")


def signature_ok(body: bytes, headers: dict[str, str], secret: str = APP_SECRET) -> bool:
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(headers.get("x-hub-signature-256", ""), expected)


@pytest.fixture
def receiver():  # type: ignore[no-untyped-def]
    state = Receiver()

    async def hook(request: Request) -> Response:
        if request.method == "GET":
            state.handshakes.append(dict(request.query_params))
            if request.query_params.get("hub.verify_token") == state.verify_token:
                return PlainTextResponse(request.query_params.get("hub.challenge", ""))
            return PlainTextResponse("forbidden", status_code=403)
        body = await request.body()
        state.posts.append((body, {k.lower(): v for k, v in request.headers.items()}))
        if state.fail_next > 0:
            state.fail_next -= 1
            return PlainTextResponse("boom", status_code=500)
        return PlainTextResponse("ok")

    server = LiveServer(lambda: Starlette(routes=[Route("/hook", hook, methods=["GET", "POST"])]))
    server.start()
    state.url = server.url + "/hook"
    yield state
    server.stop()


@dataclass
class Sandbox:
    http: httpx.AsyncClient
    base: str
    account: dict[str, Any]

    @property
    def graph(self) -> str:
        return self.base + "/v24.0"

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.account['access_token']}"}

    async def send(self, body: dict[str, Any], *, phone_number_id: str | None = None,
                   token: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else self.auth
        return await self.http.post(f"{self.graph}/{phone_number_id or self.account['phone_number_id']}/messages",
                                    json={"messaging_product": "whatsapp", **body}, headers=headers)

    async def text(self, to: str, body: str = "hello", **extra: Any) -> httpx.Response:
        return await self.send({"to": to, "type": "text", "text": {"body": body}, **extra})

    async def customer_says(self, wa_id: str, text: str = "hi", **extra: Any) -> str:
        response = await self.http.post(f"{self.base}/_sandbox/customers/{wa_id}/messages", json={
            "phone_number_id": self.account["phone_number_id"], "message": {"type": "text", "text": {"body": text}},
            **extra})
        assert response.status_code == 200, response.text
        return str(response.json()["wamid"])

    async def profile(self, **changes: Any) -> dict[str, Any]:
        response = await self.http.put(f"{self.base}/_sandbox/profile", json=changes)
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def template(self, name: str, body_text: str = "Hello {{1}}, your order is ready.", *,
                       category: str = "UTILITY", example: list[str] | None = None,
                       extra: list[dict[str, Any]] | None = None) -> str:
        components: list[dict[str, Any]] = [{"type": "BODY", "text": body_text}]
        if "{{" in body_text:
            components[0]["example"] = {"body_text": [example or ["Asha"]]}
        response = await self.http.post(f"{self.graph}/{self.account['waba_id']}/message_templates", headers=self.auth,
                                        json={"name": name, "language": "en_US", "category": category,
                                              "components": components + (extra or [])})
        assert response.status_code == 200, response.text
        return str(response.json()["id"])


@pytest.fixture
async def sandbox(runtime, live_server, receiver) -> AsyncIterator[Sandbox]:  # type: ignore[no-untyped-def]
    base = live_server.url + "/sandbox/graph"
    async with httpx.AsyncClient(timeout=60) as http:
        response = await http.put(f"{base}/_sandbox/profile", json=FAST)
        assert response.status_code == 200, response.text
        response = await http.post(f"{base}/_sandbox/provision", json={
            "app_id": APP_ID, "app_secret": APP_SECRET, "callback_url": receiver.url, "verify_token": VERIFY_TOKEN,
            "business_name": "Asha Stores", "verified_name": "Asha Stores", "display_phone_number": "919800000001"})
        assert response.status_code == 200, response.text
        yield Sandbox(http, base, response.json())


def assert_meta_error(response: httpx.Response, code: int, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"].startswith(f"(#{code}) ") or code in (100, 190)
    assert error["type"] == "OAuthException"
    assert isinstance(error["fbtrace_id"], str) and error["fbtrace_id"]
    assert "details" in error["error_data"]
    return dict(error)
