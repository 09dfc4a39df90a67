"""Razorpay's entities and webhook events as typed objects, parsed at the edge.

Amounts are paise, times aware UTC datetimes. A status Razorpay adds later parses as "unknown" (the raw value
stays in `raw_status`); a webhook's abridged entity (e.g. the payment inside `refund.processed`) parses with
defaults for what it leaves out. Anything not shaped like an entity raises `EntityError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

ORDER_STATUSES = {"created", "attempted", "paid"}
PAYMENT_STATUSES = {"created", "authorized", "captured", "refunded", "failed"}
REFUND_STATUSES = {"pending", "processed", "failed"}


class EntityError(ValueError):
    """A Razorpay body that is not the entity it should be."""


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise EntityError(f"expected {what} to be a JSON object, got {type(value).__name__}")
    return value


def _id(body: dict[str, Any], what: str) -> str:
    value = body.get("id")
    if not isinstance(value, str) or not value:
        raise EntityError(f"{what} has no id")
    return value


def _int(body: dict[str, Any], key: str) -> int:
    value = body.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _str(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    return value if isinstance(value, str) else None


def _time(body: dict[str, Any], key: str = "created_at") -> datetime | None:
    value = body.get(key)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**11:
        return datetime.fromtimestamp(value, UTC)
    return None


def _notes(body: dict[str, Any]) -> dict[str, str]:
    notes = body.get("notes")  # Razorpay sends [] for no notes
    return {str(k): str(v) for k, v in notes.items()} if isinstance(notes, dict) else {}


def _status(raw: str | None, known: set[str]) -> str:
    return raw if raw in known else "unknown"


@dataclass(frozen=True)
class Order:
    id: str
    amount: int
    amount_paid: int
    amount_due: int
    currency: str
    receipt: str | None
    status: str  # created | attempted | paid | unknown
    raw_status: str | None
    attempts: int
    notes: dict[str, str]
    created_at: datetime | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def parse(cls, value: Any) -> Order:
        body = _object(value, "an order")
        raw_status = _str(body, "status")
        return cls(id=_id(body, "the order"), amount=_int(body, "amount"), amount_paid=_int(body, "amount_paid"),
                   amount_due=_int(body, "amount_due"), currency=_str(body, "currency") or "INR",
                   receipt=_str(body, "receipt"), status=_status(raw_status, ORDER_STATUSES), raw_status=raw_status,
                   attempts=_int(body, "attempts"), notes=_notes(body), created_at=_time(body), raw=body)


@dataclass(frozen=True)
class Payment:
    id: str
    order_id: str | None
    amount: int
    currency: str
    status: str  # created | authorized | captured | refunded | failed | unknown
    raw_status: str | None
    method: str | None
    captured: bool
    amount_refunded: int
    refund_status: str | None  # None | partial | full
    notes: dict[str, str]
    error_code: str | None
    error_description: str | None
    error_reason: str | None
    created_at: datetime | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def parse(cls, value: Any) -> Payment:
        body = _object(value, "a payment")
        raw_status = _str(body, "status")
        return cls(id=_id(body, "the payment"), order_id=_str(body, "order_id"), amount=_int(body, "amount"),
                   currency=_str(body, "currency") or "INR", status=_status(raw_status, PAYMENT_STATUSES),
                   raw_status=raw_status, method=_str(body, "method"), captured=body.get("captured") is True,
                   amount_refunded=_int(body, "amount_refunded"), refund_status=_str(body, "refund_status"),
                   notes=_notes(body), error_code=_str(body, "error_code"),
                   error_description=_str(body, "error_description"), error_reason=_str(body, "error_reason"),
                   created_at=_time(body), raw=body)


@dataclass(frozen=True)
class Refund:
    id: str
    payment_id: str | None
    amount: int
    currency: str
    status: str  # pending | processed | failed | unknown
    raw_status: str | None
    receipt: str | None
    notes: dict[str, str]
    speed_requested: str | None
    speed_processed: str | None
    created_at: datetime | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def parse(cls, value: Any) -> Refund:
        body = _object(value, "a refund")
        raw_status = _str(body, "status")
        return cls(id=_id(body, "the refund"), payment_id=_str(body, "payment_id"), amount=_int(body, "amount"),
                   currency=_str(body, "currency") or "INR", status=_status(raw_status, REFUND_STATUSES),
                   raw_status=raw_status, receipt=_str(body, "receipt"), notes=_notes(body),
                   speed_requested=_str(body, "speed_requested"), speed_processed=_str(body, "speed_processed"),
                   created_at=_time(body), raw=body)


def _entity(payload: dict[str, Any], name: str) -> Any:
    wrapper = payload.get(name)
    if wrapper is None:
        return None
    return _object(wrapper, f"payload.{name}").get("entity")


@dataclass(frozen=True)
class RazorpayEvent:
    """One webhook: `event` is its type (`payment.captured`, …); the entities it contains, parsed."""

    event_id: str  # X-Razorpay-Event-Id
    event: str
    account_id: str | None
    contains: list[str]
    created_at: datetime | None
    payment: Payment | None
    order: Order | None
    refund: Refund | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def parse(cls, event_id: str, value: Any) -> RazorpayEvent:
        body = _object(value, "the webhook body")
        event = _str(body, "event")
        if not event:
            raise EntityError("the webhook body has no event type")
        payload = _object(body.get("payload") or {}, "payload")
        contains = body.get("contains")
        payment, order, refund = (_entity(payload, name) for name in ("payment", "order", "refund"))
        return cls(event_id=event_id, event=event, account_id=_str(body, "account_id"),
                   contains=[c for c in contains if isinstance(c, str)] if isinstance(contains, list) else [],
                   created_at=_time(body), payment=Payment.parse(payment) if payment is not None else None,
                   order=Order.parse(order) if order is not None else None,
                   refund=Refund.parse(refund) if refund is not None else None, raw=body)
