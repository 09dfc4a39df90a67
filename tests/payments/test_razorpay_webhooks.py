"""`POST /webhooks/razorpay`: signature over the raw body, stored once per event id, processed by a job that
runs the handlers registered with `@on_razorpay`. The first tests post signed bodies themselves and run the jobs
by hand; the last ones let the sandbox pay an order and deliver its webhooks to the live product."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import select, update

from softdukan.payments.entities import RazorpayEvent
from softdukan.payments.handlers import on_razorpay, remove_handler
from softdukan.payments.intake import PROCESS_TASK
from softdukan.payments.models import PaymentEvent
from softdukan.platform.jobs.models import DEAD, DONE, QUEUED, Job
from softdukan.platform.uow import UnitOfWork
from tests.support.polling import eventually

PATH = "/webhooks/razorpay"


def captured_body(payment_id: str = "pay_29QQoUBi66xm2f", event: str = "payment.captured") -> bytes:
    return orjson.dumps({
        "entity": "event", "account_id": "acc_BFQ7uQEaa7j2z7", "event": event, "contains": ["payment"],
        "created_at": 1691735748,
        "payload": {"payment": {"entity": {
            "id": payment_id, "entity": "payment", "amount": 118000, "currency": "INR", "status": "captured",
            "order_id": "order_DaZlswtdcn9UNV", "method": "upi", "captured": True, "amount_refunded": 0,
            "refund_status": None, "notes": {"topup_id": "01J9Z4W8K2"}, "acquirer_data": {"rrn": "322206890934"}}}}})


def headers(body: bytes, secret: str, event_id: str = "evt_000000000001") -> dict[str, str]:
    return {"Content-Type": "application/json", "X-Razorpay-Event-Id": event_id,
            "X-Razorpay-Signature": hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()}


class Recorder:
    def __init__(self) -> None:
        self.events: list[RazorpayEvent] = []
        self.fail_with: Exception | None = None

    async def __call__(self, uow: UnitOfWork, event: RazorpayEvent) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.events.append(event)


HANDLED = ("payment.captured", "order.paid", "payment.failed", "refund.processed")


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    recorder = Recorder()
    for event_type in HANDLED:
        on_razorpay(event_type)(recorder)
    yield recorder
    for event_type in HANDLED:
        remove_handler(event_type, recorder)


async def stored(runtime) -> list[PaymentEvent]:  # type: ignore[no-untyped-def]
    async with runtime.sessionmaker() as session:
        return list((await session.execute(select(PaymentEvent).order_by(PaymentEvent.id))).scalars().all())


async def jobs(runtime) -> list[Job]:  # type: ignore[no-untyped-def]
    async with runtime.sessionmaker() as session:
        query = select(Job).where(Job.name == PROCESS_TASK).order_by(Job.id)
        return list((await session.execute(query)).scalars().all())


async def test_a_signed_event_is_stored_processed_and_handled_once(client, runtime, settings, drain_jobs,
                                                                   recorder) -> None:  # type: ignore[no-untyped-def]
    body = captured_body()
    response = await client.post(PATH, content=body, headers=headers(body, settings.razorpay_signing_secret))
    assert response.status_code == 200 and response.json() == {"stored": True}
    [row] = await stored(runtime)
    assert (row.provider, row.event_id, row.event_type, row.processed_at) == (
        "razorpay", "evt_000000000001", "payment.captured", None)
    assert row.raw_body.encode() == body
    await drain_jobs()
    [event] = recorder.events
    assert (event.event_id, event.event, event.account_id) == ("evt_000000000001", "payment.captured",
                                                                "acc_BFQ7uQEaa7j2z7")
    assert event.payment is not None
    assert (event.payment.id, event.payment.amount, event.payment.status, event.payment.order_id) == (
        "pay_29QQoUBi66xm2f", 118000, "captured", "order_DaZlswtdcn9UNV")
    assert event.payment.notes == {"topup_id": "01J9Z4W8K2"} and event.order is None
    [row] = await stored(runtime)
    assert row.processed_at is not None and row.error is None and row.attempts == 1


async def test_a_replayed_event_id_changes_nothing(client, runtime, settings, drain_jobs,
                                                   recorder) -> None:  # type: ignore[no-untyped-def]
    body = captured_body()
    first = await client.post(PATH, content=body, headers=headers(body, settings.razorpay_signing_secret))
    await drain_jobs()
    replay = await client.post(PATH, content=body, headers=headers(body, settings.razorpay_signing_secret))
    assert first.json() == {"stored": True} and replay.status_code == 200 and replay.json() == {"stored": False}
    await drain_jobs()
    assert len(await stored(runtime)) == 1
    assert len(await jobs(runtime)) == 1
    assert len(recorder.events) == 1


@pytest.mark.parametrize("signature", ["forged", "missing", "other-secret", "other-body"])
async def test_a_bad_signature_is_400_and_stores_nothing(client, runtime, settings, signature: str,
                                                         recorder) -> None:  # type: ignore[no-untyped-def]
    body = captured_body()
    sent = headers(body, settings.razorpay_signing_secret)
    if signature == "forged":
        sent["X-Razorpay-Signature"] = "0" * 64
    elif signature == "missing":
        del sent["X-Razorpay-Signature"]
    elif signature == "other-secret":
        sent = headers(body, settings.razorpay_keys[1])  # the key secret is not the webhook secret
    else:
        sent = headers(captured_body("pay_SomeoneElse0001"), settings.razorpay_signing_secret)
    response = await client.post(PATH, content=body, headers=sent)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_signature"
    assert await stored(runtime) == [] and await jobs(runtime) == []


async def test_a_signed_body_without_event_id_or_event_is_400(client, runtime,
                                                              settings) -> None:  # type: ignore[no-untyped-def]
    body = captured_body()
    sent = headers(body, settings.razorpay_signing_secret)
    del sent["X-Razorpay-Event-Id"]
    assert (await client.post(PATH, content=body, headers=sent)).json()["error"]["code"] == "missing_event_id"
    for bad in (b"[1, 2]", b"not json", b'{"entity": "event"}'):
        response = await client.post(PATH, content=bad, headers=headers(bad, settings.razorpay_signing_secret))
        assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_payload"
    assert await stored(runtime) == []


async def test_an_unknown_event_type_is_processed_harmlessly(client, runtime, settings, drain_jobs,
                                                             recorder) -> None:  # type: ignore[no-untyped-def]
    body = orjson.dumps({"entity": "event", "event": "payment.dispute.created", "contains": ["dispute"],
                         "payload": {"dispute": {"entity": {"id": "disp_1", "amount": 100}}}, "created_at": 1})
    response = await client.post(PATH, content=body, headers=headers(body, settings.razorpay_signing_secret,
                                                                     "evt_unknown00001"))
    assert response.status_code == 200
    await drain_jobs()
    [row] = await stored(runtime)
    assert row.event_type == "payment.dispute.created" and row.processed_at is not None and row.error is None
    [job] = await jobs(runtime)
    assert job.status == DONE
    assert recorder.events == []


async def test_a_failing_handler_retries_then_dies_like_other_jobs(client, runtime, settings, drain_jobs,
                                                                   recorder) -> None:  # type: ignore[no-untyped-def]
    recorder.fail_with = RuntimeError("the wallet is locked")
    body = captured_body()
    await client.post(PATH, content=body, headers=headers(body, settings.razorpay_signing_secret))
    await drain_jobs()
    [job] = await jobs(runtime)
    assert (job.status, job.attempts) == (QUEUED, 1) and "the wallet is locked" in (job.last_error or "")
    [row] = await stored(runtime)
    assert row.processed_at is None and row.attempts == 1 and "the wallet is locked" in (row.error or "")

    async def due_now() -> None:
        async with runtime.sessionmaker() as session:
            await session.execute(update(Job).where(Job.id == job.id).values(run_at=runtime.clock.now()))
            await session.commit()

    for _ in range(job.max_attempts - 1):
        await due_now()
        await drain_jobs()
    [job] = await jobs(runtime)
    assert (job.status, job.attempts) == (DEAD, job.max_attempts)
    [row] = await stored(runtime)
    assert row.processed_at is None and row.attempts == job.max_attempts
    assert recorder.events == []


async def test_a_retry_after_the_cause_is_fixed_handles_it_once(client, runtime, settings, drain_jobs,
                                                                recorder) -> None:  # type: ignore[no-untyped-def]
    recorder.fail_with = RuntimeError("not yet")
    body = captured_body()
    await client.post(PATH, content=body, headers=headers(body, settings.razorpay_signing_secret))
    await drain_jobs()
    recorder.fail_with = None
    async with runtime.sessionmaker() as session:
        await session.execute(update(Job).where(Job.name == PROCESS_TASK).values(run_at=runtime.clock.now()))
        await session.commit()
    await drain_jobs()
    [row] = await stored(runtime)
    assert row.processed_at is not None and row.error is None and row.attempts == 2
    assert len(recorder.events) == 1


# -- end to end: the sandbox pays, signs and delivers; the live product verifies, stores and processes


async def _processed(runtime, count: int) -> list[PaymentEvent] | None:  # type: ignore[no-untyped-def]
    rows = await stored(runtime)
    return rows if len(rows) >= count and all(r.processed_at is not None for r in rows) else None


async def test_sandbox_webhooks_are_verified_and_handled(runtime, live_server,
                                                         recorder) -> None:  # type: ignore[no-untyped-def]
    from softdukan.payments.razorpay import RazorpayClient

    base = live_server.url + "/sandbox/razorpay/_sandbox"
    async with RazorpayClient.from_settings(live_server.settings) as razorpay, httpx.AsyncClient(timeout=20) as http:
        order = await razorpay.create_order(118000, receipt="topup_e2e", notes={"topup_id": "e2e"})
        paid = (await http.post(f"{base}/orders/{order.id}/pay")).json()
        rows = await eventually(lambda: _processed(runtime, 3), what="three processed events")
        assert sorted(r.event_type for r in rows) == ["order.paid", "payment.authorized", "payment.captured"]
        assert all(r.error is None for r in rows)
        handled = {e.event: e for e in recorder.events}
        assert set(handled) == {"payment.captured", "order.paid"}  # payment.authorized has no handler here
        assert handled["payment.captured"].payment is not None
        assert handled["payment.captured"].payment.id == paid["razorpay_payment_id"]
        order_paid = handled["order.paid"]
        assert order_paid.order is not None and order_paid.order.status == "paid"
        assert order_paid.order.notes == {"topup_id": "e2e"}

        # a replay from Razorpay's dashboard: delivered again, stored and handled once
        captured_id = handled["payment.captured"].event_id
        replay = (await http.post(f"{base}/events/{captured_id}/redeliver")).json()

        async def replay_delivered() -> Any:
            rows = (await http.get(f"{base}/deliveries")).json()["data"]
            return [d for d in rows if d["id"] == replay["id"] and d["status"] == "delivered"]

        await eventually(replay_delivered, what="the replay to be delivered")
        assert len(await stored(runtime)) == 3
        assert [e.event for e in recorder.events].count("payment.captured") == 1


async def test_sandbox_refund_and_unknown_events_reach_the_product(runtime, live_server,
                                                                   recorder) -> None:  # type: ignore[no-untyped-def]
    from softdukan.payments.razorpay import RazorpayClient

    base = live_server.url + "/sandbox/razorpay/_sandbox"
    async with RazorpayClient.from_settings(live_server.settings) as razorpay, httpx.AsyncClient(timeout=20) as http:
        order = await razorpay.create_order(100000)
        payment_id = (await http.post(f"{base}/orders/{order.id}/pay")).json()["razorpay_payment_id"]
        refund = await razorpay.refund(payment_id, amount=40000, idempotency_key="refund-e2e-000001")
        await http.post(f"{base}/events", json={"event": "settlement.processed", "payload": {}})
        rows = await eventually(lambda: _processed(runtime, 6), what="six processed events")
    assert {r.event_type for r in rows} >= {"refund.created", "refund.processed", "settlement.processed"}
    assert all(r.error is None for r in rows)
    [processed] = [e for e in recorder.events if e.event == "refund.processed"]
    assert processed.refund is not None and processed.payment is not None
    assert (processed.refund.id, processed.refund.amount, processed.refund.status) == (refund.id, 40000, "processed")
    assert (processed.payment.id, processed.payment.refund_status) == (payment_id, "partial")
