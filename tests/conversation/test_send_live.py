"""The send path over real HTTP: the whole product on `live_server`, the sandbox as Meta, status webhooks back
(fixtures and helpers in tests/conversation/live.py)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from sqlalchemy import select

from softdukan.conversation.models import Message
from softdukan.conversation.send import resolve_target, send_message
from softdukan.conversation.tasks import send_message as send_job
from softdukan.number.models import WhatsAppAccount
from softdukan.platform.uow import unit_of_work
from softdukan.whatsapp.messages import TextMessage
from tests.conversation.live import DEADLINE, Live, open_window, wait_for
from tests.support.factories import browser_sign_in, csrf_from


async def test_reply_reaches_the_customer_and_comes_back_delivered_and_read(live: Live) -> None:
    conversation = await open_window(live)
    response = await live.http.post("/v1/messages", headers=live.org.auth, json={
        "conversation_id": conversation.id, "type": "text", "text": {"body": "Yes, until 9 pm!"}})
    assert response.status_code == 202, response.text
    message_id = response.json()["id"]

    async def read() -> Message | None:
        message = await live.message(message_id)
        return message if message.status == "read" else None

    message = await wait_for(read, "the message to be read")
    assert message.wamid and message.accepted_at and message.sent_at and message.delivered_at and message.read_at
    assert message.biz_opaque_callback_data == f"sdm:{message_id}"
    (sent,) = await live.outbound_in_sandbox()
    assert sent["wamid"] == message.wamid and sent["payload"]["text"]["body"] == "Yes, until 9 pm!"
    got = await live.http.get(f"/v1/messages/{message_id}", headers=live.org.auth)
    assert got.json()["status"] == "read" and got.json()["wamid"] == message.wamid


async def test_outside_the_window_nothing_is_sent(live: Live) -> None:
    await open_window(live)
    response = await live.http.post("/v1/messages", headers=live.org.auth, json={
        "phone_number_id": live.number.id, "to": "919812300002", "type": "text", "text": {"body": "Offer!"}})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "window_closed" and "template" in response.json()["error"]["message"]
    async with live.runtime.sessionmaker() as session:
        outbound = (await session.execute(select(Message).where(Message.direction == "out"))).scalars().all()
    assert outbound == []
    assert await live.outbound_in_sandbox() == []


async def test_the_send_job_never_sends_twice(live: Live) -> None:
    conversation = await open_window(live)
    async with unit_of_work(live.runtime) as uow:
        target = await resolve_target(uow, live.org.subject, conversation_id=conversation.id)
        row = await send_message(uow, live.org.subject, target=target, message=TextMessage("Only once"))
    args = {"org_id": live.org.org.id, "message_id": row.id}

    async def run_job() -> None:
        async with unit_of_work(live.runtime) as uow:
            await send_job(uow, **args)

    # the server's runner and two more runs at once: one claim wins, the others step aside
    await asyncio.gather(run_job(), run_job(), return_exceptions=True)

    async def accepted() -> Message | None:
        message = await live.message(row.id)
        return message if message.wamid else None

    message = await wait_for(accepted, "the message to be accepted")
    await run_job()  # again, after it was accepted
    await asyncio.sleep(0.5)
    assert [m["wamid"] for m in await live.outbound_in_sandbox() if m["payload"]["text"]["body"] == "Only once"] == [
        message.wamid]


async def test_a_permanent_refusal_fails_the_message_with_metas_code(live: Live) -> None:
    conversation = await open_window(live)
    async with unit_of_work(live.runtime) as uow:  # the business token was revoked at Meta
        account = await uow.session.get(WhatsAppAccount, live.number.account_id)
        assert account is not None
        account.access_token_sealed = live.runtime.secrets.seal("EAAG-revoked-token")
    response = await live.http.post("/v1/messages", headers=live.org.auth, json={
        "conversation_id": conversation.id, "type": "text", "text": {"body": "Hello"}})
    assert response.status_code == 202

    async def failed() -> Message | None:
        message = await live.message(response.json()["id"])
        return message if message.status == "failed" else None

    message = await wait_for(failed, "the message to fail")
    assert message.error_code == 190 and message.error_title and message.wamid is None
    assert await live.outbound_in_sandbox() == []


async def test_the_page_reply_shows_live_status_events_and_read_ticks(live: Live, live_server) -> None:  # type: ignore[no-untyped-def]
    """The agent replies from the page; the SSE stream carries the events the page re-renders on."""
    conversation = await open_window(live)
    events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    connected = asyncio.Event()
    async with httpx.AsyncClient(base_url=live_server.url, timeout=httpx.Timeout(DEADLINE, read=None)) as browser:
        await browser_sign_in(browser, live.org.owner.email)
        page = await browser.get(f"/conversations/{conversation.id}")
        assert page.status_code == 200 and "Is the shop open today?" in page.text

        async def read(response: httpx.Response) -> None:
            async for line in response.aiter_lines():
                if line == ": connected":
                    connected.set()
                elif line.startswith("data: "):
                    await events.put(json.loads(line.removeprefix("data: ")))

        async with browser.stream("GET", "/events") as stream:
            reader = asyncio.create_task(read(stream))
            try:
                await asyncio.wait_for(connected.wait(), DEADLINE)
                reply = await browser.post(f"/conversations/{conversation.id}/reply",
                                           data={"text": "Open till 9!", "csrf_token": csrf_from(page.text)},
                                           headers={"HX-Request": "true"})
                assert reply.status_code == 200, reply.text
                message_id = int(reply.text.split('data-message-id="', 1)[1].split('"', 1)[0])
                seen: list[str] = []
                while "read" not in seen:
                    event = await asyncio.wait_for(events.get(), DEADLINE)
                    data = event["data"]
                    if event["type"] == "message.status_changed" and data["message_id"] == message_id:
                        assert data["conversation_id"] == conversation.id
                        seen.append(data["status"])
            finally:
                reader.cancel()
                await asyncio.gather(reader, return_exceptions=True)
        assert seen[0] == "accepted" and seen[-1] == "read"
        bubble = await browser.get(f"/conversations/{conversation.id}/messages/{message_id}")
        assert 'data-status="read"' in bubble.text and "✓✓" in bubble.text
