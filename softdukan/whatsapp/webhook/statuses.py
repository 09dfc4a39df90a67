"""Status webhooks (`value.statuses[]`, reference §5.6) and India payment statuses (§5.7)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from softdukan.whatsapp.webhook.common import (
    UNKNOWN,
    PayloadError,
    WebhookError,
    as_dict,
    enum,
    optional_timestamp,
    required_text,
    text,
    timestamp,
)

MESSAGE_STATUSES = frozenset({"sent", "delivered", "read", "failed", "played"})
PAYMENT_STATUSES = frozenset({"captured", "pending", "failed"})
PRICING_TYPES = frozenset({"regular", "free_customer_service", "free_entry_point"})
PRICING_MODELS = frozenset({"CBP", "PMP"})
# Pricing says "authentication-international", conversation origins "authentication_international": accept both.
CATEGORIES = frozenset({"authentication", "authentication_international", "marketing", "marketing_lite",
                        "referral_conversion", "service", "utility", "group_marketing", "group_utility",
                        "group_service", "general_purpose_ai"})


def _category(value: Any) -> str | None:
    raw = text(value)
    if raw is None:
        return None
    return enum(raw.replace("-", "_"), CATEGORIES)


@dataclass(frozen=True, slots=True)
class Pricing:
    billable: bool | None
    pricing_model: str | None  # CBP | PMP | unknown
    type: str | None  # regular | free_customer_service | free_entry_point | unknown; absent before v24
    category: str | None

    @classmethod
    def parse(cls, value: Any) -> Pricing | None:
        if not isinstance(value, dict):
            return None
        billable = value.get("billable")
        return cls(billable=billable if isinstance(billable, bool) else None,
                   pricing_model=enum(value.get("pricing_model"), PRICING_MODELS, lower=False)
                   if "pricing_model" in value else None,
                   type=enum(value.get("type"), PRICING_TYPES) if "type" in value else None,
                   category=_category(value.get("category")))


@dataclass(frozen=True, slots=True)
class ConversationInfo:
    """Meta's `conversation` object: on v24+ only inside a free entry point window."""

    id: str | None
    origin: str | None
    expires_at: datetime | None

    @classmethod
    def parse(cls, value: Any) -> ConversationInfo | None:
        if not isinstance(value, dict):
            return None
        return cls(id=text(value.get("id")), origin=_category(as_dict(value.get("origin")).get("type")),
                   expires_at=optional_timestamp(value.get("expiration_timestamp")))


@dataclass(frozen=True, slots=True)
class MessageStatus:
    wamid: str
    status: str  # sent | delivered | read | failed | played | unknown
    raw_status: str
    timestamp: datetime
    recipient_id: str | None
    biz_opaque_callback_data: str | None
    conversation: ConversationInfo | None
    pricing: Pricing | None
    errors: tuple[WebhookError, ...]
    recipient_type: str | None = None  # "group" for group sends


@dataclass(frozen=True, slots=True)
class PaymentStatus:
    """`type: payment` in statuses[]: an India payment update for an order_details message."""

    payment_id: str
    status: str  # captured | pending | failed | unknown
    raw_status: str
    timestamp: datetime | None  # Meta's examples show non-numeric placeholders: tolerated
    recipient_id: str | None
    reference_id: str | None
    payment: dict[str, Any]


def parse_status(obj: Any, path: str) -> MessageStatus | PaymentStatus:
    if not isinstance(obj, dict):
        raise PayloadError(path, "a status object is required")
    raw_status = text(obj.get("status")) or ""
    if obj.get("type") == "payment":
        payment = as_dict(obj.get("payment"))
        return PaymentStatus(payment_id=required_text(obj, "id", path), status=enum(raw_status, PAYMENT_STATUSES),
                             raw_status=raw_status, timestamp=optional_timestamp(obj.get("timestamp")),
                             recipient_id=text(obj.get("recipient_id")),
                             reference_id=text(payment.get("reference_id")), payment=payment)
    status = enum(raw_status, MESSAGE_STATUSES)
    if not raw_status:
        raise PayloadError(f"{path}.status", "a status is required")
    return MessageStatus(wamid=required_text(obj, "id", path), status=status, raw_status=raw_status,
                         timestamp=timestamp(obj.get("timestamp"), f"{path}.timestamp"),
                         recipient_id=text(obj.get("recipient_id")),
                         biz_opaque_callback_data=text(obj.get("biz_opaque_callback_data")),
                         conversation=ConversationInfo.parse(obj.get("conversation")),
                         pricing=Pricing.parse(obj.get("pricing")), errors=WebhookError.parse_all(obj.get("errors")),
                         recipient_type=text(obj.get("recipient_type")))


__all__ = ["UNKNOWN", "ConversationInfo", "MessageStatus", "PaymentStatus", "Pricing", "parse_status"]
