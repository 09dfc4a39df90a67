"""Helpers for driving the Graph client against the sandbox over real HTTP (the whole app on `live_server`).

`SandboxMeta` talks to the sandbox control API (`/sandbox/graph/_sandbox/…`, not Meta's) to provision numbers,
play customers and read threads; `WebhookReceiver` is a tiny real HTTP server that answers the subscription
handshake and records what the sandbox posts, so the client's `subscribe_app` is tested end to end.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from softdukan.whatsapp.client import GraphClient
from tests.support.polling import eventually  # noqa: F401  (re-exported for the client tests)
from tests.support.services import LiveServer

VERIFY_TOKEN = "h1-verify-token"


@dataclass
class WebhookReceiver:
    verify_token: str = VERIFY_TOKEN
    posts: list[dict[str, Any]] = field(default_factory=list)
    handshakes: int = 0
    server: LiveServer | None = None

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            if request.method == "GET":
                q = request.query_params
                if q.get("hub.mode") == "subscribe" and q.get("hub.verify_token") == self.verify_token:
                    self.handshakes += 1
                    return PlainTextResponse(q.get("hub.challenge", ""))
                return PlainTextResponse("forbidden", status_code=403)
            try:
                self.posts.append(json.loads(await request.body()))
            except ValueError:
                self.posts.append({"unparsable": True})
            return PlainTextResponse("ok")

        return Starlette(routes=[Route("/hook", hook, methods=["GET", "POST"])])

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"{self.server.url}/hook"

    def start(self) -> None:
        app = self.app()
        self.server = LiveServer(lambda: app)
        self.server.start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()


@dataclass
class Number:
    business_id: str
    waba_id: str
    phone_number_id: str
    display_phone_number: str
    access_token: str


class SandboxMeta:
    """The sandbox control API plus a GraphClient factory pointed at the live server."""

    def __init__(self, live_server: Any, receiver: WebhookReceiver) -> None:
        self.settings = live_server.settings
        self.graph_url: str = self.settings.graph_url
        self.version: str = self.settings.graph_api_version
        self.app_id, self.app_secret = self.settings.platform_app
        self.receiver = receiver
        self.control = httpx.AsyncClient(base_url=f"{self.graph_url}/_sandbox", timeout=30)
        self._clients: list[GraphClient] = []

    async def aclose(self) -> None:
        for client in self._clients:
            await client.aclose()
        await self.control.aclose()

    def client(self, token: str | None) -> GraphClient:
        client = GraphClient(base_url=self.graph_url, version=self.version, access_token=token)
        self._clients.append(client)
        return client

    async def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.control.request(method, path, **kwargs)
        if response.status_code == 404 and "detail" in response.text and "Not Found" in response.text:
            raise AssertionError(
                f"sandbox control endpoint {method} /_sandbox{path} is not mounted (HTTP 404): is "
                "softdukan/sandbox/graph mounted at /sandbox/graph by create_app?"
            )
        assert 200 <= response.status_code < 300, f"{method} /_sandbox{path} → {response.status_code} {response.text}"
        return response.json() if response.content else None

    async def profile(self, **changes: Any) -> Any:
        return await self.call("PUT", "/profile", json=changes)

    async def provision(self, *, business_name: str = "H1 Test Shop", verified_name: str = "H1 Test Shop",
                        display_phone_number: str | None = None) -> Number:
        body: dict[str, Any] = {
            "app_id": self.app_id, "app_secret": self.app_secret, "callback_url": self.receiver.url,
            "verify_token": self.receiver.verify_token, "business_name": business_name,
            "verified_name": verified_name,
        }
        if display_phone_number is not None:
            body["display_phone_number"] = display_phone_number
        data = await self.call("POST", "/provision", json=body)
        return Number(str(data["business_id"]), str(data["waba_id"]), str(data["phone_number_id"]),
                      str(data["display_phone_number"]), str(data["access_token"]))

    async def upsert_app(self) -> None:
        await self.call("PUT", f"/apps/{self.app_id}", json={
            "secret": self.app_secret, "callback_url": self.receiver.url, "verify_token": self.receiver.verify_token})

    async def customer(self, wa_id: str, name: str = "Asha") -> None:
        await self.call("PUT", f"/customers/{wa_id}", json={"name": name})

    async def customer_says(self, wa_id: str, phone_number_id: str, text: str) -> str:
        data = await self.call("POST", f"/customers/{wa_id}/messages", json={
            "phone_number_id": phone_number_id, "message": {"type": "text", "text": {"body": text}}})
        return str(data["wamid"])

    async def thread(self, wa_id: str, phone_number_id: str) -> Any:
        return await self.call("GET", f"/customers/{wa_id}/thread", params={"phone_number_id": phone_number_id})

    async def last_code(self, phone_number_id: str) -> str:
        return str((await self.call("GET", f"/phone-numbers/{phone_number_id}/code"))["code"])


