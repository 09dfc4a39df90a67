"""Templates against the sandbox, in-process: an organization with a connected sandbox number, the sandbox's
webhooks delivered to this same app (`use_transport`), time moved by hand, jobs drained by hand."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from softdukan.kit.clock import FrozenClock
from softdukan.number.models import PhoneNumber, WhatsAppAccount
from softdukan.number.provision import provision_sandbox_number
from softdukan.platform.runtime import Runtime
from softdukan.platform.uow import unit_of_work
from softdukan.sandbox import service as sandbox
from softdukan.sandbox.graph.webhooks import use_transport
from softdukan.template.models import MessageTemplate
from tests.support.factories import OrgFixture, make_org
from tests.support.whatsapp import rows
from tests.support.whatsapp_fixtures import T0, clock, published  # noqa: F401  (fixtures)

GRAPH = "/sandbox/graph/v24.0"


def order_shipped(name: str = "order_shipped", **extra: Any) -> dict[str, Any]:
    """A valid utility template with a header variable, body variables, a footer and two buttons."""
    return {"name": name, "language": "en", "category": "UTILITY", "parameter_format": "POSITIONAL",
            "components": [
                {"type": "HEADER", "format": "TEXT", "text": "Order {{1}} is on its way",
                 "example": {"header_text": ["#1042"]}},
                {"type": "BODY", "text": "Hi {{1}}, your order {{2}} has shipped and arrives by {{3}}. Thank you!",
                 "example": {"body_text": [["Asha", "#1042", "Friday"]]}},
                {"type": "FOOTER", "text": "Chai Point, Bengaluru"},
                {"type": "BUTTONS", "buttons": [
                    {"type": "URL", "text": "Track order", "url": "https://chai.example/track/{{1}}",
                     "example": ["https://chai.example/track/1042"]},
                    {"type": "QUICK_REPLY", "text": "Stop updates"}]}],
            **extra}


@dataclass
class Shop:
    org: OrgFixture
    account: WhatsAppAccount
    number: PhoneNumber
    runtime: Runtime
    clock: FrozenClock
    client: httpx.AsyncClient
    drain: Callable[[], Awaitable[int]]

    async def settle(self, seconds: float = 0) -> None:
        """Let the sandbox review (after its delay) and its webhooks be routed."""
        await self.drain()
        if seconds:
            self.clock.advance(seconds=seconds)
            await self.drain()

    async def template(self, template_id: int) -> MessageTemplate:
        [row] = await rows(self.runtime, MessageTemplate, MessageTemplate.id == template_id)
        return row

    async def meta(self, action: str, template_meta_id: str, **body: Any) -> None:
        """The sandbox (playing Meta) acts on a template: approve, reject, pause, re-categorize…"""
        response = await self.client.post(f"/sandbox/graph/_sandbox/templates/{template_meta_id}/status",
                                          json={"status": action, **body})
        assert response.status_code == 200, response.text

    def token(self) -> str:
        return self.runtime.secrets.open(self.account.access_token_sealed)

    async def graph(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Call the sandbox's Graph API directly, as the business would in WhatsApp Manager."""
        return await self.client.request(method, f"{GRAPH}/{path}", headers={"Authorization": f"Bearer {self.token()}"},
                                         **kwargs)


@pytest.fixture
async def shop(runtime: Runtime, app: Any, client: httpx.AsyncClient, drain_jobs: Any, clock: FrozenClock  # noqa: F811
               ) -> AsyncIterator[Shop]:
    org = await make_org(runtime, "Chai Point")
    async with unit_of_work(runtime) as uow:
        account, number = await provision_sandbox_number(uow, org.org.id, business_name="Chai Point")
        await sandbox.update_profile(uow, {"template_review_delay_seconds": 60})
    use_transport(httpx.ASGITransport(app=app))
    try:
        yield Shop(org, account, number, runtime, clock, client, drain_jobs)
    finally:
        use_transport(None)


async def review_rules(runtime: Runtime, rules: list[dict[str, Any]]) -> None:
    async with unit_of_work(runtime) as uow:
        await sandbox.update_profile(uow, {"template_review_rules": rules})


__all__ = ["T0", "Shop", "order_shipped", "published", "review_rules"]
