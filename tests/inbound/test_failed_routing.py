"""An event that can't be routed stays stored with its attempts and error, is retried by the job system, and is
listed for staff with a retry button."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from softdukan.audit.models import AuditEvent
from softdukan.backoffice.service import create_staff_user
from softdukan.conversation.models import Message
from softdukan.inbound.models import InboundEvent
from softdukan.platform.jobs.models import DEAD, Job
from softdukan.platform.uow import unit_of_work
from tests.support.factories import csrf_from
from tests.support.whatsapp import envelope, make_outbound, messages_change, post_webhook, rows, status
from tests.support.whatsapp_fixtures import T0

STAFF_EMAIL, STAFF_PASSWORD = "inbound-staff@staff.example.com", "staff-Secret-passphrase-42"


@pytest.fixture
async def staff_client(app, settings, runtime) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    await create_staff_user(settings, email=STAFF_EMAIL, name="Sam Staff", password=STAFF_PASSWORD)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        page = await client.get("/backoffice/sign-in")
        signed = await client.post("/backoffice/sign-in", data={"email": STAFF_EMAIL, "password": STAFF_PASSWORD,
                                                                "csrf_token": csrf_from(page.text)})
        assert signed.status_code == 303, signed.text
        yield client


async def staff_post(client: httpx.AsyncClient, path: str) -> httpx.Response:
    page = await client.get("/backoffice/inbound")
    return await client.post(path, data={"csrf_token": csrf_from(page.text)})


async def deliver_status_for_unknown_message(client, wa) -> None:  # type: ignore[no-untyped-def]
    payload = envelope(wa.waba_id, [messages_change(wa, statuses=[status("wamid.early", "delivered", T0)])])
    assert (await post_webhook(client, payload)).status_code == 200


async def test_status_before_its_message_is_recorded_fails_then_is_retried(client, runtime, drain_jobs, wa,
                                                                          clock) -> None:
    await deliver_status_for_unknown_message(client, wa)
    await drain_jobs()
    [event] = await rows(runtime, InboundEvent)
    assert (event.state, event.attempts) == ("failed", 1)
    assert "MessageNotFoundYet" in (event.last_error or "") and "wamid.early" in (event.last_error or "")
    [job] = await rows(runtime, Job, Job.name == "inbound.route")
    assert job.status == "queued" and job.run_at > T0  # backoff

    # the send job records the wamid meanwhile; the retry finds the message
    mid = await make_outbound(runtime, wa, wamid="wamid.early")
    clock.advance(minutes=5)
    await drain_jobs()
    [event] = await rows(runtime, InboundEvent)
    assert (event.state, event.attempts, event.last_error) == ("routed", 2, None)
    [message] = await rows(runtime, Message, Message.id == mid)
    assert (message.status, message.delivered_at) == ("delivered", T0)


async def test_staff_see_failed_events_and_retry_them(client, runtime, drain_jobs, wa, clock,
                                                     staff_client) -> None:
    await deliver_status_for_unknown_message(client, wa)
    await drain_jobs()
    async with unit_of_work(runtime) as uow:  # the job system gave up on it
        job = (await rows(runtime, Job, Job.name == "inbound.route"))[0]
        db_job = await uow.session.get(Job, job.id)
        db_job.status = DEAD
    [event] = await rows(runtime, InboundEvent)

    page = await staff_client.get("/backoffice/inbound")
    assert page.status_code == 200
    assert f'id="event-{event.id}"' in page.text and "st:wamid.early:delivered" in page.text
    assert "MessageNotFoundYet" in page.text

    await make_outbound(runtime, wa, wamid="wamid.early")
    response = await staff_post(staff_client, f"/backoffice/inbound/{event.id}/retry")
    assert response.status_code == 303 and response.headers["location"] == "/backoffice/inbound?done=retried"
    await drain_jobs()
    [event] = await rows(runtime, InboundEvent)
    assert event.state == "routed"
    assert [a.action for a in await rows(runtime, AuditEvent, AuditEvent.action == "inbound_event.retried")] == [
        "inbound_event.retried"]
    page = await staff_client.get("/backoffice/inbound")
    assert 'id="no-events"' in page.text
    # retrying what is not failed any more is a clear error, not a second routing
    again = await staff_post(staff_client, f"/backoffice/inbound/{event.id}/retry")
    assert again.status_code == 404


async def test_backoffice_page_needs_a_staff_session(client, wa) -> None:
    response = await client.get("/backoffice/inbound")
    assert response.status_code in (302, 303) and response.headers["location"] == "/backoffice/sign-in"


async def test_number_not_connected_yet_is_retried_until_it_is(client, runtime, drain_jobs, wa, clock) -> None:
    change = messages_change(wa, messages=[{"from": "919812345678", "id": "wamid.n", "timestamp": "1756720800",
                                            "type": "text", "text": {"body": "hi"}}])
    change["value"]["metadata"]["phone_number_id"] = "777000777"  # a number still being onboarded
    assert (await post_webhook(client, envelope(wa.waba_id, [change]))).status_code == 200
    await drain_jobs()
    [event] = await rows(runtime, InboundEvent)
    assert event.state == "failed" and "777000777" in (event.last_error or "")
    clock.advance(hours=1)
    await drain_jobs()
    [event] = await rows(runtime, InboundEvent)
    assert event.state == "failed" and event.attempts == 2
    assert await rows(runtime, Message) == []
