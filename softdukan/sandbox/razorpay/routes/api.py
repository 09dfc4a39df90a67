"""Razorpay's REST paths, `/sandbox/razorpay/v1/…`, behind HTTP Basic auth (key_id:key_secret)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from softdukan.platform.deps import UoW
from softdukan.sandbox.razorpay import orders, payments
from softdukan.sandbox.razorpay.entities import collection, order_view, payment_view, refund_view
from softdukan.sandbox.razorpay.merchants import authenticate
from softdukan.sandbox.razorpay.models import SandboxRzpOrder, SandboxRzpPayment
from softdukan.sandbox.razorpay.params import params

router = APIRouter(prefix="/v1", include_in_schema=False)
IDEMPOTENCY_HEADER = "X-Refund-Idempotency"


@router.post("/orders")
async def create_order(request: Request, uow: UoW) -> JSONResponse:
    merchant = await authenticate(uow, request)
    order = await orders.create_order(uow, merchant, await params(request))
    return JSONResponse(order_view(order))


@router.get("/orders/{order_id}")
async def get_order(order_id: str, request: Request, uow: UoW) -> JSONResponse:
    merchant = await authenticate(uow, request)
    return JSONResponse(order_view(await orders.order_by_id(uow, order_id, merchant)))


@router.get("/orders/{order_id}/payments")
async def get_order_payments(order_id: str, request: Request, uow: UoW) -> JSONResponse:
    merchant = await authenticate(uow, request)
    order = await orders.order_by_id(uow, order_id, merchant)
    return JSONResponse(collection([payment_view(p, order) for p in await orders.payments_of(uow, order)]))


async def _order_of(uow: UoW, payment: SandboxRzpPayment) -> SandboxRzpOrder:
    order = await uow.session.get(SandboxRzpOrder, payment.order_pk)
    assert order is not None  # payments cascade with their order
    return order


@router.get("/payments/{payment_id}")
async def get_payment(payment_id: str, request: Request, uow: UoW) -> JSONResponse:
    merchant = await authenticate(uow, request)
    payment = await orders.payment_by_id(uow, payment_id, merchant)
    return JSONResponse(payment_view(payment, await _order_of(uow, payment)))


@router.post("/payments/{payment_id}/refund")
async def refund_payment(payment_id: str, request: Request, uow: UoW) -> JSONResponse:
    merchant = await authenticate(uow, request)
    payment = await orders.payment_by_id(uow, payment_id, merchant)
    body = await params(request)
    refund = await payments.refund(uow, merchant, payment, body,
                                   idempotency_key=request.headers.get(IDEMPOTENCY_HEADER))
    refunded = await uow.session.get(SandboxRzpPayment, refund.payment_pk)
    assert refunded is not None
    return JSONResponse(refund_view(refund, refunded))


@router.get("/payments/{payment_id}/refunds")
async def get_payment_refunds(payment_id: str, request: Request, uow: UoW) -> JSONResponse:
    merchant = await authenticate(uow, request)
    payment = await orders.payment_by_id(uow, payment_id, merchant)
    return JSONResponse(collection([refund_view(r, payment) for r in await orders.refunds_of(uow, payment)]))


@router.get("/refunds/{refund_id}")
async def get_refund(refund_id: str, request: Request, uow: UoW) -> JSONResponse:
    merchant = await authenticate(uow, request)
    refund = await orders.refund_by_id(uow, refund_id, merchant)
    payment = await uow.session.get(SandboxRzpPayment, refund.payment_pk)
    assert payment is not None
    return JSONResponse(refund_view(refund, payment))
