"""order_details (§3.7), order_status (§3.8) and mark-as-read / typing (§3.12) builders and their local checks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from softdukan.whatsapp.messages import (
    Beneficiary,
    Charge,
    Discount,
    ImporterAddress,
    MediaHeader,
    MessageValidationError,
    OrderDetailsMessage,
    OrderItem,
    OrderStatusMessage,
    PaymentGateway,
    ReadReceipt,
    TextHeader,
)

TO = "919812345678"
NOW = 1_700_000_000
P = "interactive.action.parameters"


def fails(field: str, build: Callable[[], Any]) -> MessageValidationError:
    with pytest.raises(MessageValidationError) as exc:
        build()
    assert exc.value.field == field, exc.value
    return exc.value


def gateway(**options: Any) -> PaymentGateway:
    return PaymentGateway("razorpay", "payment-config-id", options)


def order(**overrides: Any) -> OrderDetailsMessage:
    fields: dict[str, Any] = {
        "reference_id": "BM345A-12",
        "body": "Your order is ready",
        "payment_gateway": gateway(receipt="receipt-value", notes={"key1": "value1"}),
        "items": [OrderItem("Bread", 10000, 1, retailer_id="1234567", sale_amount=100)],
        "tax": Charge(1000, "optional_text"),
        "catalog_id": "the-catalog_id",
        "now": NOW,
    }
    fields.update(overrides)
    return OrderDetailsMessage(**fields)


# --- 3.7 order_details ---------------------------------------------------------------------------
def test_order_details_matches_reference_example() -> None:
    items = [
        OrderItem("Bread", 10000, 1, retailer_id="1234567", sale_amount=10000),
        OrderItem("Jam", 5000, 2, retailer_id="J1"),
    ]
    msg = order(
        items=items,
        header=MediaHeader("image", link="https://example.com/hdr.jpg"),
        footer="Thanks",
        shipping=Charge(1000, "optional_text"),
        discount=Discount(1000, "optional_text", "optional_text"),
        expiration=NOW + 3600,
        expiration_description="cancellation-explanation",
    )
    payload = msg.to_payload(TO)
    assert payload["type"] == "interactive"
    interactive = payload["interactive"]
    assert interactive["type"] == "order_details"
    assert interactive["header"] == {"type": "image", "image": {"link": "https://example.com/hdr.jpg"}}
    assert interactive["body"] == {"text": "Your order is ready"}
    assert interactive["footer"] == {"text": "Thanks"}
    action = interactive["action"]
    assert action["name"] == "review_and_pay"
    params = action["parameters"]
    assert params["reference_id"] == "BM345A-12"
    assert params["type"] == "digital-goods"
    assert params["payment_settings"] == [
        {
            "type": "payment_gateway",
            "payment_gateway": {
                "type": "razorpay",
                "configuration_name": "payment-config-id",
                "razorpay": {"receipt": "receipt-value", "notes": {"key1": "value1"}},
            },
        }
    ]
    assert params["currency"] == "INR"
    # subtotal 10000 + 2×5000 = 20000; total = 20000 + 1000 + 1000 − 1000 = 21000 (the reference's numbers)
    assert params["total_amount"] == {"value": 21000, "offset": 100}
    o = params["order"]
    assert o["status"] == "pending"
    assert o["catalog_id"] == "the-catalog_id"
    assert o["expiration"] == {"timestamp": str(NOW + 3600), "description": "cancellation-explanation"}
    assert o["items"][0] == {
        "retailer_id": "1234567",
        "name": "Bread",
        "amount": {"value": 10000, "offset": 100},
        "quantity": 1,
        "sale_amount": {"value": 10000, "offset": 100},
    }
    assert o["subtotal"] == {"value": 20000, "offset": 100}
    assert o["tax"] == {"value": 1000, "offset": 100, "description": "optional_text"}
    assert o["shipping"] == {"value": 1000, "offset": 100, "description": "optional_text"}
    assert o["discount"] == {
        "value": 1000, "offset": 100, "description": "optional_text", "discount_program_name": "optional_text"
    }
    assert "type" not in o  # quick_pay off


def test_every_money_object_is_inr_offset_100() -> None:
    payload = order(shipping=Charge(5), discount=Discount(5)).to_payload(TO)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "value" in node and "offset" in node:
                assert node["offset"] == 100 and isinstance(node["value"], int)
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(payload)
    assert payload["interactive"]["action"]["parameters"]["currency"] == "INR"


def test_subtotal_uses_sale_amount_and_quantity() -> None:
    msg = order(items=[OrderItem("A", 1000, 3, retailer_id="a", sale_amount=800), OrderItem("B", 250, 2, "b")])
    assert msg.subtotal == 3 * 800 + 2 * 250
    assert msg.total_amount == msg.subtotal + 1000


def test_given_totals_must_match_the_arithmetic() -> None:
    assert order(subtotal=100, total_amount=1100).total_amount == 1100
    err = fails(f"{P}.order.subtotal", lambda: order(subtotal=10000))
    assert "100 paise" in err.limit_description
    err = fails(f"{P}.total_amount", lambda: order(total_amount=21000))
    assert "1100" in err.limit_description
    fails(f"{P}.order.discount", lambda: order(discount=Discount(5000)))


@pytest.mark.parametrize("bad", [12.5, "100", True, None])
def test_money_must_be_integer_paise(bad: Any) -> None:
    fails(f"{P}.order.items.amount", lambda: OrderItem("Bread", bad, 1, "x"))


def test_money_cannot_be_negative() -> None:
    fails(f"{P}.order.tax.value", lambda: order(tax=Charge(-1)))
    fails(f"{P}.order.items.sale_amount", lambda: OrderItem("Bread", 100, 1, "x", sale_amount=-5))


@pytest.mark.parametrize("quantity", [0, -1, 1.5, True])
def test_quantity_is_a_positive_integer(quantity: Any) -> None:
    fails(f"{P}.order.items.quantity", lambda: OrderItem("Bread", 100, quantity, "x"))


@pytest.mark.parametrize("ref", ["BM345A-12", "a", "A.b_c-9", "x" * 35])
def test_reference_id_accepted(ref: str) -> None:
    assert order(reference_id=ref).to_payload(TO)["interactive"]["action"]["parameters"]["reference_id"] == ref


@pytest.mark.parametrize("ref", ["", "x" * 36, "has space", "a/b", "ref#1", "रेफ"])
def test_reference_id_rejected(ref: str) -> None:
    fails(f"{P}.reference_id", lambda: order(reference_id=ref))


def test_item_name_max_60() -> None:
    OrderItem("x" * 60, 1, 1, "s")
    fails(f"{P}.order.items.name", lambda: OrderItem("x" * 61, 1, 1, "s"))


def test_order_needs_items() -> None:
    fails(f"{P}.order.items", lambda: order(items=[]))


def test_items_without_catalog_need_origin_and_importer() -> None:
    item = OrderItem("Bread", 100, 1)
    err = fails(f"{P}.order.items", lambda: order(catalog_id=None, items=[item]))
    assert "importer" in err.limit_description
    address = ImporterAddress("1 MG Road", "Bengaluru", "KA", "560001", "IN", address_line2="Floor 2")
    full = OrderItem("Bread", 100, 1, country_of_origin="India", importer_name="Asha", importer_address=address)
    payload = order(catalog_id=None, items=[full]).to_payload(TO)
    o = payload["interactive"]["action"]["parameters"]["order"]
    assert "catalog_id" not in o
    assert o["items"][0]["importer_address"] == {
        "address_line1": "1 MG Road", "address_line2": "Floor 2", "city": "Bengaluru", "zone_code": "KA",
        "postal_code": "560001", "country_code": "IN",
    }


def _image_item(i: int) -> OrderItem:
    address = ImporterAddress("1 MG Road", "Bengaluru", "KA", "560001", "IN")
    return OrderItem(f"Item {i}", 100, 1, country_of_origin="India", importer_name="Asha",
                     importer_address=address, image_link=f"https://example.com/{i}.jpg")


def test_item_images_limit_ten_items_and_exclude_catalog_and_sku() -> None:
    msg = order(catalog_id=None, items=[_image_item(i) for i in range(10)])
    assert msg.to_payload(TO)["interactive"]["action"]["parameters"]["order"]["items"][0]["image"] == {
        "link": "https://example.com/0.jpg"
    }
    fails(f"{P}.order.items", lambda: order(catalog_id=None, items=[_image_item(i) for i in range(11)]))
    fails(f"{P}.order.items.image", lambda: order(catalog_id="c", items=[_image_item(0)]))
    fails(f"{P}.order.items.image", lambda: OrderItem("x", 1, 1, retailer_id="s", image_link="https://e.com/a.jpg"))
    fails(f"{P}.order.items.image.link", lambda: OrderItem("x", 1, 1, image_link="ftp://e.com/a.jpg"))


def test_charge_and_discount_description_lengths() -> None:
    order(tax=Charge(1, "x" * 60), discount=Discount(0, "y" * 60, "z" * 60))
    fails(f"{P}.order.tax.description", lambda: order(tax=Charge(1, "x" * 61)))
    fails(f"{P}.order.shipping.description", lambda: order(shipping=Charge(1, "x" * 61)))
    fails(f"{P}.order.discount.description", lambda: order(discount=Discount(0, "x" * 61)))
    fails(f"{P}.order.discount.discount_program_name", lambda: order(discount=Discount(0, None, "x" * 61)))


def test_tax_is_required() -> None:
    fails(f"{P}.order.tax", lambda: order(tax=None))


# --- expiration -----------------------------------------------------------------------------------
def test_expiration_at_least_300_seconds_ahead() -> None:
    assert order(expiration=NOW + 300).expiration == NOW + 300
    err = fails(f"{P}.order.expiration.timestamp", lambda: order(expiration=NOW + 299))
    assert "5 minutes" in err.limit_description
    fails(f"{P}.order.expiration.timestamp", lambda: order(expiration=NOW - 10))


def test_expiration_accepts_aware_datetimes_and_datetime_now() -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    msg = order(expiration=datetime(2030, 1, 1, 0, 5, tzinfo=UTC), now=now)
    assert msg.expiration == int(datetime(2030, 1, 1, 0, 5, tzinfo=UTC).timestamp())
    fails(f"{P}.order.expiration.timestamp", lambda: order(expiration=datetime(2030, 1, 1, 0, 5), now=now))
    fails(f"{P}.order.expiration.timestamp", lambda: order(expiration="soon"))


def test_expiration_uses_the_wall_clock_by_default() -> None:
    fails(f"{P}.order.expiration.timestamp", lambda: order(expiration=NOW + 3600, now=None))  # 2023 is past
    assert order(expiration=4_000_000_000, now=None).expiration == 4_000_000_000


def test_expiration_description_max_120_and_needs_a_time() -> None:
    order(expiration=NOW + 600, expiration_description="x" * 120)
    fails(f"{P}.order.expiration.description",
          lambda: order(expiration=NOW + 600, expiration_description="x" * 121))
    fails(f"{P}.order.expiration", lambda: order(expiration_description="why"))


# --- gateway ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("gw", "options"),
    [
        ("billdesk", {f"additional_info{i}": "x" * 120 for i in range(1, 8)}),
        ("razorpay", {"receipt": "r" * 40, "notes": {f"k{i}": "v" * 256 for i in range(15)}}),
        ("payu", {f"udf{i}": "u" * 255 for i in range(1, 5)}),
        ("zaakpay", {"extra1": "e" * 180, "extra2": "e"}),
        ("payu", {}),
    ],
)
def test_gateway_types_and_options_accepted(gw: Any, options: dict[str, Any]) -> None:
    d = PaymentGateway(gw, "cfg", options).to_dict()
    assert d["type"] == "payment_gateway"
    assert d["payment_gateway"]["type"] == gw
    assert d["payment_gateway"].get(gw, {}) == options


GW = f"{P}.payment_settings.payment_gateway"


@pytest.mark.parametrize(
    ("gw", "options", "field"),
    [
        ("billdesk", {"additional_info1": "x" * 121}, f"{GW}.billdesk.additional_info1"),
        ("billdesk", {"additional_info8": "x"}, f"{GW}.billdesk.additional_info8"),
        ("razorpay", {"receipt": "r" * 41}, f"{GW}.razorpay.receipt"),
        ("razorpay", {"notes": {f"k{i}": "v" for i in range(16)}}, f"{GW}.razorpay.notes"),
        ("razorpay", {"notes": {"k": "v" * 257}}, f"{GW}.razorpay.notes.k"),
        ("razorpay", {"notes": "k=v"}, f"{GW}.razorpay.notes"),
        ("payu", {"udf1": "u" * 256}, f"{GW}.payu.udf1"),
        ("payu", {"udf5": "u"}, f"{GW}.payu.udf5"),
        ("zaakpay", {"extra1": "e" * 181}, f"{GW}.zaakpay.extra1"),
        ("zaakpay", {"receipt": "e"}, f"{GW}.zaakpay.receipt"),
    ],
)
def test_gateway_option_limits(gw: Any, options: dict[str, Any], field: str) -> None:
    fails(field, lambda: PaymentGateway(gw, "cfg", options))


def test_gateway_enum_and_configuration_name() -> None:
    fails(f"{GW}.type", lambda: PaymentGateway("stripe", "cfg"))  # type: ignore[arg-type]
    PaymentGateway("payu", "c" * 60)
    fails(f"{GW}.configuration_name", lambda: PaymentGateway("payu", "c" * 61))
    fails(f"{GW}.configuration_name", lambda: PaymentGateway("payu", ""))


# --- goods type, beneficiaries, header, quick pay -------------------------------------------------------
def test_goods_type_enum() -> None:
    fails(f"{P}.type", lambda: order(type="services"))


def test_physical_goods_need_a_beneficiary() -> None:
    fails(f"{P}.beneficiaries", lambda: order(type="physical-goods"))
    ben = Beneficiary("Asha Rao", "1 MG Road", "Bengaluru", "Karnataka", "560001", address_line2="Flat 2")
    params = order(type="physical-goods", beneficiaries=[ben]).to_payload(TO)["interactive"]["action"]["parameters"]
    assert params["type"] == "physical-goods"
    assert params["beneficiaries"] == [
        {"name": "Asha Rao", "address_line1": "1 MG Road", "address_line2": "Flat 2", "city": "Bengaluru",
         "state": "Karnataka", "country": "India", "postal_code": "560001"}
    ]


def test_beneficiary_limits() -> None:
    B = "interactive.action.parameters.beneficiaries"
    Beneficiary("x" * 200, "y" * 100, "c", "s", "560001")
    fails(f"{B}.name", lambda: Beneficiary("x" * 201, "a", "c", "s", "560001"))
    fails(f"{B}.address_line1", lambda: Beneficiary("n", "y" * 101, "c", "s", "560001"))
    fails(f"{B}.postal_code", lambda: Beneficiary("n", "a", "c", "s", "56001"))
    fails(f"{B}.postal_code", lambda: Beneficiary("n", "a", "c", "s", "5600011"))
    fails(f"{B}.country", lambda: Beneficiary("n", "a", "c", "s", "560001", country="Nepal"))


def test_header_is_image_only_and_body_footer_limits() -> None:
    fails("interactive.header", lambda: order(header=TextHeader("Hi")))
    fails("interactive.header", lambda: order(header=MediaHeader("video", id="1")))
    order(body="x" * 1024, footer="f" * 60)
    fails("interactive.body.text", lambda: order(body="x" * 1025))
    fails("interactive.body.text", lambda: order(body=""))
    fails("interactive.footer.text", lambda: order(footer="f" * 61))


def test_quick_pay() -> None:
    assert order(quick_pay=True).to_payload(TO)["interactive"]["action"]["parameters"]["order"]["type"] == "quick_pay"


def test_order_details_is_frozen_and_replaceable() -> None:
    msg = order()
    with pytest.raises(AttributeError):
        msg.reference_id = "x"  # type: ignore[misc]
    assert replace(msg, reference_id="NEW-1", now=NOW).reference_id == "NEW-1"


# --- 3.8 order_status -----------------------------------------------------------------------------------------
def test_order_status_matches_reference() -> None:
    msg = OrderStatusMessage("BM345A-12", "shipped", "Your order shipped", description="Via BlueDart")
    assert msg.to_payload(TO)["interactive"] == {
        "type": "order_status",
        "body": {"text": "Your order shipped"},
        "action": {
            "name": "review_order",
            "parameters": {"reference_id": "BM345A-12", "order": {"status": "shipped", "description": "Via BlueDart"}},
        },
    }


@pytest.mark.parametrize("status", ["processing", "partially_shipped", "shipped", "completed", "canceled"])
def test_order_status_enum_accepted(status: Any) -> None:
    payload = OrderStatusMessage("R1", status, "b").to_payload(TO)
    assert payload["interactive"]["action"]["parameters"]["order"] == {"status": status}


@pytest.mark.parametrize("status", ["pending", "cancelled", "SHIPPED", "", None])
def test_order_status_enum_rejected(status: Any) -> None:
    fails(f"{P}.order.status", lambda: OrderStatusMessage("R1", status, "b"))


def test_order_status_limits() -> None:
    OrderStatusMessage("R1", "completed", "b", description="d" * 120, footer="f" * 60)
    fails(f"{P}.order.description", lambda: OrderStatusMessage("R1", "completed", "b", description="d" * 121))
    fails(f"{P}.reference_id", lambda: OrderStatusMessage("bad ref", "completed", "b"))
    fails("interactive.body.text", lambda: OrderStatusMessage("R1", "completed", ""))


# --- 3.12 mark as read, typing ---------------------------------------------------------------------------------
def test_read_receipt_payloads_match_reference() -> None:
    assert ReadReceipt("wamid.X").to_payload() == {
        "messaging_product": "whatsapp", "status": "read", "message_id": "wamid.X"
    }
    assert ReadReceipt("wamid.X", typing=True).to_payload() == {
        "messaging_product": "whatsapp", "status": "read", "message_id": "wamid.X", "typing_indicator": {"type": "text"}
    }


def test_read_receipt_needs_a_message_id() -> None:
    fails("message_id", lambda: ReadReceipt(""))
    fails("message_id", lambda: ReadReceipt(None))  # type: ignore[arg-type]
    fails("typing_indicator", lambda: ReadReceipt("wamid.X", typing="yes"))  # type: ignore[arg-type]
