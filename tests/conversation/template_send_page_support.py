"""A conversation whose 24-hour window closed, for the template-send page tests (here and in tests/wallet)."""

from __future__ import annotations

from softdukan.conversation.models import Conversation
from tests.support.whatsapp import rows
from tests.template.conftest import Shop


async def closed_conversation_of(shop: Shop, customer: str) -> Conversation:
    """The customer wrote yesterday: the conversation exists, its window closed an hour ago."""
    response = await shop.client.post(f"/sandbox/graph/_sandbox/customers/{customer}/messages", json={
        "phone_number_id": shop.number.phone_number_id, "message": {"type": "text", "text": {"body": "Hello?"}}})
    assert response.status_code == 200, response.text
    await shop.settle()
    (conversation,) = await rows(shop.runtime, Conversation, Conversation.organization_id == shop.org.org.id)
    shop.clock.advance(hours=25)
    return conversation  # type: ignore[no-any-return]
