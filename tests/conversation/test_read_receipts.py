"""Read receipts over real HTTP: opening a thread with unread messages (page or API) tells Meta (the sandbox),
and the customer's message turns read on their phone; a thread without unread messages sends nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from softdukan.conversation.receipts import READ_TASK
from softdukan.platform.jobs.models import Job
from tests.conversation.live import Live, open_window, wait_for
from tests.support.factories import browser_sign_in


async def _customer_message_status(live: Live, wamid: str) -> str:
    (message,) = [m for m in await live.thread() if m["wamid"] == wamid]
    return str(message["status"])


async def _receipt_jobs(live: Live) -> int:
    async with live.runtime.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(Job).where(Job.name == READ_TASK)) or 0)


async def test_opening_the_thread_marks_the_customers_message_read(live: Live) -> None:
    conversation = await open_window(live)
    (inbound,) = [m for m in await live.thread() if m["direction"] == "in"]
    assert inbound["status"] != "read"
    await browser_sign_in(live.http, live.org.owner.email)
    page = await live.http.get(f"/conversations/{conversation.id}")
    assert page.status_code == 200

    async def read() -> Any:
        return await _customer_message_status(live, inbound["wamid"]) == "read"

    await wait_for(read, "the customer's message to show read")
    assert await _receipt_jobs(live) == 1
    # opened again with nothing unread: no second receipt
    assert (await live.http.get(f"/conversations/{conversation.id}")).status_code == 200
    assert await _receipt_jobs(live) == 1


async def test_the_api_marks_a_conversation_read(live: Live) -> None:
    conversation = await open_window(live)
    (inbound,) = [m for m in await live.thread() if m["direction"] == "in"]
    response = await live.http.post(f"/v1/conversations/{conversation.id}/read", headers=live.org.auth)
    assert response.status_code == 200, response.text
    assert response.json()["unread_count"] == 0

    async def read() -> Any:
        return await _customer_message_status(live, inbound["wamid"]) == "read"

    await wait_for(read, "the customer's message to show read")
