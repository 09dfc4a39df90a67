"""India payments: the order_details (review and pay) and order_status interactive messages (reference §3.7, §3.8).

Every rule of §3.7 is checked locally: reference id, INR with offset 100, totals arithmetic, items, expiry at least
300 s in the future, gateway enum, lengths and beneficiaries. Money is in paise (₹12.34 → 1234), always integers.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import InitVar, dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Literal

from softdukan.whatsapp.messages.base import (
    FOOTER_MAX,
    MessageValidationError,
    _check_count,
    _check_text,
    _tuple,
)
from softdukan.whatsapp.messages.interactive import MediaHeader, _Interactive

# --- limits (reference §3.7, §3.8) -------------------------------------------------------------
ORDER_BODY_MAX = 1024  # interactive body (Meta's order_details page)
REFERENCE_ID_MAX = 35
ITEM_NAME_MAX = 60
ITEMS_WITH_IMAGE_MAX = 10
CHARGE_DESCRIPTION_MAX = 60
DISCOUNT_PROGRAM_NAME_MAX = 60
EXPIRATION_MIN_SECONDS = 300
EXPIRATION_DESCRIPTION_MAX = 120
CONFIGURATION_NAME_MAX = 60
BENEFICIARY_NAME_MAX = 200
BENEFICIARY_ADDRESS_LINE1_MAX = 100
ORDER_STATUS_DESCRIPTION_MAX = 120
RAZORPAY_NOTES_MAX_KEYS = 15
RAZORPAY_NOTE_VALUE_MAX = 256
RAZORPAY_RECEIPT_MAX = 40

CURRENCY = "INR"
OFFSET = 100

GatewayType = Literal["billdesk", "razorpay", "payu", "zaakpay"]
GATEWAYS: tuple[str, ...] = ("billdesk", "razorpay", "payu", "zaakpay")
# Optional per-gateway fields and their maximum lengths (razorpay "notes" is a mapping, checked apart).
GATEWAY_FIELDS: dict[str, dict[str, int]] = {
    "razorpay": {"receipt": RAZORPAY_RECEIPT_MAX},
    "payu": {f"udf{i}": 255 for i in range(1, 5)},
    "zaakpay": {f"extra{i}": 180 for i in range(1, 3)},
    "billdesk": {f"additional_info{i}": 120 for i in range(1, 8)},
}
GoodsType = Literal["digital-goods", "physical-goods"]
OrderStatus = Literal["processing", "partially_shipped", "shipped", "completed", "canceled"]
ORDER_STATUSES: tuple[str, ...] = ("processing", "partially_shipped", "shipped", "completed", "canceled")

_REFERENCE_ID = re.compile(r"[A-Za-z0-9_.\-]+")
_POSTAL_CODE = re.compile(r"[0-9]{6}")
_UNLIMITED = 10**9  # the reference gives no length limit for this field


def _money(value: int) -> dict[str, int]:
    return {"value": value, "offset": OFFSET}


def _check_paise(field_name: str, value: object, *, label: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise MessageValidationError(
            field_name, f"{label} must be a whole number of paise (₹12.34 is 1234), not {type(value).__name__}."
        )
    if value < 0:
        raise MessageValidationError(field_name, f"{label} cannot be negative; you gave {value}.")


def check_reference_id(field_name: str, reference_id: object) -> None:
    _check_text(field_name, reference_id, REFERENCE_ID_MAX, label="Order reference")
    assert isinstance(reference_id, str)
    if not _REFERENCE_ID.fullmatch(reference_id):
        raise MessageValidationError(
            field_name, "An order reference may use only letters, digits, '_', '-' and '.' (no spaces)."
        )


# --- parts ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ImporterAddress:
    """Needed on every item when the order has no catalog_id."""

    address_line1: str
    city: str
    zone_code: str
    postal_code: str
    country_code: str
    address_line2: str | None = None

    def __post_init__(self) -> None:
        prefix = "interactive.action.parameters.order.items.importer_address"
        for name in ("address_line1", "city", "zone_code", "postal_code", "country_code"):
            _check_text(f"{prefix}.{name}", getattr(self, name), _UNLIMITED, label=f"Importer {name}")
        _check_text(f"{prefix}.address_line2", self.address_line2, _UNLIMITED, label="Importer address line 2",
                    required=False)

    def to_dict(self) -> dict[str, Any]:
        out = {"address_line1": self.address_line1}
        if self.address_line2 is not None:
            out["address_line2"] = self.address_line2
        out.update(city=self.city, zone_code=self.zone_code, postal_code=self.postal_code,
                   country_code=self.country_code)
        return out


@dataclass(frozen=True, slots=True)
class OrderItem:
    """One line of the bill. ``amount`` and ``sale_amount`` are per unit, in paise."""

    name: str
    amount: int
    quantity: int
    retailer_id: str | None = None
    sale_amount: int | None = None
    country_of_origin: str | None = None
    importer_name: str | None = None
    importer_address: ImporterAddress | None = None
    image_link: str | None = None

    def __post_init__(self) -> None:
        prefix = "interactive.action.parameters.order.items"
        _check_text(f"{prefix}.name", self.name, ITEM_NAME_MAX, label="Item name")
        _check_paise(f"{prefix}.amount", self.amount, label="Item price")
        if self.sale_amount is not None:
            _check_paise(f"{prefix}.sale_amount", self.sale_amount, label="Item sale price")
        if isinstance(self.quantity, bool) or not isinstance(self.quantity, int) or self.quantity < 1:
            raise MessageValidationError(f"{prefix}.quantity", "Item quantity must be a whole number of at least 1.")
        _check_text(f"{prefix}.retailer_id", self.retailer_id, _UNLIMITED, label="Item SKU", required=False)
        _check_text(f"{prefix}.country_of_origin", self.country_of_origin, _UNLIMITED, label="Country of origin",
                    required=False)
        _check_text(f"{prefix}.importer_name", self.importer_name, _UNLIMITED, label="Importer name", required=False)
        if self.importer_address is not None and not isinstance(self.importer_address, ImporterAddress):
            raise MessageValidationError(f"{prefix}.importer_address", "The importer address is an ImporterAddress.")
        if self.image_link is not None:
            if not isinstance(self.image_link, str) or not re.match(r"^https?://\S+$", self.image_link):
                raise MessageValidationError(f"{prefix}.image.link", "The item image must be an http(s) URL.")
            if self.retailer_id is not None:
                raise MessageValidationError(
                    f"{prefix}.image", "An item with its own image cannot also have a retailer (catalog) SKU."
                )

    @property
    def unit_price(self) -> int:
        """The price used for the subtotal: the sale price when given (§3.7)."""
        return self.sale_amount if self.sale_amount is not None else self.amount

    @property
    def line_total(self) -> int:
        return self.unit_price * self.quantity

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.retailer_id is not None:
            out["retailer_id"] = self.retailer_id
        out["name"] = self.name
        out["amount"] = _money(self.amount)
        out["quantity"] = self.quantity
        if self.sale_amount is not None:
            out["sale_amount"] = _money(self.sale_amount)
        if self.country_of_origin is not None:
            out["country_of_origin"] = self.country_of_origin
        if self.importer_name is not None:
            out["importer_name"] = self.importer_name
        if self.importer_address is not None:
            out["importer_address"] = self.importer_address.to_dict()
        if self.image_link is not None:
            out["image"] = {"link": self.image_link}
        return out


@dataclass(frozen=True, slots=True)
class Charge:
    """Tax or shipping, in paise, with an optional description."""

    value: int
    description: str | None = None

    def check(self, field_name: str, label: str) -> None:
        _check_paise(f"{field_name}.value", self.value, label=label)
        _check_text(f"{field_name}.description", self.description, CHARGE_DESCRIPTION_MAX,
                    label=f"{label} description", required=False)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = _money(self.value)
        if self.description is not None:
            out["description"] = self.description
        return out


@dataclass(frozen=True, slots=True)
class Discount:
    value: int
    description: str | None = None
    discount_program_name: str | None = None

    def check(self, field_name: str) -> None:
        _check_paise(f"{field_name}.value", self.value, label="Discount")
        _check_text(f"{field_name}.description", self.description, CHARGE_DESCRIPTION_MAX,
                    label="Discount description", required=False)
        _check_text(f"{field_name}.discount_program_name", self.discount_program_name, DISCOUNT_PROGRAM_NAME_MAX,
                    label="Discount program name", required=False)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = _money(self.value)
        if self.description is not None:
            out["description"] = self.description
        if self.discount_program_name is not None:
            out["discount_program_name"] = self.discount_program_name
        return out


@dataclass(frozen=True, slots=True)
class PaymentGateway:
    """``payment_settings[0]``: the gateway and its payment configuration in WhatsApp Manager.

    ``options`` holds the optional gateway fields: razorpay ``receipt`` and ``notes`` (a mapping), payu
    ``udf1``-``udf4``, zaakpay ``extra1``-``extra2``, billdesk ``additional_info1``-``additional_info7``.
    """

    type: GatewayType
    configuration_name: str
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        prefix = "interactive.action.parameters.payment_settings.payment_gateway"
        if self.type not in GATEWAYS:
            raise MessageValidationError(f"{prefix}.type", f"The payment gateway must be one of {', '.join(GATEWAYS)}.")
        _check_text(f"{prefix}.configuration_name", self.configuration_name, CONFIGURATION_NAME_MAX,
                    label="Payment configuration name")
        if not isinstance(self.options, Mapping):
            raise MessageValidationError(f"{prefix}.{self.type}", "Gateway options must be a mapping.")
        allowed = GATEWAY_FIELDS[self.type]
        for key, value in self.options.items():
            if self.type == "razorpay" and key == "notes":
                self._check_notes(f"{prefix}.razorpay.notes", value)
                continue
            if key not in allowed:
                names = ", ".join([*allowed, *(["notes"] if self.type == "razorpay" else [])])
                raise MessageValidationError(f"{prefix}.{self.type}.{key}",
                                             f"{self.type} accepts only these extra fields: {names}.")
            _check_text(f"{prefix}.{self.type}.{key}", value, allowed[key], label=f"{self.type} {key}",
                        required=False)
        object.__setattr__(self, "options", dict(self.options))

    @staticmethod
    def _check_notes(field_name: str, notes: object) -> None:
        if not isinstance(notes, Mapping):
            raise MessageValidationError(field_name, "Razorpay notes must be a mapping of text to text.")
        if len(notes) > RAZORPAY_NOTES_MAX_KEYS:
            raise MessageValidationError(
                field_name, f"Razorpay notes can have at most {RAZORPAY_NOTES_MAX_KEYS} keys; yours has {len(notes)}."
            )
        for key, value in notes.items():
            if not isinstance(key, str) or not key:
                raise MessageValidationError(field_name, "Each razorpay note needs a text key.")
            _check_text(f"{field_name}.{key}", value, RAZORPAY_NOTE_VALUE_MAX, label="Razorpay note", required=False)

    def to_dict(self) -> dict[str, Any]:
        gateway: dict[str, Any] = {"type": self.type, "configuration_name": self.configuration_name}
        if self.options:
            gateway[self.type] = {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in self.options.items()}
        return {"type": "payment_gateway", "payment_gateway": gateway}


@dataclass(frozen=True, slots=True)
class Beneficiary:
    """Who receives shipped physical goods (India only)."""

    name: str
    address_line1: str
    city: str
    state: str
    postal_code: str
    address_line2: str | None = None
    country: str = "India"

    def __post_init__(self) -> None:
        prefix = "interactive.action.parameters.beneficiaries"
        _check_text(f"{prefix}.name", self.name, BENEFICIARY_NAME_MAX, label="Recipient name")
        _check_text(f"{prefix}.address_line1", self.address_line1, BENEFICIARY_ADDRESS_LINE1_MAX,
                    label="Address line 1")
        _check_text(f"{prefix}.address_line2", self.address_line2, _UNLIMITED, label="Address line 2", required=False)
        _check_text(f"{prefix}.city", self.city, _UNLIMITED, label="City")
        _check_text(f"{prefix}.state", self.state, _UNLIMITED, label="State")
        if self.country != "India":
            raise MessageValidationError(f"{prefix}.country", "Payments on WhatsApp ship only within India.")
        if not isinstance(self.postal_code, str) or not _POSTAL_CODE.fullmatch(self.postal_code):
            raise MessageValidationError(f"{prefix}.postal_code", "The PIN code must be exactly 6 digits.")

    def to_dict(self) -> dict[str, Any]:
        out = {"name": self.name, "address_line1": self.address_line1}
        if self.address_line2 is not None:
            out["address_line2"] = self.address_line2
        out.update(city=self.city, state=self.state, country=self.country, postal_code=self.postal_code)
        return out


def _timestamp(value: int | datetime) -> int:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise MessageValidationError(
                "interactive.action.parameters.order.expiration.timestamp", "Give the expiry time with a time zone."
            )
        return int(value.timestamp())
    if isinstance(value, bool) or not isinstance(value, int):
        raise MessageValidationError(
            "interactive.action.parameters.order.expiration.timestamp",
            "The expiry must be a UNIX timestamp in seconds or a datetime.",
        )
    return value


# --- 3.7 order_details --------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class OrderDetailsMessage(_Interactive):
    """A bill the customer reviews and pays inside WhatsApp.

    ``subtotal`` and ``total_amount`` are computed from the items and charges when omitted; when given they must
    match (§3.7 arithmetic). ``now`` (UNIX seconds or aware datetime; default: the wall clock) is only used to check
    that ``expiration`` lies at least 300 s ahead.
    """

    reference_id: str
    body: str
    payment_gateway: PaymentGateway
    items: Sequence[OrderItem]
    tax: Charge
    type: GoodsType = "digital-goods"
    shipping: Charge | None = None
    discount: Discount | None = None
    catalog_id: str | None = None
    expiration: int | datetime | None = None
    expiration_description: str | None = None
    beneficiaries: Sequence[Beneficiary] = ()
    subtotal: int | None = None
    total_amount: int | None = None
    quick_pay: bool = False
    header: MediaHeader | None = None
    footer: str | None = None
    now: InitVar[int | float | datetime | None] = None

    interactive_type: ClassVar[str] = "order_details"

    def __post_init__(self, now: int | float | datetime | None) -> None:
        params = "interactive.action.parameters"
        check_reference_id(f"{params}.reference_id", self.reference_id)
        _check_text("interactive.body.text", self.body, ORDER_BODY_MAX, label="Message text")
        _check_text("interactive.footer.text", self.footer, FOOTER_MAX, label="Footer", required=False)
        if self.header is not None and not (isinstance(self.header, MediaHeader) and self.header.kind == "image"):
            raise MessageValidationError("interactive.header", "An order's header can only be an image.")
        if self.type not in ("digital-goods", "physical-goods"):
            raise MessageValidationError(f"{params}.type", "The order type must be digital-goods or physical-goods.")
        if not isinstance(self.payment_gateway, PaymentGateway):
            raise MessageValidationError(f"{params}.payment_settings", "The order needs a payment gateway.")
        _check_text(f"{params}.order.catalog_id", self.catalog_id, _UNLIMITED, label="Catalog ID", required=False)
        self._check_items(f"{params}.order.items")
        self._check_charges(f"{params}.order")
        self._check_totals(params)
        self._check_expiration(f"{params}.order.expiration", now)
        _tuple(self, "beneficiaries")
        for b in self.beneficiaries:
            if not isinstance(b, Beneficiary):
                raise MessageValidationError(f"{params}.beneficiaries", "Each beneficiary is a Beneficiary.")
        if self.type == "physical-goods" and not self.beneficiaries:
            raise MessageValidationError(
                f"{params}.beneficiaries", "Physical goods are shipped: say who receives them (name and address)."
            )

    def _check_items(self, prefix: str) -> None:
        _tuple(self, "items")
        if not self.items:
            raise MessageValidationError(prefix, "An order needs at least one item.")
        for item in self.items:
            if not isinstance(item, OrderItem):
                raise MessageValidationError(prefix, "Each item is an OrderItem.")
            if self.catalog_id is None and (
                item.country_of_origin is None or item.importer_name is None or item.importer_address is None
            ):
                raise MessageValidationError(
                    prefix,
                    f"Without a catalog, item {item.name!r} needs its country of origin, importer name and "
                    "importer address.",
                )
        with_image = [i for i in self.items if i.image_link is not None]
        if with_image:
            if self.catalog_id is not None:
                raise MessageValidationError(
                    f"{prefix}.image", "Items with their own image cannot be combined with a catalog."
                )
            _check_count(prefix, len(self.items), minimum=1, maximum=ITEMS_WITH_IMAGE_MAX,
                         label="items in an order with item images")

    def _check_charges(self, prefix: str) -> None:
        if not isinstance(self.tax, Charge):
            raise MessageValidationError(f"{prefix}.tax", "The order needs a tax amount (it may be 0).")
        self.tax.check(f"{prefix}.tax", "Tax")
        if self.shipping is not None:
            if not isinstance(self.shipping, Charge):
                raise MessageValidationError(f"{prefix}.shipping", "Shipping is a Charge.")
            self.shipping.check(f"{prefix}.shipping", "Shipping")
        if self.discount is not None:
            if not isinstance(self.discount, Discount):
                raise MessageValidationError(f"{prefix}.discount", "The discount is a Discount.")
            self.discount.check(f"{prefix}.discount")

    def _check_totals(self, params: str) -> None:
        computed_subtotal = sum(item.line_total for item in self.items)
        if self.subtotal is None:
            object.__setattr__(self, "subtotal", computed_subtotal)
        else:
            _check_paise(f"{params}.order.subtotal", self.subtotal, label="Subtotal")
            if self.subtotal != computed_subtotal:
                raise MessageValidationError(
                    f"{params}.order.subtotal",
                    f"The subtotal must be the sum of price × quantity of the items ({computed_subtotal} paise, "
                    f"using sale prices where given); you gave {self.subtotal}.",
                )
        assert self.subtotal is not None
        computed_total = (
            self.subtotal
            + self.tax.value
            + (self.shipping.value if self.shipping else 0)
            - (self.discount.value if self.discount else 0)
        )
        if computed_total < 0:
            raise MessageValidationError(f"{params}.order.discount", "The discount is larger than the order.")
        if self.total_amount is None:
            object.__setattr__(self, "total_amount", computed_total)
        else:
            _check_paise(f"{params}.total_amount", self.total_amount, label="Total amount")
            if self.total_amount != computed_total:
                raise MessageValidationError(
                    f"{params}.total_amount",
                    f"The total must be subtotal + tax + shipping − discount ({computed_total} paise); "
                    f"you gave {self.total_amount}.",
                )

    def _check_expiration(self, prefix: str, now: int | float | datetime | None) -> None:
        if self.expiration is None:
            if self.expiration_description is not None:
                raise MessageValidationError(prefix, "An expiry description needs an expiry time.")
            return
        object.__setattr__(self, "expiration", _timestamp(self.expiration))
        _check_text(f"{prefix}.description", self.expiration_description, EXPIRATION_DESCRIPTION_MAX,
                    label="Expiry description", required=False)
        if now is None:
            now_s = time.time()
        elif isinstance(now, datetime):
            now_s = now.timestamp()
        else:
            now_s = float(now)
        assert isinstance(self.expiration, int)
        if self.expiration < now_s + EXPIRATION_MIN_SECONDS:
            raise MessageValidationError(
                f"{prefix}.timestamp",
                f"The order must stay payable for at least {EXPIRATION_MIN_SECONDS // 60} minutes from now.",
            )

    def _parts(self) -> dict[str, Any]:
        order: dict[str, Any] = {"status": "pending"}
        if self.quick_pay:
            order["type"] = "quick_pay"
        if self.catalog_id is not None:
            order["catalog_id"] = self.catalog_id
        if self.expiration is not None:
            expiration: dict[str, Any] = {"timestamp": str(self.expiration)}
            if self.expiration_description is not None:
                expiration["description"] = self.expiration_description
            order["expiration"] = expiration
        order["items"] = [i.to_dict() for i in self.items]
        order["subtotal"] = _money(self.subtotal)  # type: ignore[arg-type]
        order["tax"] = self.tax.to_dict()
        if self.shipping is not None:
            order["shipping"] = self.shipping.to_dict()
        if self.discount is not None:
            order["discount"] = self.discount.to_dict()
        parameters: dict[str, Any] = {"reference_id": self.reference_id, "type": self.type}
        if self.beneficiaries:
            parameters["beneficiaries"] = [b.to_dict() for b in self.beneficiaries]
        parameters["payment_settings"] = [self.payment_gateway.to_dict()]
        parameters["currency"] = CURRENCY
        parameters["total_amount"] = _money(self.total_amount)  # type: ignore[arg-type]
        parameters["order"] = order
        out: dict[str, Any] = {}
        if self.header is not None:
            out["header"] = self.header.to_dict()
        out["body"] = {"text": self.body}
        if self.footer is not None:
            out["footer"] = {"text": self.footer}
        out["action"] = {"name": "review_and_pay", "parameters": parameters}
        return out


# --- 3.8 order_status --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class OrderStatusMessage(_Interactive):
    """Tells the customer what happened to an order sent with order_details (same ``reference_id``)."""

    reference_id: str
    status: OrderStatus
    body: str
    description: str | None = None
    footer: str | None = None

    interactive_type: ClassVar[str] = "order_status"

    def __post_init__(self) -> None:
        params = "interactive.action.parameters"
        check_reference_id(f"{params}.reference_id", self.reference_id)
        if self.status not in ORDER_STATUSES:
            raise MessageValidationError(
                f"{params}.order.status", f"The order status must be one of {', '.join(ORDER_STATUSES)}."
            )
        _check_text("interactive.body.text", self.body, ORDER_BODY_MAX, label="Message text")
        _check_text("interactive.footer.text", self.footer, FOOTER_MAX, label="Footer", required=False)
        _check_text(f"{params}.order.description", self.description, ORDER_STATUS_DESCRIPTION_MAX,
                    label="Status description", required=False)

    def _parts(self) -> dict[str, Any]:
        order: dict[str, Any] = {"status": self.status}
        if self.description is not None:
            order["description"] = self.description
        out: dict[str, Any] = {"body": {"text": self.body}}
        if self.footer is not None:
            out["footer"] = {"text": self.footer}
        out["action"] = {"name": "review_order", "parameters": {"reference_id": self.reference_id, "order": order}}
        return out
