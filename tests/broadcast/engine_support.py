"""Support for the broadcast engine tests: the in-process shop of tests/template (a sandbox number whose webhooks
come back into this app, a frozen clock, jobs drained by hand), contacts, an approved template, a broadcast."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from softdukan.broadcast.models import Broadcast, BroadcastRecipient
from softdukan.broadcast.service import BroadcastInput, broadcast_service
from softdukan.contact.models import Contact
from softdukan.platform.uow import unit_of_work
from softdukan.sandbox.models import SandboxMessage
from tests.conversation.template_send_support import approved, offer
from tests.template.conftest import Shop

MAPPING = {"mapping": {"body.first_name": {"source": "field", "value": "first_name", "fallback": "there"},
                       "body.discount": {"source": "fixed", "value": "20%"}}}


def number(i: int) -> str:
    return f"9198{i:08d}"


async def add_contacts(shop: Shop, count: int, *, start: int = 0, **columns: Any) -> list[int]:
    now = shop.clock.now()
    async with unit_of_work(shop.runtime) as uow:
        rows = [Contact(organization_id=shop.org.org.id, wa_id=number(start + i), phone=number(start + i),
                        name=f"Customer {start + i}", first_seen_at=now, source="api", created_at=now,
                        updated_at=now, **{"attributes": {}, **columns}) for i in range(count)]
        uow.session.add_all(rows)
        await uow.flush()
        return [c.id for c in rows]


async def marketing_template(shop: Shop, name: str = "diwali_offer") -> int:
    return int((await approved(shop, offer(name)))["id"])


async def launch(shop: Shop, template_id: int, audience: dict[str, Any] | None = None, **extra: Any) -> int:
    async with unit_of_work(shop.runtime) as uow:
        broadcast = await broadcast_service.create(uow, shop.org.subject, BroadcastInput(
            name="Diwali", template_id=template_id, audience=audience or {"kind": "all"}, variables=MAPPING,
            **extra))
        await broadcast_service.launch(uow, shop.org.subject, broadcast.id)
        return broadcast.id


async def run_until_done(shop: Shop, broadcast_id: int, *, rounds: int = 60, step: float = 1.0) -> Broadcast:
    """Drain jobs and move the clock a second at a time until the broadcast is no longer sending."""
    for _ in range(rounds):
        await shop.drain()
        found = await broadcast(shop, broadcast_id)
        if found.status != "sending":
            return found
        shop.clock.advance(seconds=step)
    return await broadcast(shop, broadcast_id)


async def broadcast(shop: Shop, broadcast_id: int) -> Broadcast:
    async with shop.runtime.sessionmaker() as session:
        found = await session.get(Broadcast, broadcast_id)
    assert found is not None
    return found


async def recipients(shop: Shop, broadcast_id: int) -> dict[str, BroadcastRecipient]:
    async with shop.runtime.sessionmaker() as session:
        rows = (await session.execute(select(BroadcastRecipient).where(
            BroadcastRecipient.broadcast_id == broadcast_id))).scalars().all()
    return {r.wa_id: r for r in rows}


async def sandbox_received(shop: Shop) -> dict[str, int]:
    """wa_id → how many template messages the sandbox (playing Meta) accepted for it."""
    async with shop.runtime.sessionmaker() as session:
        rows = await session.execute(select(SandboxMessage.wa_id, func.count()).where(
            SandboxMessage.direction == "out", SandboxMessage.type == "template").group_by(SandboxMessage.wa_id))
    return {wa_id: int(n) for wa_id, n in rows}
