"""India payments state (reference §3.7, §3.8, §5.7): one order per (business, reference_id).

* An accepted `order_details` creates (or, while unpaid and pending, replaces) the order: status `pending`.
* `order_status` must follow the transitions below, else **2046**; `canceled` after payment → **2047**; an
  unknown reference_id → 2046 too (there is nothing to move from).
* The customer pays (control API / `customer_pays`): a `payment` status webhook (`captured`, transaction
  `success`) and the order counts as paid.
* `GET /{phone-number-id}/payments/{payment_configuration}/{reference_id}` reads it back.

Transitions (Meta documents the enum, not the graph; unverified): forward only along
pending → processing → partially_shipped → shipped → completed, `partially_shipped` may repeat, `canceled`
from any state but `completed`; `completed` and `canceled` are final.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select

from softdukan.platform.uow import UnitOfWork
from softdukan.sandbox.graph.errors import GraphFault, unknown_object
from softdukan.sandbox.graph.messages.validate import Outbound
from softdukan.sandbox.graph.webhooks import queue_messages_value
from softdukan.sandbox.models import SandboxOrder, SandboxPhoneNumber, SandboxWaba

FLOW = ("pending", "processing", "partially_shipped", "shipped", "completed")
FINAL = ("completed", "canceled")
METHODS = ("upi", "card", "netbanking", "wallet")


def _parameters(out: Outbound) -> dict[str, Any]:
    return dict((out.content.get("action") or {}).get("parameters") or {})


async def find_order(uow: UnitOfWork, business_pk: int, reference_id: str) -> SandboxOrder | None:
    return (
        await uow.session.execute(
            select(SandboxOrder).where(
                SandboxOrder.business_pk == business_pk, SandboxOrder.reference_id == reference_id
            )
        )
    ).scalar_one_or_none()


def allowed(current: str, new: str) -> bool:
    if current in FINAL:
        return False
    if new == "canceled":
        return True
    if new == current == "partially_shipped":
        return True
    return new in FLOW and FLOW.index(new) > FLOW.index(current)


async def check_order(uow: UnitOfWork, business_pk: int, out: Outbound) -> None:
    """Sync checks of order_details (a paid or progressed reference_id can't be reused) and order_status."""
    kind = out.content.get("type") if out.type == "interactive" else None
    if kind not in ("order_details", "order_status"):
        return
    parameters = _parameters(out)
    reference = str(parameters.get("reference_id"))
    order = await find_order(uow, business_pk, reference)
    if kind == "order_details":
        if order is not None and (order.payment_status == "captured" or order.status != "pending"):
            raise GraphFault(131009, f"Param reference_id {reference} is already used by another order.")
        return
    new = str((parameters.get("order") or {}).get("status"))
    if order is None:
        raise GraphFault(2046, f"No order_details message with reference_id {reference} was sent: nothing to update.")
    if new == "canceled" and order.payment_status == "captured":
        raise GraphFault(2047, f"The order {reference} can't be canceled: the customer already paid.")
    if not allowed(order.status, new):
        raise GraphFault(2046, f"The order {reference} can't move from {order.status} to {new}.")


async def record_order(uow: UnitOfWork, business_pk: int, phone: SandboxPhoneNumber, out: Outbound) -> None:
    """After the send is accepted: the order's new state."""
    kind = out.content.get("type") if out.type == "interactive" else None
    if kind not in ("order_details", "order_status"):
        return
    parameters = _parameters(out)
    reference = str(parameters.get("reference_id"))
    order = await find_order(uow, business_pk, reference)
    if kind == "order_status":
        if order is not None:
            order.status = str((parameters.get("order") or {}).get("status"))
        return
    gateway: dict[str, Any] = {}
    for setting in parameters.get("payment_settings") or []:
        if isinstance(setting, dict) and isinstance(setting.get("payment_gateway"), dict):
            gateway = setting["payment_gateway"]
            break
    specific = gateway.get(str(gateway.get("type"))) if gateway else None
    if order is None:
        order = SandboxOrder(business_pk=business_pk, reference_id=reference, transactions=[], notes={})
        uow.session.add(order)
    order.phone_pk, order.wa_id, order.status, order.payment_status = phone.id, out.wa_id, "pending", "pending"
    order.configuration_name = gateway.get("configuration_name") or parameters.get("payment_configuration")
    order.gateway = gateway.get("type")
    order.total_value = int((parameters.get("total_amount") or {}).get("value") or 0)
    order.receipt = (specific or {}).get("receipt") if isinstance(specific, dict) else None
    order.notes = dict((specific or {}).get("notes") or {}) if isinstance(specific, dict) else {}


async def customer_pays(
    uow: UnitOfWork, *, phone_number_id: str, reference_id: str, method: str = "upi", success: bool = True
) -> dict[str, Any]:
    """The customer pays an order_details: a `payment` status webhook (captured, or pending with a failed
    transaction) and, on success, the order counts as paid."""
    phone = (
        await uow.session.execute(
            select(SandboxPhoneNumber).where(SandboxPhoneNumber.phone_number_id == phone_number_id)
        )
    ).scalar_one_or_none()
    waba = await uow.session.get(SandboxWaba, phone.waba_pk) if phone and phone.waba_pk else None
    order = await find_order(uow, waba.business_pk, reference_id) if waba else None
    if phone is None or order is None:
        raise GraphFault(100, f"No order with reference_id {reference_id} on phone number {phone_number_id}.")
    if method not in METHODS:
        raise GraphFault(131009, f"Param method must be one of {', '.join(METHODS)}.")
    if order.payment_status == "captured":
        raise GraphFault(100, f"The order {reference_id} is already paid.")
    if order.status == "canceled":
        raise GraphFault(100, f"The order {reference_id} was canceled.")
    now = str(int(uow.clock.now().timestamp()))
    transaction: dict[str, Any] = {
        "id": "order_" + secrets.token_hex(7),
        "pg_transaction_id": "pay_" + secrets.token_hex(7),
        "type": order.gateway or "razorpay",
        "status": "success" if success else "failed",
        "created_timestamp": int(now),
        "updated_timestamp": int(now),
        "method": {"type": method},
    }
    if not success:
        transaction["error"] = {"code": "BAD_REQUEST_ERROR", "reason": "payment_failed"}
    order.transactions = [*order.transactions, transaction]
    if success:
        order.payment_status = "captured"
    webhook_transaction = {**transaction, "created_timestamp": now, "updated_timestamp": now}
    payment: dict[str, Any] = {
        "reference_id": order.reference_id,
        "amount": {"value": order.total_value, "offset": 100},
        "currency": "INR",
        "transaction": webhook_transaction,
    }
    if order.receipt:
        payment["receipt"] = order.receipt
    if order.notes:
        payment["notes"] = order.notes
    status = {
        "id": secrets.token_urlsafe(20),
        "recipient_id": order.wa_id,
        "type": "payment",
        "status": order.payment_status,
        "payment": payment,
        "timestamp": now,
    }
    await queue_messages_value(uow, phone, {"statuses": [status]})
    return {"reference_id": order.reference_id, "status": order.payment_status, "transaction": transaction}


async def lookup(uow: UnitOfWork, phone: SandboxPhoneNumber, configuration: str, reference_id: str) -> dict[str, Any]:
    """`GET /{phone-number-id}/payments/{payment_configuration}/{reference_id}` (reference §3.7)."""
    waba = await uow.session.get(SandboxWaba, phone.waba_pk)
    order = await find_order(uow, waba.business_pk, reference_id) if waba else None
    if order is None or (order.configuration_name and order.configuration_name != configuration):
        raise unknown_object(reference_id)
    item: dict[str, Any] = {
        "reference_id": order.reference_id,
        "status": order.payment_status,
        "currency": "INR",
        "total_amount": {"value": order.total_value, "offset": 100},
        "transactions": [{**t, "refunds": []} if t.get("status") == "success" else dict(t) for t in order.transactions],
    }
    if order.receipt:
        item["receipt"] = order.receipt
    item["notes"] = order.notes or {}
    return {"payments": [item]}
