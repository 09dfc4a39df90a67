"""`POST /webhooks/razorpay`: verify the signature over the raw body, store the event once under its event id,
enqueue its processing in the same transaction. Processing happens in the `payments.process_razorpay_event` job.

What the endpoint answers (Razorpay retries any non-2xx with backoff for 24 hours):
- 400 — the `X-Razorpay-Signature` is missing or wrong, the `X-Razorpay-Event-Id` is missing, or the signed body
  is not a Razorpay event. Nothing is stored.
- 413 — bodies over 1 MB.
- 200 — stored, or stored already (a retry or a replay changes nothing): `{"stored": true|false}`.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from softdukan.kit.upsert import insert_ignore
from softdukan.payments.models import RAZORPAY, PaymentEvent
from softdukan.payments.signatures import verify_webhook_signature
from softdukan.platform.errors import BadRequest, DomainError
from softdukan.platform.uow import UnitOfWork

MAX_BODY = 1_000_000
PROCESS_TASK = "payments.process_razorpay_event"


class PayloadTooLarge(DomainError):
    status = 413
    default_code = "payload_too_large"


@dataclass(frozen=True)
class Received:
    event_id: str
    stored: bool  # False: seen before


def _event_type(body: bytes) -> str:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise BadRequest("invalid_payload", "The webhook body is not JSON.") from None
    event = data.get("event") if isinstance(data, dict) else None
    if not isinstance(event, str) or not 1 <= len(event) <= 100:
        raise BadRequest("invalid_payload", "The webhook body is not a Razorpay event (no event type).")
    return event


async def receive_razorpay(uow: UnitOfWork, body: bytes, signature: str | None, event_id: str | None) -> Received:
    if len(body) > MAX_BODY:
        raise PayloadTooLarge(message="The webhook body is larger than 1 MB.")
    if not verify_webhook_signature(body, signature, uow.settings.razorpay_signing_secret):
        raise BadRequest("invalid_signature", "The X-Razorpay-Signature signature is missing or does not match.")
    event_id = (event_id or "").strip()
    if not 1 <= len(event_id) <= 100:
        raise BadRequest("missing_event_id", "The X-Razorpay-Event-Id header is missing.")
    event_type = _event_type(body)
    now = uow.clock.now()
    try:
        raw_body = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("invalid_payload", "The webhook body is not UTF-8.") from None
    statement = insert_ignore(uow.session, PaymentEvent, ["provider", "event_id"]).returning(PaymentEvent.id)
    inserted = (await uow.session.execute(statement, {
        "provider": RAZORPAY, "event_id": event_id, "event_type": event_type, "raw_body": raw_body,
        "received_at": now, "attempts": 0, "created_at": now})).scalars().all()
    if inserted:
        uow.enqueue(PROCESS_TASK, event_pk=inserted[0])
    return Received(event_id=event_id, stored=bool(inserted))
