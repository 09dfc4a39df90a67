"""The return from Razorpay Checkout, for anything bought through it (wallet recharges, plan orders): the signed
answer is checked against the order we stored, then the payment is fetched from Razorpay server side — never the
browser's word alone. The unit of work is released before the call (README rule 10)."""

from __future__ import annotations

from typing import Any

from softdukan.payments.entities import Payment
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
