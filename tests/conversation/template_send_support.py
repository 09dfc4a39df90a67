"""Support for the template-send tests: the in-process shop of tests/template (a sandbox number, the sandbox's
webhooks routed back into this app, a frozen clock), approved templates, and what the sandbox received."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from softdukan.conversation.models import Message
from softdukan.conversation.send import SEND_TASK
from softdukan.platform.jobs.models import Job
from tests.template.conftest import Shop, order_shipped

FRESH = "919812377001"  # a number that never wrote: its window is closed


def offer(name: str = "diwali_offer") -> dict[str, Any]:
    """A marketing template with named variables."""
    return {"name": name, "language": "en", "category": "MARKETING", "parameter_format": "NAMED",
            "components": [
                {"type": "BODY", "text": "Hi {{first_name}}, {{discount}} off all teas this Diwali!",
                 "example": {"body_text_named_params": [{"param_name": "first_name", "example": "Asha"},
                                                        {"param_name": "discount", "example": "20%"}]}},
                {"type": "FOOTER", "text": "Reply STOP to opt out"}]}


async def approved(shop: Shop, definition: dict[str, Any] | None = None) -> dict[str, Any]:
    """Submitted through /v1/templates and approved by the sandbox's review (its webhook routed here)."""
    response = await shop.client.post("/v1/templates", json=definition or order_shipped(), headers=shop.org.auth)
    assert response.status_code == 201, response.text
    await shop.settle(seconds=61)
    template = await shop.template(response.json()["id"])
    assert template.status == "APPROVED"
    return response.json()  # type: ignore[no-any-return]


async def sandbox_outbound(shop: Shop, wa_id: str) -> list[dict[str, Any]]:
    """What the sandbox (playing Meta) received for this customer from the shop's number."""
    response = await shop.client.get(f"/sandbox/graph/_sandbox/customers/{wa_id}/thread",
                                     params={"phone_number_id": shop.number.phone_number_id})
    if response.status_code == 404:
        return []
    assert response.status_code == 200, response.text
    return [m for m in response.json()["data"] if m["direction"] == "out"]


async def outbound_counts(shop: Shop) -> tuple[int, int]:
    """(outbound message rows, send jobs) of the shop's organization."""
    async with shop.runtime.sessionmaker() as session:
        rows = await session.scalar(select(func.count()).select_from(Message).where(
            Message.direction == "out", Message.organization_id == shop.org.org.id))
        jobs = await session.scalar(select(func.count()).select_from(Job).where(Job.name == SEND_TASK))
    return int(rows or 0), int(jobs or 0)


def shipped_values() -> dict[str, str]:
    return {"header.1": "#1042", "body.1": "Asha", "body.2": "#1042", "body.3": "Friday", "button.0": "1042"}


async def send(shop: Shop, template: dict[str, Any], *, to: str = FRESH, headers: dict[str, str] | None = None,
               **extra: Any) -> Any:
    return await shop.client.post("/v1/messages", headers={**shop.org.auth, **(headers or {})}, json={
        "phone_number_id": shop.number.id, "to": to, "type": "template", "template": template, **extra})
