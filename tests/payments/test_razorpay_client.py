"""RazorpayClient against the Razorpay sandbox over real HTTP (the whole app on `live_server`); nothing of our
client is mocked. The sandbox's control API plays the customer (pays or fails an order)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from softdukan.payments.errors import RazorpayError, RazorpayTransportError
from softdukan.payments.razorpay import (
    RazorpayClient,
    verify_checkout_signature,
    verify_webhook_signature,
)
from softdukan.payments.signatures import checkout_signature


@pytest.fixture
async def razorpay(runtime, live_server) -> AsyncIterator[RazorpayClient]:  # type: ignore[no-untyped-def]
    async with RazorpayClient.from_settings(live_server.settings) as client:
        yield client


async def _control(live_server: Any, path: str, **body: Any) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=20) as http:
        response = await http.post(f"{live_server.url}/sandbox/razorpay/_sandbox{path}", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_webhook_signature_matches_the_reference_vector() -> None:
    body = b'{"event":"payment.captured","id":"test"}'
    expected = "02c62053f184329c4310e6b842500e56ee72acee87ce9389b15dcceb9783f4e6"
    assert verify_webhook_signature(body, expected, "whsec_test_123")
    assert verify_webhook_signature(body, expected.upper(), "whsec_test_123")  # hex case does not matter
    assert not verify_webhook_signature(body, expected, "whsec_test_124")
    assert not verify_webhook_signature(body + b" ", expected, "whsec_test_123")  # raw bytes, not re-serialised
    assert not verify_webhook_signature(body, None, "whsec_test_123")
    assert not verify_webhook_signature(body, "", "whsec_test_123")
    assert not verify_webhook_signature(body, "zz" * 32, "whsec_test_123")


def test_checkout_signature_is_over_order_and_payment_ids() -> None:
    signature = checkout_signature("order_DaZlswtdcn9UNV", "pay_29QQoUBi66xm2f", "key-secret")
    assert verify_checkout_signature("order_DaZlswtdcn9UNV", "pay_29QQoUBi66xm2f", signature, "key-secret")
    assert not verify_checkout_signature("order_OtherOrder0000", "pay_29QQoUBi66xm2f", signature, "key-secret")
    assert not verify_checkout_signature("order_DaZlswtdcn9UNV", "pay_OtherPayment00", signature, "key-secret")
    assert not verify_checkout_signature("order_DaZlswtdcn9UNV", "pay_29QQoUBi66xm2f", signature, "other-secret")
    assert not verify_checkout_signature("order_DaZlswtdcn9UNV", "pay_29QQoUBi66xm2f", None, "key-secret")


async def test_create_and_fetch_an_order(razorpay: RazorpayClient) -> None:
    order = await razorpay.create_order(118000, receipt="topup_01J9Z4W8K2", notes={"topup_id": "01J9Z4W8K2"})
    assert order.id.startswith("order_")
    assert (order.amount, order.amount_due, order.status, order.attempts) == (118000, 118000, "created", 0)
    fetched = await razorpay.fetch_order(order.id)
    assert (fetched.id, fetched.receipt, fetched.notes) == (order.id, "topup_01J9Z4W8K2", {"topup_id": "01J9Z4W8K2"})
    assert fetched.created_at is not None
    assert await razorpay.order_payments(order.id) == []


@pytest.mark.parametrize(("kwargs", "field", "words"), [
    ({"amount": 50}, "amount", "atleast INR 1.00"),
    ({"amount": 500, "receipt": "x" * 41}, "receipt", "40 characters"),
    ({"amount": 500, "notes": {f"n{i}": "v" for i in range(16)}}, "notes", "15"),
    ({"amount": 500, "notes": {"n": "v" * 300}}, "notes", "256"),
    ({"amount": 500, "currency": "EUR"}, "currency", "not supported"),
])
async def test_bad_orders_raise_razorpays_error(razorpay: RazorpayClient, kwargs: dict[str, Any], field: str,
                                                words: str) -> None:
    amount = kwargs.pop("amount")
    with pytest.raises(RazorpayError) as caught:
        await razorpay.create_order(amount, **kwargs)
    error = caught.value
    assert (error.http_status, error.code, error.field) == (400, "BAD_REQUEST_ERROR", field)
    assert words in error.description and not error.retryable


async def test_bad_credentials_raise_an_auth_error(runtime, live_server) -> None:  # type: ignore[no-untyped-def]
    key_id, _ = live_server.settings.razorpay_keys
    async with RazorpayClient(base_url=live_server.settings.razorpay_url, key_id=key_id,
                              key_secret="wrong-secret") as client:
        with pytest.raises(RazorpayError) as caught:
            await client.create_order(1000)
    assert caught.value.auth_failed and caught.value.http_status == 401
    assert caught.value.description == "Authentication failed"


async def test_an_unknown_id_is_razorpays_400(razorpay: RazorpayClient) -> None:
    with pytest.raises(RazorpayError) as caught:
        await razorpay.fetch_payment("pay_doesnotexist000")
    assert (caught.value.http_status, caught.value.description) == (400, "The id provided does not exist")
    with pytest.raises(ValueError):
        await razorpay.fetch_order("../v1/payments")  # never lets an id change the path


async def test_no_answer_is_a_transport_error() -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with RazorpayClient(base_url=f"http://127.0.0.1:{port}", key_id="k", key_secret="s") as client:
        with pytest.raises(RazorpayTransportError) as caught:
            await client.fetch_order("order_x")
    assert caught.value.retryable and not isinstance(caught.value, RazorpayError)


async def test_a_paid_order_and_its_payment(razorpay: RazorpayClient, live_server) -> None:  # type: ignore[no-untyped-def]
    order = await razorpay.create_order(25000, receipt="r-1")
    callback = await _control(live_server, f"/orders/{order.id}/pay")
    _, key_secret = live_server.settings.razorpay_keys
    assert verify_checkout_signature(order.id, callback["razorpay_payment_id"], callback["razorpay_signature"],
                                     key_secret)
    payment = await razorpay.fetch_payment(callback["razorpay_payment_id"])
    assert (payment.status, payment.captured, payment.amount, payment.order_id) == ("captured", True, 25000, order.id)
    paid = await razorpay.fetch_order(order.id)
    assert (paid.status, paid.amount_paid, paid.amount_due, paid.attempts) == ("paid", 25000, 0, 1)
    assert [p.id for p in await razorpay.order_payments(order.id)] == [payment.id]


async def test_a_failed_payment(razorpay: RazorpayClient, live_server) -> None:  # type: ignore[no-untyped-def]
    order = await razorpay.create_order(25000)
    failed = await _control(live_server, f"/orders/{order.id}/fail")
    payment = await razorpay.fetch_payment(failed["payment"]["id"])
    assert (payment.status, payment.captured, payment.error_code) == ("failed", False, "BAD_REQUEST_ERROR")
    assert payment.error_description
    assert (await razorpay.fetch_order(order.id)).status == "attempted"
    with pytest.raises(RazorpayError) as caught:
        await razorpay.refund(payment.id, amount=1000)
    assert "captured" in caught.value.description


async def test_partial_refunds_over_refund_and_idempotency(razorpay: RazorpayClient,
                                                          live_server) -> None:  # type: ignore[no-untyped-def]
    order = await razorpay.create_order(118000)
    payment_id = (await _control(live_server, f"/orders/{order.id}/pay"))["razorpay_payment_id"]
    first = await razorpay.refund(payment_id, amount=59000, receipt="rr_7781", idempotency_key="refund-req-000001")
    assert (first.amount, first.status, first.payment_id, first.receipt) == (59000, "processed", payment_id, "rr_7781")
    again = await razorpay.refund(payment_id, amount=59000, idempotency_key="refund-req-000001")
    assert again.id == first.id
    assert (await razorpay.fetch_payment(payment_id)).amount_refunded == 59000
    with pytest.raises(RazorpayError) as caught:
        await razorpay.refund(payment_id, amount=59001, idempotency_key="refund-req-000002")
    assert caught.value.field == "amount" and "greater than amount captured" in caught.value.description
    rest = await razorpay.refund(payment_id, idempotency_key="refund-req-000003")
    assert rest.amount == 59000
    payment = await razorpay.fetch_payment(payment_id)
    assert (payment.status, payment.amount_refunded, payment.refund_status) == ("refunded", 118000, "full")
    assert (await razorpay.fetch_refund(first.id)).amount == 59000
