"""Support for the consent tests: a sandbox virtual customer writes to the shop's number (tests/template's in-process
shop: the sandbox's webhooks come back into this app, jobs drained by hand), and what each side then holds."""

from __future__ import annotations

from typing import Any

from softdukan.contact.consent_models import InboundConsentAction
from softdukan.contact.models import Contact, ContactEvent
from softdukan.conversation.models import Message
from softdukan.platform.uow import unit_of_work
from softdukan.sandbox.simulator import actions
from tests.support.whatsapp import rows
from tests.template.conftest import Shop

CUSTOMER = "919812355001"


async def says(shop: Shop, text: str, wa_id: str = CUSTOMER) -> str:
    """The virtual customer writes `text`; the webhook is delivered and routed (and any reply sent). Its wamid."""
    return await sends(shop, {"type": "text", "text": {"body": text}}, wa_id)


async def bind(shop: Shop) -> None:
    """Jobs drained in this test reach the in-process sandbox through the app a Graph-calling /v1 route binds
    (number/graph.py `bind_local_app`, in the test's context): make one such request first."""
    assert (await shop.client.get("/v1/templates", headers=shop.org.auth)).status_code == 200


async def sends(shop: Shop, message: dict[str, Any], wa_id: str = CUSTOMER, context: dict[str, Any] | None = None
                ) -> str:
    await bind(shop)
    response = await shop.client.post(f"/sandbox/graph/_sandbox/customers/{wa_id}/messages", json={
        "phone_number_id": shop.number.phone_number_id, "message": message,
        **({"context": context} if context else {})})
    assert response.status_code == 200, response.text
    await shop.settle()
    return str(response.json()["wamid"])


async def taps(shop: Shop, wamid: str, choice: int, wa_id: str = CUSTOMER) -> str:
    """The customer taps button `choice` of the template message `wamid` on their phone (the sandbox builds the
    `button` message WhatsApp sends, context included)."""
    await bind(shop)
    async with unit_of_work(shop.runtime) as uow:
        tapped = await actions.tap(uow, wa_id, shop.number.phone_number_id, wamid=wamid, choice=str(choice))
    await shop.settle()
    return tapped


async def received(shop: Shop, wa_id: str = CUSTOMER) -> list[str]:
    """The texts the customer's phone got from the shop (the sandbox's record, not ours)."""
    response = await shop.client.get(f"/sandbox/graph/_sandbox/customers/{wa_id}/thread",
                                     params={"phone_number_id": shop.number.phone_number_id})
    if response.status_code == 404:
        return []
    assert response.status_code == 200, response.text
    return [str(((m.get("payload") or {}).get("text") or {}).get("body", f"[{m.get('type')}]"))
            for m in response.json()["data"] if m["direction"] == "out"]


async def contact(shop: Shop, wa_id: str = CUSTOMER) -> Contact:
    [found] = await rows(shop.runtime, Contact, Contact.organization_id == shop.org.org.id, Contact.wa_id == wa_id)
    return found


async def consent_events(shop: Shop, contact_id: int) -> list[tuple[str, str | None]]:
    return [(e.kind, e.source) for e in await rows(shop.runtime, ContactEvent, ContactEvent.contact_id == contact_id)]


async def inbound(shop: Shop, wamid: str) -> Message:
    [found] = await rows(shop.runtime, Message, Message.wamid == wamid)
    return found


async def consent_action(shop: Shop, message_id: int) -> InboundConsentAction | None:
    found = await rows(shop.runtime, InboundConsentAction, InboundConsentAction.message_id == message_id)
    return found[0] if found else None


async def outbound_texts(shop: Shop) -> list[str]:
    """Our outbound rows' texts for the shop (what the send path recorded)."""
    return [str(m.content.get("body")) for m in await rows(shop.runtime, Message, Message.direction == "out",
                                                           Message.organization_id == shop.org.org.id)]
