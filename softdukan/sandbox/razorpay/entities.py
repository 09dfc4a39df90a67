"""Orders, payments and refunds as Razorpay's API and webhooks show them (amounts in paise, times in unix
seconds). Empty `notes` are `[]`, as Razorpay (PHP) renders them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from softdukan.sandbox.razorpay.models import SandboxRzpOrder, SandboxRzpPayment, SandboxRzpRefund


def unix(moment: datetime | None) -> int | None:
    return int(moment.timestamp()) if moment is not None else None


def _notes(notes: dict[str, Any] | None) -> dict[str, Any] | list[Any]:
    return dict(notes) if notes else []


def order_view(order: SandboxRzpOrder) -> dict[str, Any]:
    return {"id": order.order_id, "entity": "order", "amount": order.amount, "amount_paid": order.amount_paid,
            "amount_due": order.amount - order.amount_paid, "currency": order.currency, "receipt": order.receipt,
            "offer_id": None, "status": order.status, "attempts": order.attempts, "notes": _notes(order.notes),
            "created_at": unix(order.created_at)}


def payment_view(payment: SandboxRzpPayment, order: SandboxRzpOrder) -> dict[str, Any]:
    failed = payment.status == "failed"
    return {"id": payment.payment_id, "entity": "payment", "amount": payment.amount, "currency": payment.currency,
            "status": payment.status, "order_id": order.order_id, "invoice_id": None, "international": False,
            "method": payment.method, "amount_refunded": payment.amount_refunded,
            "refund_status": payment.refund_status, "captured": payment.captured,
            "description": f"Order {order.receipt or order.order_id}", "card_id": None, "bank": None,
            "wallet": None, "vpa": "customer@upi" if payment.method == "upi" else None, "email": payment.email,
            "contact": payment.contact, "notes": _notes(order.notes),
            "fee": None if failed else payment.amount * 2 // 100,  # 2 % + 18 % GST on it, as a gateway charges
            "tax": None if failed else payment.amount * 36 // 10000,
            "error_code": payment.error_code, "error_description": payment.error_description,
            "error_source": "customer" if failed else None, "error_step": "payment_authorization" if failed else None,
            "error_reason": payment.error_reason, "acquirer_data": {"rrn": payment.rrn} if payment.rrn else {},
            "created_at": unix(payment.created_at)}


def refund_view(refund: SandboxRzpRefund, payment: SandboxRzpPayment) -> dict[str, Any]:
    return {"id": refund.refund_id, "entity": "refund", "amount": refund.amount, "currency": refund.currency,
            "payment_id": payment.payment_id, "notes": _notes(refund.notes), "receipt": refund.receipt,
            "acquirer_data": {"arn": refund.arn}, "created_at": unix(refund.created_at), "batch_id": None,
            "status": refund.status, "speed_processed": refund.speed_processed,
            "speed_requested": refund.speed_requested}


def collection(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"entity": "collection", "count": len(items), "items": items}
