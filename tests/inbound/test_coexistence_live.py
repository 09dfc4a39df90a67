"""Coexistence end to end over real HTTP: the product asks the sandbox (as Meta) for the Business app's history,
the sandbox sends `history` and `smb_app_state_sync` webhooks to /webhooks/whatsapp, and routing imports them
without opening a customer-service window; the app's own replies arrive as echoes."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select

from softdukan.contact.models import Contact
from softdukan.conversation.models import Conversation, Message
from softdukan.number.models import PhoneNumber
from softdukan.number.provision import provision_sandbox_number
from softdukan.platform.runtime import build_runtime
from softdukan.platform.uow import unit_of_work
from tests.support.factories import make_org
from tests.support.polling import eventually


async def test_history_import_from_the_sandbox_lands_in_conversations(runtime, live_server) -> None:  # type: ignore[no-untyped-def]
    live = build_runtime(live_server.settings)
    try:
        org = await make_org(live, "Kirana Coexist")
        async with unit_of_work(live) as uow:
            _, number = await provision_sandbox_number(uow, org.org.id, business_name="Kirana Coexist",
                                                       coexistence=True)
        async with httpx.AsyncClient(base_url=live_server.url, timeout=20) as http:
            profile = {"history_delay_seconds": 0, "history_customers": 2, "history_messages_per_customer": 3,
                       "retry_schedule_seconds": [0.2, 0.4]}
            assert (await http.put("/sandbox/graph/_sandbox/profile", json=profile)).status_code == 200
            response = await http.post(f"/v1/phone-numbers/{number.id}/history-import", headers=org.auth,
                                       json={"accept": True})
            assert response.status_code == 200, response.text

            async def imported() -> bool:
                async with live.sessionmaker() as session:
                    phone = await session.get(PhoneNumber, number.id)
                    return phone is not None and phone.history_import == "done"

            await eventually(imported, what="the history import to finish")

            async def all_history() -> bool:  # chunks are separate webhooks: the last may be routed first
                async with live.sessionmaker() as session:
                    return int(await session.scalar(select(func.count()).select_from(Message).where(
                        Message.organization_id == org.org.id, Message.origin == "history")) or 0) >= 6

            await eventually(all_history, what="every history message")
            async with live.sessionmaker() as session:
                history = (await session.execute(select(Message).where(
                    Message.organization_id == org.org.id, Message.origin == "history"))).scalars().all()
                conversations = (await session.execute(select(Conversation).where(
                    Conversation.organization_id == org.org.id))).scalars().all()
            assert len(history) == 6 and {m.direction for m in history} == {"in", "out"}
            assert len(conversations) == 2
            assert all(c.csw_expires_at is None and c.unread_count == 0 for c in conversations)

            # the business answers from the app: an echo, recorded as sent from the app
            wa_id = (await session_contact_wa_id(live, org.org.id))
            path = f"/sandbox/graph/_sandbox/phone-numbers/{number.phone_number_id}/business-app-messages"
            echo = await http.post(path, json={"to": wa_id,
                                               "message": {"type": "text", "text": {"body": "Sent from the app"}}})
            assert echo.status_code == 200, echo.text

            async def echoed() -> int:
                async with live.sessionmaker() as session:
                    return int(await session.scalar(select(func.count()).select_from(Message).where(
                        Message.organization_id == org.org.id, Message.origin == "business_app")) or 0)

            assert await eventually(echoed, what="the app's echo to be routed") == 1
    finally:
        await live.close()


async def session_contact_wa_id(live, organization_id: int) -> str:  # type: ignore[no-untyped-def]
    async with live.sessionmaker() as session:
        contact = (await session.execute(select(Contact).where(Contact.organization_id == organization_id)
                                         .order_by(Contact.id))).scalars().first()
    assert contact is not None
    return contact.wa_id
