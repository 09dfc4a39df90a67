# ruff: noqa: F811  (the `shop` fixture of tests/template is imported by name and requested by name)
"""Consent is checked again when the send job runs: a message queued before the contact opted out (marketing) or
was blocked (anything) fails with the reason and never reaches WhatsApp."""

from __future__ import annotations

from softdukan.conversation.models import Message
from tests.conversation.template_send_support import (
    approved,
    offer,
    sandbox_outbound,
    send,
    shipped_values,
)
from tests.support.whatsapp import rows
from tests.template.conftest import Shop, shop  # noqa: F401  (fixture)

TO = "919812377031"


async def _queue(shop: Shop, template: dict[str, object]) -> int:
    response = await send(shop, template, to=TO)
    assert response.status_code == 202, response.text
    return int(response.json()["id"])


async def test_opted_out_or_blocked_after_queueing_is_not_sent(shop: Shop) -> None:
    await approved(shop)
    await approved(shop, offer())
    contact = (await shop.client.post("/v1/contacts", json={"phone": "+" + TO}, headers=shop.org.auth)).json()
    marketing = await _queue(shop, {"name": "diwali_offer", "language": "en",
                                    "values": {"body.first_name": "Asha", "body.discount": "20%"}})
    utility = await _queue(shop, {"name": "order_shipped", "language": "en", "values": shipped_values()})
    assert (await shop.client.post(f"/v1/contacts/{contact['id']}/opt-out", headers=shop.org.auth)).status_code == 200
    await shop.drain()

    by_id = {m.id: m for m in await rows(shop.runtime, Message, Message.id.in_([marketing, utility]))}
    assert by_id[marketing].status == "failed" and by_id[marketing].error_title == "Contact opted out"
    assert by_id[utility].status != "failed"  # an opt-out is from marketing only
    assert [m["payload"]["template"]["name"] for m in await sandbox_outbound(shop, TO)] == ["order_shipped"]

    later = await _queue(shop, {"name": "order_shipped", "language": "en", "values": shipped_values()})
    assert (await shop.client.post(f"/v1/contacts/{contact['id']}/block", headers=shop.org.auth)).status_code == 200
    await shop.drain()
    (blocked,) = await rows(shop.runtime, Message, Message.id == later)
    assert blocked.status == "failed" and blocked.error_title == "Contact blocked"
    assert len(await sandbox_outbound(shop, TO)) == 1
