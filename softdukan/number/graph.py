"""How the numbers domain talks to Meta: a Graph client per account, and the sandbox's control API.

The control API (`{graph_url}/_sandbox/…`) is not Meta's: in sandbox mode it plays the parts Meta runs in
the browser (the embedded-signup popup) or on a phone (the SMS or voice code), so the wizard walks the same
steps against the sandbox as against Meta.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

import httpx
from fastapi import Request

from softdukan.config import Settings
from softdukan.whatsapp.client.http import ssl_context
from softdukan.whatsapp.errors import error_from_response

if TYPE_CHECKING:
    from softdukan.number.models import WhatsAppAccount
    from softdukan.platform.runtime import Runtime
    from softdukan.whatsapp.client import GraphClient

TIMEOUT = httpx.Timeout(20.0, connect=5.0)

# The app serving this request, when it also serves the embedded sandbox (set by `bind_local_app`).
_local_app: ContextVar[Any] = ContextVar("softdukan_local_graph_app", default=None)


async def bind_local_app(request: Request) -> None:
    """Router dependency of the numbers pages and API: in the embedded sandbox shape (no GRAPH_API_URL), calls to
    the sandbox go to this same app in-process instead of out to BASE_URL and back, which a server behind a
    proxy (or a test client) may not be able to reach. Jobs, which have no request, use real HTTP."""
    _local_app.set(request.app)


class _OwnContext:
    """Runs the in-process request in its own task, so what it sets in context variables (the CSRF token of
    the page being rendered, the request's web context) does not leak back into the calling request."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await asyncio.create_task(self.app(scope, receive, send))


def _local_http(settings: Settings) -> httpx.AsyncClient | None:
    app = _local_app.get()
    if app is None or settings.graph_api_url is not None or not settings.sandbox:
        return None
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=_OwnContext(app)), timeout=TIMEOUT)


@asynccontextmanager
async def graph_client(settings: Settings, access_token: str) -> AsyncIterator[GraphClient]:
    from softdukan.whatsapp.client import GraphClient

    http = _local_http(settings)
    try:
        async with GraphClient(base_url=settings.graph_url, version=settings.graph_api_version,
                               access_token=access_token, http=http) as client:
            yield client
    finally:
        if http is not None:
            await http.aclose()


LANE_CONNECTIONS = 256  # as many as a dispatcher has requests in flight (broadcast/attempts.py IN_FLIGHT)


@asynccontextmanager
async def account_lanes(runtime: Runtime, account: WhatsAppAccount, lanes: int) -> AsyncIterator[list[Any]]:
    """Senders for many concurrent sends of one account (broadcasts): LeanSenders (whatsapp/client/lean.py), each
    with its own pool of persistent connections, with GraphClient's `send`. In-process sandbox tests get the one
    local client."""
    from softdukan.whatsapp.client import GraphClient
    from softdukan.whatsapp.client.lean import LeanSender

    settings, token = runtime.settings, runtime.secrets.open(account.access_token_sealed)
    local = _local_http(settings)
    if local is not None:
        try:
            yield [GraphClient(base_url=settings.graph_url, version=settings.graph_api_version, access_token=token,
                               http=local)]
        finally:
            await local.aclose()
        return
    senders = [LeanSender(base_url=settings.graph_url, version=settings.graph_api_version, access_token=token,
                          connections=LANE_CONNECTIONS) for _ in range(max(1, lanes))]
    try:
        yield senders
    finally:
        for sender in senders:
            await sender.aclose()


def account_client(runtime: Runtime, account: WhatsAppAccount) -> Any:
    """`async with account_client(runtime, account) as client:` acting with the account's business token."""
    return graph_client(runtime.settings, runtime.secrets.open(account.access_token_sealed))


def webhook_url(settings: Settings) -> str:
    return f"{settings.base_url.rstrip('/')}/webhooks/whatsapp"


class SandboxControl:
    """The sandbox's control API over HTTP (the same process serves it at /sandbox/graph when embedded)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.base = f"{settings.graph_url}/_sandbox"

    async def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        async with _local_http(self.settings) or httpx.AsyncClient(timeout=TIMEOUT, verify=ssl_context()) as http:
            response = await http.request(method, f"{self.base}{path}", json=body)
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if response.status_code >= 400:
            raise error_from_response(response.status_code, payload)
        return payload if isinstance(payload, dict) else {}

    async def register_app(self, app_id: str, secret: str, *, callback_url: str | None = None,
                           verify_token: str | None = None) -> None:
        body: dict[str, Any] = {"secret": secret}
        if callback_url:
            body["callback_url"] = callback_url
        if verify_token:
            body["verify_token"] = verify_token
        await self._call("PUT", f"/apps/{app_id}", body)

    async def signup(self, app_id: str, *, business_name: str, waba_name: str, coexistence_number: str | None = None
                     ) -> dict[str, Any]:
        """What FB.login's popup hands back: {code, business_id, waba_id, phone_number_id?}."""
        body: dict[str, Any] = {"app_id": app_id, "business_name": business_name, "waba_name": waba_name}
        if coexistence_number:
            body |= {"feature_type": "coexistence", "phone_number": coexistence_number}
        return await self._call("POST", "/signup", body)

    async def last_code(self, phone_number_id: str) -> str | None:
        """The last SMS/voice code the sandbox 'sent' to the number (shown as a hint in sandbox mode)."""
        payload = await self._call("GET", f"/phone-numbers/{phone_number_id}/code")
        code = payload.get("code")
        return code if isinstance(code, str) else None
