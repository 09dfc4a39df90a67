"""The Razorpay sandbox's control API (not Razorpay's): `/sandbox/razorpay/_sandbox/…`, JSON in and out, no auth
(sandbox only). For tests and demos: merchants, paying or failing an order without a browser, sending any event,
replaying one, and listing what was delivered. Errors use Razorpay's body."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select

from softdukan.platform.deps import UoW
from softdukan.sandbox.razorpay import merchants, orders, payments, webhooks
from softdukan.sandbox.razorpay.entities import order_view, payment_view
from softdukan.sandbox.razorpay.errors import invalid, not_found
from softdukan.sandbox.razorpay.models import SandboxRzpPayment, SandboxRzpWebhookDelivery
from softdukan.sandbox.razorpay.params import params

router = APIRouter(prefix="/_sandbox", include_in_schema=False)


def _text(body: dict[str, Any], key: str, *, limit: int = 200) -> str | None:
    value = body.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise invalid(f"The {key} must be a string of at most {limit} characters.", key)
    return value


@router.put("/merchants/{key_id}")
async def put_merchant(key_id: str, request: Request, uow: UoW) -> JSONResponse:
    return JSONResponse(merchants.merchant_view(await merchants.upsert_merchant(uow, key_id, await params(request))))


@router.get("/merchant")
async def get_default_merchant(uow: UoW) -> JSONResponse:
    """The merchant of the configured keys (made on first use)."""
    return JSONResponse(merchants.merchant_view(await merchants.default_merchant(uow)))


@router.post("/orders/{order_id}/pay")
async def post_pay(order_id: str, request: Request, uow: UoW) -> JSONResponse:
    """The customer pays in full: what checkout would post to the callback URL, and the captured payment."""
    body = await params(request)
    order = await orders.order_by_id(uow, order_id)
    result = await payments.pay(uow, order, method=_text(body, "method", limit=16))
    return JSONResponse({"razorpay_payment_id": result.payment.payment_id, "razorpay_order_id": order.order_id,
                         "razorpay_signature": result.signature, "payment": payment_view(result.payment, order),
                         "order": order_view(order)})


@router.post("/orders/{order_id}/fail")
async def post_fail(order_id: str, request: Request, uow: UoW) -> JSONResponse:
    body = await params(request)
    order = await orders.order_by_id(uow, order_id)
    description = _text(body, "description", limit=300) or payments.FAILED_DESCRIPTION
    result = await payments.fail(uow, order, method=_text(body, "method", limit=16), description=description)
    return JSONResponse({"payment": payment_view(result.payment, order), "order": order_view(order)})


@router.post("/payments/{payment_id}/fail-refunds")
async def post_fail_refunds(payment_id: str, request: Request, uow: UoW) -> JSONResponse:
    """The bank will refuse this payment's refunds (`{"fail": false}` undoes it): each is created, then fails with
    `refund.failed`, and the amount is refundable again."""
    body = await params(request)
    payment = (await uow.session.execute(select(SandboxRzpPayment).where(
        SandboxRzpPayment.payment_id == payment_id))).scalar_one_or_none()
    if payment is None:
        raise not_found()
    payment.fail_refunds = body.get("fail", True) not in (False, "false", "0", 0)
    return JSONResponse({"payment_id": payment.payment_id, "fail_refunds": payment.fail_refunds})


@router.post("/events")
async def post_event(request: Request, uow: UoW) -> JSONResponse:
    """Send any event (`{"event": "…", "payload": {…}, "key_id"?}`), e.g. one the product does not handle."""
    body = await params(request)
    event = _text(body, "event", limit=64)
    if event is None:
        raise invalid("The event field is required.", "event")
    payload = body.get("payload") or {}
    if not isinstance(payload, dict):
        raise invalid("The payload must be an object.", "payload")
    key_id = _text(body, "key_id", limit=64)
    merchant = await merchants.by_key_id(uow, key_id) if key_id else await merchants.default_merchant(uow)
    if merchant is None:
        raise not_found()
    delivery = await webhooks.queue_event(uow, merchant, event, payload)
    if delivery is None:
        raise invalid("The merchant has no webhook URL.", "webhook_url")
    return JSONResponse(webhooks.delivery_view(delivery))


@router.post("/events/{event_id}/redeliver")
async def post_redeliver(event_id: str, uow: UoW) -> JSONResponse:
    """Replay an event as Razorpay's dashboard does: the same event id and the same body, delivered again."""
    query = select(SandboxRzpWebhookDelivery).where(SandboxRzpWebhookDelivery.event_id == event_id).order_by(
        SandboxRzpWebhookDelivery.id).limit(1)
    original = (await uow.session.execute(query)).scalar_one_or_none()
    if original is None:
        raise not_found()
    return JSONResponse(webhooks.delivery_view(await webhooks.redeliver(uow, original)))


@router.get("/deliveries")
async def get_deliveries(uow: UoW, event: str | None = None, entity_id: str | None = None,
                         limit: int = 100) -> JSONResponse:
    """Recent webhook deliveries, newest first."""
    query = select(SandboxRzpWebhookDelivery).order_by(SandboxRzpWebhookDelivery.id.desc()).limit(
        max(1, min(limit, 500)))
    if event:
        query = query.where(SandboxRzpWebhookDelivery.event == event)
    if entity_id:
        query = query.where(SandboxRzpWebhookDelivery.entity_id == entity_id)
    rows = (await uow.session.execute(query)).scalars().all()
    return JSONResponse({"data": [webhooks.delivery_view(d) for d in rows]})
