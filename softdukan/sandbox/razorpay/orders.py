"""`POST /v1/orders` with Razorpay's rules (amount ≥ 100 paise, INR, receipt ≤ 40 characters, notes ≤ 15 keys of
≤ 256 characters, nothing else) and the lookups every route shares."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from softdukan.platform.uow import UnitOfWork
from softdukan.sandbox.razorpay.errors import invalid, not_found
from softdukan.sandbox.razorpay.ids import new_id
from softdukan.sandbox.razorpay.models import SandboxRzpMerchant, SandboxRzpOrder, SandboxRzpPayment, SandboxRzpRefund

ORDER_FIELDS = {"amount", "currency", "receipt", "notes", "partial_payment", "payment_capture"}
MAX_NOTES, MAX_NOTE_LENGTH = 15, 256
MIN_AMOUNT = 100  # ₹1.00


def _amount(body: dict[str, Any]) -> int:
    if body.get("amount") is None or body.get("amount") == "":
        raise invalid("The amount field is required.", "amount")
    value = body["amount"]
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or isinstance(value, bool):
        raise invalid("The amount must be an integer.", "amount")
    if value < MIN_AMOUNT:
        raise invalid("The amount must be atleast INR 1.00", "amount")
    if value > 50_000_000_00:
        raise invalid("Amount exceeds maximum amount allowed.", "amount")
    return value


def notes_of(body: dict[str, Any]) -> dict[str, str]:
    notes = body.get("notes")
    if notes is None or notes == [] or notes == "":
        return {}
    if not isinstance(notes, dict):
        raise invalid("The notes must be an object of key-value pairs.", "notes")
    if len(notes) > MAX_NOTES:
        raise invalid(f"The notes may have at most {MAX_NOTES} keys; {len(notes)} were sent.", "notes")
    cleaned: dict[str, str] = {}
    for key, value in notes.items():
        if isinstance(value, bool) or (value is not None and not isinstance(value, str | int | float)):
            raise invalid(f"The notes value of {key!r} must be a string.", "notes")
        text = "" if value is None else str(value)
        if len(key) > MAX_NOTE_LENGTH or len(text) > MAX_NOTE_LENGTH:
            raise invalid(f"The notes key and value may be at most {MAX_NOTE_LENGTH} characters ({key[:40]!r}).",
                          "notes")
        cleaned[key] = text
    return cleaned


def receipt_of(body: dict[str, Any], *, limit: int = 40) -> str | None:
    receipt = body.get("receipt")
    if receipt is None or receipt == "":
        return None
    if not isinstance(receipt, str):
        raise invalid("The receipt must be a string.", "receipt")
    if len(receipt) > limit:
        raise invalid(f"The receipt may not be greater than {limit} characters.", "receipt")
    return receipt


async def create_order(uow: UnitOfWork, merchant: SandboxRzpMerchant, body: dict[str, Any]) -> SandboxRzpOrder:
    extra = sorted(set(body) - ORDER_FIELDS)
    if extra:
        raise invalid(f"{', '.join(extra)} is/are not required and should not be sent", extra[0])
    amount = _amount(body)
    currency = body.get("currency")
    if currency is None or currency == "":
        raise invalid("The currency field is required.", "currency")
    if currency != "INR":
        raise invalid("Currency is not supported", "currency")  # the sandbox takes rupees only
    order = SandboxRzpOrder(order_id=new_id("order"), merchant_pk=merchant.id, amount=amount, amount_paid=0,
                            currency="INR", receipt=receipt_of(body), notes=notes_of(body), status="created",
                            attempts=0, created_at=uow.clock.now())
    uow.session.add(order)
    await uow.flush()
    return order


async def order_by_id(uow: UnitOfWork, order_id: str, merchant: SandboxRzpMerchant | None = None,
                      *, for_update: bool = False) -> SandboxRzpOrder:
    query = select(SandboxRzpOrder).where(SandboxRzpOrder.order_id == order_id)
    if merchant is not None:
        query = query.where(SandboxRzpOrder.merchant_pk == merchant.id)
    if for_update:
        query = query.with_for_update()
    order = (await uow.session.execute(query)).scalar_one_or_none()
    if order is None:
        raise not_found()
    return order


async def payment_by_id(uow: UnitOfWork, payment_id: str, merchant: SandboxRzpMerchant) -> SandboxRzpPayment:
    query = select(SandboxRzpPayment).where(SandboxRzpPayment.payment_id == payment_id,
                                            SandboxRzpPayment.merchant_pk == merchant.id)
    payment = (await uow.session.execute(query)).scalar_one_or_none()
    if payment is None:
        raise not_found()
    return payment


async def refund_by_id(uow: UnitOfWork, refund_id: str, merchant: SandboxRzpMerchant) -> SandboxRzpRefund:
    query = select(SandboxRzpRefund).where(SandboxRzpRefund.refund_id == refund_id,
                                           SandboxRzpRefund.merchant_pk == merchant.id)
    refund = (await uow.session.execute(query)).scalar_one_or_none()
    if refund is None:
        raise not_found()
    return refund


async def payments_of(uow: UnitOfWork, order: SandboxRzpOrder) -> list[SandboxRzpPayment]:
    query = select(SandboxRzpPayment).where(SandboxRzpPayment.order_pk == order.id).order_by(
        SandboxRzpPayment.id.desc())
    return list((await uow.session.execute(query)).scalars().all())


async def refunds_of(uow: UnitOfWork, payment: SandboxRzpPayment) -> list[SandboxRzpRefund]:
    query = select(SandboxRzpRefund).where(SandboxRzpRefund.payment_pk == payment.id).order_by(
        SandboxRzpRefund.id.desc())
    return list((await uow.session.execute(query)).scalars().all())
