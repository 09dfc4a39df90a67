"""Support for the live send-path tests: the whole product on `live_server`, the sandbox as Meta.

The send path over real HTTP: the whole product on `live_server`, the sandbox as Meta, status webhooks back.

A customer writes first (the sandbox's control API), so the 24-hour window is open; `POST /v1/messages` then
goes through the send job to the sandbox and comes back delivered and read. Waiting is polling the database.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from softdukan.conversation.models import Conversation, Message
from softdukan.number.models import PhoneNumber
from softdukan.number.provision import provision_sandbox_number
from softdukan.platform.runtime import Runtime, build_runtime
from softdukan.platform.uow import unit_of_work
from tests.support.factories import OrgFixture, make_org
from tests.support.polling import eventually

CUSTOMER = "919812300001"
FAST = {"sent_after_seconds": 0.0, "delivered_after_seconds": 0.05, "read_after_seconds": 0.1,
        "delivery_ratio": 1.0, "read_ratio": 1.0, "retry_schedule_seconds": [0.2, 0.4, 0.8]}
DEADLINE = 20.0


@dataclass
class Live:
    http: httpx.AsyncClient
    runtime: Runtime  # the live server's settings, our own engine on the same database
    org: OrgFixture
    number: PhoneNumber

    async def customer_says(self, text: str, wa_id: str = CUSTOMER) -> str:
        response = await self.http.post(f"/sandbox/graph/_sandbox/customers/{wa_id}/messages", json={
            "phone_number_id": self.number.phone_number_id, "message": {"type": "text", "text": {"body": text}}})
        assert response.status_code == 200, response.text
        return str(response.json()["wamid"])

    async def thread(self, wa_id: str = CUSTOMER) -> list[dict[str, Any]]:
        response = await self.http.get(f"/sandbox/graph/_sandbox/customers/{wa_id}/thread",
                                       params={"phone_number_id": self.number.phone_number_id})
        assert response.status_code == 200, response.text
        return list(response.json()["data"])

    async def outbound_in_sandbox(self, wa_id: str = CUSTOMER) -> list[dict[str, Any]]:
        return [m for m in await self.thread(wa_id) if m["direction"] == "out"]

    async def message(self, message_id: int) -> Message:
        async with self.runtime.sessionmaker() as session:
            found = await session.get(Message, message_id)
        assert found is not None
        return found

    async def conversation(self, wa_id: str = CUSTOMER) -> Conversation | None:
        async with self.runtime.sessionmaker() as session:
            return (await session.execute(select(Conversation).where(
                Conversation.organization_id == self.org.org.id))).scalars().first()


async def wait_for(check: Callable[[], Awaitable[Any]], what: str) -> Any:
    return await eventually(check, what=what, within=DEADLINE)


@pytest.fixture
async def live(runtime, live_server) -> AsyncIterator[Live]:  # type: ignore[no-untyped-def]
    live_runtime = build_runtime(live_server.settings)
    org = await make_org(live_runtime, "Chai Point")
    async with unit_of_work(live_runtime) as uow:
        _, number = await provision_sandbox_number(uow, org.org.id, business_name="Chai Point")
    async with httpx.AsyncClient(base_url=live_server.url, timeout=20) as http:
        assert (await http.put("/sandbox/graph/_sandbox/profile", json=FAST)).status_code == 200
        yield Live(http, live_runtime, org, number)
    await live_runtime.close()


async def open_window(live: Live) -> Conversation:
    await live.customer_says("Is the shop open today?")

    async def window_open() -> Conversation | None:
        conversation = await live.conversation()
        return conversation if conversation is not None and conversation.csw_expires_at is not None else None

    return await wait_for(window_open, "the customer's message to be routed")  # type: ignore[no-any-return]


