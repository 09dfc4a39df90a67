"""The return from Razorpay Checkout, for anything bought through it (wallet recharges, plan orders): the signed
answer is checked against the order we stored, then the payment is fetched from Razorpay server side — never the
browser's word alone. The unit of work is released before the call (README rule 10)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from softdukan.payments.entities import Payment, RazorpayEvent
from softdukan.payments.errors import PaymentGatewayError
from softdukan.payments.razorpay import verify_checkout_signature
from softdukan.platform.errors import Conflict, Invalid
from softdukan.platform.uow import UnitOfWork


async def verified_payment(uow: UnitOfWork, *, stored_order_id: str | None, order_id: str, payment_id: str,
                           signature: str, app: Any | None = None) -> Payment | None:
    """The payment the checkout says paid our order: `Invalid` if the answer is not genuine, None if Razorpay
    could not be asked now (its webhook will bring the payment)."""
    _, secret = uow.settings.razorpay_keys
    if not stored_order_id or order_id != stored_order_id or not verify_checkout_signature(
            stored_order_id, payment_id, signature, secret):
        raise Invalid("invalid_signature", "This payment confirmation is not genuine; nothing was changed.")
    from softdukan.wallet.recharge import client_for

    await uow.release()
    try:
        async with client_for(uow.settings, app) as client:
            return await client.fetch_payment(payment_id)
    except PaymentGatewayError:
        return None


def require_captured(payment: Payment, *, order_id: str | None, amount_paise: int, what: str) -> None:
    """A captured INR payment of exactly our order's amount, or a loud 409 (never credit a mismatch)."""
    if payment.order_id != order_id or payment.status != "captured" or not payment.captured:
        raise Conflict("payment_mismatch", f"Payment {payment.id} is not a captured payment of this order.")
    if payment.amount != amount_paise or payment.currency != "INR":
        raise Conflict("payment_mismatch", f"Payment {payment.id} of {payment.amount} {payment.currency} does not "
                                           f"match {what} ({amount_paise} INR).")


async def purchase_of(uow: UnitOfWork, model: Any, event: RazorpayEvent, *, by_order: bool = True) -> Any | None:
    """The purchase (a row of `model`, which carries `razorpay_order_id`) a verified event's payment pays; None
    for orders that are not of this kind (another kind of purchase, or another product on the account)."""
    if event.payment is None:
        return None
    order_id = (event.order.id if by_order and event.order else None) or event.payment.order_id
    if not order_id:
        return None
    return await uow.session.scalar(select(model).where(model.razorpay_order_id == order_id))


async def mark_failed(uow: UnitOfWork, model: Any, row_id: int, payment: Payment, *, open_states: list[str],
                      failed: str) -> None:
    """A failed payment fails the purchase if it is still open (a later capture of the same order still counts)."""
    reason = payment.error_description or payment.error_reason or "The payment failed."
    await uow.session.execute(update(model).where(model.id == row_id, model.state.in_(open_states))
                              .values(state=failed, failure=reason[:500]).execution_options(synchronize_session=False))
