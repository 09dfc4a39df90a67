"""Webhooks the Razorpay sandbox sends: each event is stored as a delivery (the exact bytes to sign) and POSTed
by the `sandbox.razorpay_deliver` job to the merchant's webhook URL with `X-Razorpay-Signature` (hex
HMAC-SHA256 of the body with the webhook secret) and `X-Razorpay-Event-Id`. A non-2xx answer or a timeout
schedules the next attempt on the merchant's backoff schedule; after the last one the delivery is `dead`.
A replay is a new delivery of the same event id and body, as Razorpay's dashboard does.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from typing import Any

import httpx
import orjson
import structlog

from softdukan.platform.uow import UnitOfWork
from softdukan.sandbox.graph.webhooks import http_client  # shares the tests' transport override
from softdukan.sandbox.razorpay.ids import new_id
from softdukan.sandbox.razorpay.models import SandboxRzpMerchant, SandboxRzpWebhookDelivery

log = structlog.get_logger(__name__)
DELIVER_TASK = "sandbox.razorpay_deliver"
SIGNATURE_HEADER = "X-Razorpay-Signature"
EVENT_ID_HEADER = "X-Razorpay-Event-Id"


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _queue(uow: UnitOfWork, merchant: SandboxRzpMerchant, *, event_id: str, event: str, body: str,
           entity_id: str | None) -> SandboxRzpWebhookDelivery:
    delivery = SandboxRzpWebhookDelivery(event_id=event_id, merchant_pk=merchant.id, event=event, entity_id=entity_id,
                                         body=body, status="pending", attempts=0, next_attempt_at=uow.clock.now(),
                                         created_at=uow.clock.now())
    uow.session.add(delivery)
    return delivery


async def queue_event(uow: UnitOfWork, merchant: SandboxRzpMerchant, event: str, payload: dict[str, Any], *,
                      entity_id: str | None = None) -> SandboxRzpWebhookDelivery | None:
    """`{"entity": "event", "account_id", "event", "contains", "payload", "created_at"}`, queued for delivery;
    None when the merchant has no webhook URL."""
    if not merchant.webhook_url:
        return None
    body = orjson.dumps({"entity": "event", "account_id": merchant.account_id, "event": event,
                         "contains": list(payload), "payload": payload,
                         "created_at": int(uow.clock.now().timestamp())}).decode()
    delivery = _queue(uow, merchant, event_id=new_id(), event=event, body=body, entity_id=entity_id)
    await uow.flush()
    uow.enqueue(DELIVER_TASK, delivery_id=delivery.id)
    return delivery


async def redeliver(uow: UnitOfWork, original: SandboxRzpWebhookDelivery) -> SandboxRzpWebhookDelivery:
    merchant = await uow.session.get(SandboxRzpMerchant, original.merchant_pk)
    assert merchant is not None  # deliveries cascade with their merchant
    delivery = _queue(uow, merchant, event_id=original.event_id, event=original.event, body=original.body,
                      entity_id=original.entity_id)
    await uow.flush()
    uow.enqueue(DELIVER_TASK, delivery_id=delivery.id)
    return delivery


async def deliver(uow: UnitOfWork, delivery_id: int) -> None:
    """One attempt; a failure schedules the next one as a new job (the merchant's schedule), never raises."""
    delivery = await uow.session.get(SandboxRzpWebhookDelivery, delivery_id)
    if delivery is None or delivery.status != "pending":
        return
    if delivery.next_attempt_at is not None and delivery.next_attempt_at > uow.clock.now() + timedelta(seconds=1):
        return  # a stale duplicate job: the scheduled one will run
    merchant = await uow.session.get(SandboxRzpMerchant, delivery.merchant_pk)
    url = merchant.webhook_url if merchant is not None else None
    delivery.attempts += 1
    delivery.url = url
    status_code: int | None = None
    error: str | None = None
    if merchant is None or not url:
        error = "the merchant has no webhook URL"
    else:
        body, secret, event_id = delivery.body.encode(), merchant.webhook_secret, delivery.event_id
        timeout = merchant.webhook_timeout_seconds
        await uow.release()  # no database lock while the receiver answers (README rule 10)
        try:
            async with http_client(timeout) as client:
                response = await client.post(url, content=body, headers={
                    "Content-Type": "application/json", SIGNATURE_HEADER: sign(secret, body),
                    EVENT_ID_HEADER: event_id, "User-Agent": "Razorpay-Webhook/v1"})
            status_code = response.status_code
            if not 200 <= status_code < 300:
                error = f"HTTP {status_code}: {response.text[:300]}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
    delivery.last_status_code, delivery.last_error = status_code, error
    if error is None:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = "delivered", uow.clock.now(), None
        return
    schedule = merchant.retry_schedule_seconds if merchant is not None else []
    if delivery.attempts > len(schedule):
        delivery.status, delivery.next_attempt_at = "dead", None
        log.warning("sandbox_razorpay_webhook_dead", delivery_id=delivery.id, url=url, error=error)
        return
    delivery.next_attempt_at = uow.clock.now() + timedelta(seconds=schedule[delivery.attempts - 1])
    uow.enqueue(DELIVER_TASK, run_at=delivery.next_attempt_at, delivery_id=delivery.id)


def delivery_view(delivery: SandboxRzpWebhookDelivery) -> dict[str, Any]:
    return {"id": delivery.id, "event_id": delivery.event_id, "event": delivery.event, "entity_id": delivery.entity_id,
            "status": delivery.status, "attempts": delivery.attempts, "url": delivery.url,
            "last_status_code": delivery.last_status_code, "last_error": delivery.last_error, "body": delivery.body}
