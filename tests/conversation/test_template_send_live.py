"""A template sent over real HTTP: the whole product on `live_server` (its own runner), the sandbox as Meta. The
template is created and approved through the product and the sandbox's review webhook, then sent by
`POST /v1/messages` to a customer whose window is closed, and comes back delivered and read by status webhooks."""

from __future__ import annotations

from softdukan.conversation.models import Message
from softdukan.template.models import MessageTemplate
from tests.conversation.live import Live, wait_for
from tests.conversation.template_send_support import shipped_values
from tests.support.whatsapp import rows
from tests.template.conftest import order_shipped

NEVER_WROTE = "919812300077"


async def test_an_approved_template_reaches_a_customer_who_never_wrote_and_is_read(live: Live) -> None:
    assert (await live.http.put("/sandbox/graph/_sandbox/profile", json={
        "template_review_delay_seconds": 0.0})).status_code == 200
    created = await live.http.post("/v1/templates", json=order_shipped(), headers=live.org.auth)
    assert created.status_code == 201, created.text

    async def approved() -> MessageTemplate | None:
        (template,) = await rows(live.runtime, MessageTemplate, MessageTemplate.id == created.json()["id"])
        return template if template.status == "APPROVED" else None

    await wait_for(approved, "the sandbox's review webhook to approve the template")
    response = await live.http.post("/v1/messages", headers={**live.org.auth, "Idempotency-Key": "live-1"}, json={
        "phone_number_id": live.number.id, "to": NEVER_WROTE, "type": "template",
        "template": {"name": "order_shipped", "language": "en", "values": shipped_values()}})
    assert response.status_code == 202, response.text
    message_id = response.json()["id"]

    async def read() -> Message | None:
        message = await live.message(message_id)
        return message if message.status == "read" else None

    message = await wait_for(read, "the template to be delivered and read")
    assert message.wamid and message.content["category"] == "UTILITY"
    (sent,) = await live.outbound_in_sandbox(NEVER_WROTE)
    assert sent["wamid"] == message.wamid and sent["payload"]["template"]["name"] == "order_shipped"
    again = await live.http.post("/v1/messages", headers={**live.org.auth, "Idempotency-Key": "live-1"}, json={
        "phone_number_id": live.number.id, "to": NEVER_WROTE, "type": "template",
        "template": {"name": "order_shipped", "language": "en", "values": shipped_values()}})
    assert again.status_code == 202 and again.json()["id"] == message_id
    assert len(await live.outbound_in_sandbox(NEVER_WROTE)) == 1
