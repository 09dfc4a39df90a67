"""Webhooks the sandbox sends: built here, stored as deliveries, POSTed signed by a job with retries.

Each change is stored as one `SandboxWebhookDelivery` per subscribed app (the exact bytes to sign), and a
`sandbox.deliver_webhook` job POSTs it to the subscription's `override_callback_uri` or the app's callback,
signed `X-Hub-Signature-256: sha256=<HMAC(app secret, body)>`. Non-2xx answers and timeouts are retried on
the profile's schedule (Meta: exponential backoff for up to 7 days; compressible here).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Any

import httpx
import orjson
import structlog
from sqlalchemy import select

from softdukan.platform.uow import UnitOfWork
from softdukan.sandbox.graph.profile import load_profile
from softdukan.sandbox.models import (
    SandboxApp,
    SandboxPhoneNumber,
    SandboxSubscription,
    SandboxWaba,
    SandboxWebhookDelivery,
)

log = structlog.get_logger(__name__)

# Tests and the in-process simulator may route deliveries to an ASGI app instead of the network.
_transport: httpx.AsyncBaseTransport | None = None


def use_transport(transport: httpx.AsyncBaseTransport | None) -> None:
    """Send webhooks (and subscription handshakes) through this transport; None: the real network."""
    global _transport
    _transport = transport


def http_client(timeout: float) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=_transport, timeout=timeout, follow_redirects=False)


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def metadata(phone: SandboxPhoneNumber) -> dict[str, str]:
    return {"display_phone_number": phone.wa_number, "phone_number_id": phone.phone_number_id}


async def queue_change(
    uow: UnitOfWork,
    waba: SandboxWaba,
    field: str,
    value: dict[str, Any],
    *,
    with_time: bool = False,
    delay_seconds: float = 0.0,
) -> list[SandboxWebhookDelivery]:
    """One `{"object":"whatsapp_business_account","entry":[…]}` body per subscribed app, queued for delivery."""
    entry: dict[str, Any] = {"id": waba.waba_id}
    if with_time:  # non-message fields carry entry.time
        entry["time"] = int(uow.clock.now().timestamp())
    entry["changes"] = [{"value": value, "field": field}]
    body = orjson.dumps({"object": "whatsapp_business_account", "entry": [entry]}).decode()
    subscriptions = (
        (await uow.session.execute(select(SandboxSubscription).where(SandboxSubscription.waba_pk == waba.id)))
        .scalars()
        .all()
    )
    deliveries = []
    run_at = uow.clock.now() + timedelta(seconds=delay_seconds)
    for subscription in subscriptions:
        delivery = SandboxWebhookDelivery(
            app_pk=subscription.app_pk,
            waba_id=waba.waba_id,
            field=field,
            body=body,
            status="pending",
            attempts=0,
            next_attempt_at=run_at,
        )
        uow.session.add(delivery)
        deliveries.append(delivery)
    if deliveries:
        await uow.flush()
        for delivery in deliveries:
            uow.enqueue("sandbox.deliver_webhook", run_at=run_at, delivery_id=delivery.id)
    return deliveries


async def queue_messages_value(
    uow: UnitOfWork, phone: SandboxPhoneNumber, value: dict[str, Any], *, delay_seconds: float = 0.0
) -> None:
    waba = await uow.session.get(SandboxWaba, phone.waba_pk)
    if waba is None:
        return
    full = {"messaging_product": "whatsapp", "metadata": metadata(phone), **value}
    await queue_change(uow, waba, "messages", full, delay_seconds=delay_seconds)


async def target_url(uow: UnitOfWork, delivery: SandboxWebhookDelivery, app: SandboxApp) -> str | None:
    waba = (
        await uow.session.execute(select(SandboxWaba).where(SandboxWaba.waba_id == delivery.waba_id))
    ).scalar_one_or_none()
    if waba is not None:
        subscription = (
            await uow.session.execute(
                select(SandboxSubscription).where(
                    SandboxSubscription.waba_pk == waba.id, SandboxSubscription.app_pk == app.id
                )
            )
        ).scalar_one_or_none()
        if subscription is not None and subscription.override_callback_uri:
            return subscription.override_callback_uri
    return app.callback_url


async def deliver(uow: UnitOfWork, delivery_id: int) -> None:
    """One attempt; a failure schedules the next attempt as a new job (the profile's schedule), never raises."""
    delivery = await uow.session.get(SandboxWebhookDelivery, delivery_id)
    if delivery is None or delivery.status != "pending":
        return
    now = uow.clock.now()
    if delivery.next_attempt_at is not None and delivery.next_attempt_at > now + timedelta(seconds=1):
        return  # a stale duplicate job: the scheduled one will run
    app = await uow.session.get(SandboxApp, delivery.app_pk)
    profile = await load_profile(uow)
    url = await target_url(uow, delivery, app) if app is not None else None
    body = delivery.body.encode()
    delivery.attempts += 1
    delivery.url = url
    status_code: int | None = None
    error: str | None = None
    if app is None or not url:
        error = "no callback URL: the app has none and the subscription has no override_callback_uri"
    else:
        secret = app.secret
        await uow.release()  # no database lock while the receiver answers
        try:
            async with http_client(profile.webhook_timeout_seconds) as client:
                response = await client.post(
                    url,
                    content=body,
                    headers={
                        "Content-Type": "application/json",
                        "X-Hub-Signature-256": sign(secret, body),
                        "User-Agent": "facebookexternalua",
                    },
                )
            status_code = response.status_code
            if not 200 <= status_code < 300:
                error = f"HTTP {status_code}: {response.text[:300]}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
    delivery.last_status_code = status_code
    delivery.last_error = error
    if error is None:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = "delivered", uow.clock.now(), None
        return
    schedule = profile.retry_schedule_seconds
    if delivery.attempts > len(schedule):
        delivery.status, delivery.next_attempt_at = "dead", None
        log.warning("sandbox_webhook_dead", delivery_id=delivery.id, url=url, error=error)
        return
    delivery.next_attempt_at = uow.clock.now() + timedelta(seconds=schedule[delivery.attempts - 1])
    uow.enqueue("sandbox.deliver_webhook", run_at=delivery.next_attempt_at, delivery_id=delivery.id)


async def handshake(url: str, verify_token: str, *, wait_seconds: float = 10.0) -> str | None:
    """Meta's GET verification: None if the callback echoed the challenge, else why it failed."""
    challenge = str(10**8 + secrets.randbelow(9 * 10**8))
    try:
        async with http_client(wait_seconds) as client:
            response = await client.get(
                url, params={"hub.mode": "subscribe", "hub.verify_token": verify_token, "hub.challenge": challenge}
            )
    except httpx.HTTPError as exc:
        return f"The callback URL could not be reached: {type(exc).__name__}."
    if response.status_code != 200 or response.text.strip() != challenge:
        return (
            f"The callback URL or verify token couldn't be validated. The callback answered HTTP "
            f"{response.status_code} without echoing hub.challenge."
        )
    return None
