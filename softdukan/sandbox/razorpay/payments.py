"""What a customer and the merchant do to money: pay an order (created → authorized → captured, auto-capture),
fail a payment, refund a captured one. Each change queues Razorpay's webhooks in the same transaction.

Webhook payloads show each entity as it was at event time: `payment.authorized` carries the payment before
capture, `refund.created` the refund while still pending.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from softdukan.platform.uow import UnitOfWork
from softdukan.sandbox.razorpay.entities import order_view, payment_view, refund_view
from softdukan.sandbox.razorpay.errors import RazorpayFault, invalid
from softdukan.sandbox.razorpay.ids import digits, new_id
from softdukan.sandbox.razorpay.models import SandboxRzpMerchant, SandboxRzpOrder, SandboxRzpPayment, SandboxRzpRefund
from softdukan.sandbox.razorpay.orders import notes_of, receipt_of
from softdukan.sandbox.razorpay.webhooks import queue_event

METHODS = {"upi", "card", "netbanking", "wallet"}
FAILED_DESCRIPTION = "Payment failed because the customer's bank declined it."
MIN_REFUND = 100
REFUND_FIELDS = {"amount", "speed", "receipt", "notes"}


@dataclass(frozen=True)
class CheckoutResult:
    """What checkout hands back to the merchant's callback."""

    payment: SandboxRzpPayment
    signature: str | None  # razorpay_signature: only for a captured payment


def checkout_signature(order_id: str, payment_id: str, key_secret: str) -> str:
    return hmac.new(key_secret.encode(), f"{order_id}|{payment_id}".encode(), hashlib.sha256).hexdigest()


async def _merchant(uow: UnitOfWork, order: SandboxRzpOrder) -> SandboxRzpMerchant:
    merchant = await uow.session.get(SandboxRzpMerchant, order.merchant_pk)
    assert merchant is not None  # orders cascade with their merchant
    return merchant


def _method(method: str | None) -> str:
    method = method or "upi"
    if method not in METHODS:
        raise invalid(f"The method must be one of {', '.join(sorted(METHODS))}.", "method")
    return method


async def _attempt(uow: UnitOfWork, order: SandboxRzpOrder, method: str) -> SandboxRzpPayment:
    """A new payment of the order's amount; the order counts the attempt (no attempts once it is paid)."""
    attempted = await uow.session.execute(
        update(SandboxRzpOrder).where(SandboxRzpOrder.id == order.id, SandboxRzpOrder.status != "paid")
        .values(attempts=SandboxRzpOrder.attempts + 1, status="attempted").execution_options(synchronize_session=False))
    if attempted.rowcount != 1:  # type: ignore[attr-defined]
        raise RazorpayFault("Order has already been paid", field="order_id", reason="order_already_paid")
    await uow.session.refresh(order)
    payment = SandboxRzpPayment(payment_id=new_id("pay"), order_pk=order.id, merchant_pk=order.merchant_pk,
                                amount=order.amount, currency=order.currency, status="created", method=method,
                                captured=False, amount_refunded=0, created_at=uow.clock.now())
    uow.session.add(payment)
    await uow.flush()
    return payment


async def pay(uow: UnitOfWork, order: SandboxRzpOrder, *, method: str | None = None) -> CheckoutResult:
    """The customer pays: authorized, then captured at once; the order is paid. Webhooks: payment.authorized,
    payment.captured, order.paid."""
    merchant = await _merchant(uow, order)
    payment = await _attempt(uow, order, _method(method))
    payment.status, payment.rrn = "authorized", digits(12)
    await queue_event(uow, merchant, "payment.authorized", {"payment": {"entity": payment_view(payment, order)}},
                      entity_id=payment.payment_id)
    paid = await uow.session.execute(
        update(SandboxRzpOrder).where(SandboxRzpOrder.id == order.id, SandboxRzpOrder.status != "paid")
        .values(status="paid", amount_paid=SandboxRzpOrder.amount).execution_options(synchronize_session=False))
    if paid.rowcount != 1:  # type: ignore[attr-defined]  # paid by a concurrent attempt meanwhile
        raise RazorpayFault("Order has already been paid", field="order_id", reason="order_already_paid")
    await uow.session.refresh(order)
    payment.status, payment.captured, payment.captured_at = "captured", True, uow.clock.now()
    payment_entity = payment_view(payment, order)
    await queue_event(uow, merchant, "payment.captured", {"payment": {"entity": payment_entity}},
                      entity_id=payment.payment_id)
    await queue_event(uow, merchant, "order.paid", {"payment": {"entity": payment_entity},
                                                    "order": {"entity": order_view(order)}},
                      entity_id=order.order_id)
    return CheckoutResult(payment, checkout_signature(order.order_id, payment.payment_id, merchant.key_secret))


async def fail(uow: UnitOfWork, order: SandboxRzpOrder, *, method: str | None = None,
               description: str = FAILED_DESCRIPTION) -> CheckoutResult:
    """The customer's payment fails; the order stays `attempted`. Webhook: payment.failed."""
    merchant = await _merchant(uow, order)
    payment = await _attempt(uow, order, _method(method))
    payment.status, payment.error_code = "failed", "BAD_REQUEST_ERROR"
    payment.error_description, payment.error_reason = description[:300], "payment_failed"
    await queue_event(uow, merchant, "payment.failed", {"payment": {"entity": payment_view(payment, order)}},
                      entity_id=payment.payment_id)
    return CheckoutResult(payment, None)


def _refund_amount(body: dict[str, Any], payment: SandboxRzpPayment) -> int:
    value = body.get("amount")
    if value is None or value == "":
        return payment.amount - payment.amount_refunded
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or isinstance(value, bool):
        raise invalid("The amount must be an integer.", "amount")
    if value < MIN_REFUND:
        raise invalid("The amount must be atleast INR 1.00", "amount")
    return value


async def refund(uow: UnitOfWork, merchant: SandboxRzpMerchant, payment: SandboxRzpPayment, body: dict[str, Any],
                 *, idempotency_key: str | None = None) -> SandboxRzpRefund:
    """A full or partial refund of a captured payment, processed at once. The same `X-Refund-Idempotency` key
    returns the first refund (unique per merchant, so two racing requests cannot both refund)."""
    if idempotency_key is not None:
        if not 10 <= len(idempotency_key) <= 100:
            raise invalid("The X-Refund-Idempotency header must be 10 to 100 characters.", "X-Refund-Idempotency")
        existing = await refund_by_idempotency_key(uow, merchant, idempotency_key)
        if existing is not None:
            return existing
    extra = sorted(set(body) - REFUND_FIELDS)
    if extra:
        raise invalid(f"{', '.join(extra)} is/are not required and should not be sent", extra[0])
    speed = body.get("speed") or "normal"
    if speed not in ("normal", "optimum"):
        raise invalid("The selected speed is invalid.", "speed")
    receipt, notes = receipt_of(body), notes_of(body)
    if payment.status == "refunded":
        raise invalid("The payment has been fully refunded already", "amount")
    if payment.status != "captured":
        raise invalid("Only payments which have been captured can be refunded", "payment_id")
    amount = _refund_amount(body, payment)
    # guarded: the refunded total never passes the captured amount, even for concurrent refunds
    guarded = update(SandboxRzpPayment).where(
        SandboxRzpPayment.id == payment.id, SandboxRzpPayment.status == "captured",
        SandboxRzpPayment.amount_refunded + amount <= SandboxRzpPayment.amount)
    claimed = await uow.session.execute(guarded.values(amount_refunded=SandboxRzpPayment.amount_refunded + amount)
                                        .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        await uow.session.refresh(payment)
        raise invalid("The refund amount provided is greater than amount captured", "amount")
    await uow.session.refresh(payment)
    full = payment.amount_refunded >= payment.amount
    payment.refund_status = "full" if full else "partial"
    if full:
        payment.status = "refunded"
    row = SandboxRzpRefund(refund_id=new_id("rfnd"), payment_pk=payment.id, merchant_pk=merchant.id, amount=amount,
                           currency=payment.currency, receipt=receipt, notes=notes, status="pending",
                           speed_requested=speed, idempotency_key=idempotency_key, created_at=uow.clock.now())
    uow.session.add(row)
    await uow.flush()
    order = await uow.session.get(SandboxRzpOrder, payment.order_pk)
    assert order is not None
    payment_entity = payment_view(payment, order)
    await queue_event(uow, merchant, "refund.created", {"refund": {"entity": refund_view(row, payment)},
                                                        "payment": {"entity": payment_entity}},
                      entity_id=row.refund_id)
    if payment.fail_refunds:  # the bank refused it: the amount is the merchant's again, as Razorpay does
        row.status = "failed"
        payment.amount_refunded -= amount
        payment.refund_status = "partial" if payment.amount_refunded else None
        payment.status = "captured"
        await queue_event(uow, merchant, "refund.failed", {"refund": {"entity": refund_view(row, payment)},
                                                           "payment": {"entity": payment_view(payment, order)}},
                          entity_id=row.refund_id)
        return row
    row.status, row.speed_processed, row.arn = "processed", speed if speed == "normal" else "instant", digits(14)
    await queue_event(uow, merchant, "refund.processed", {"refund": {"entity": refund_view(row, payment)},
                                                          "payment": {"entity": payment_entity}},
                      entity_id=row.refund_id)
    return row


async def refund_by_idempotency_key(uow: UnitOfWork, merchant: SandboxRzpMerchant,
                                    key: str) -> SandboxRzpRefund | None:
    query = select(SandboxRzpRefund).where(SandboxRzpRefund.merchant_pk == merchant.id,
                                           SandboxRzpRefund.idempotency_key == key)
    return (await uow.session.execute(query)).scalar_one_or_none()
