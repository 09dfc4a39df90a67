"""The Razorpay sandbox over real HTTP (the whole app on `live_server`): REST API with Basic auth, Razorpay's error
bodies, the checkout page from a browser's point of view (cookies, CSRF, callback), signed webhooks with retries and
replays (to a receiver of our own, see conftest's `receiver`)."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.support.polling import eventually


class Rzp:
    def __init__(self, live_server: Any, http: httpx.AsyncClient) -> None:
        self.settings = live_server.settings
        self.base = live_server.url + "/sandbox/razorpay"
        self.key_id, self.key_secret = self.settings.razorpay_keys
        self.http = http

    async def api(self, method: str, path: str, *, auth: tuple[str, str] | None = None,
                  **kwargs: Any) -> httpx.Response:
        return await self.http.request(method, self.base + path, auth=auth or (self.key_id, self.key_secret), **kwargs)

    async def order(self, amount: int = 118000, **extra: Any) -> dict[str, Any]:
        response = await self.api("POST", "/v1/orders", json={"amount": amount, "currency": "INR", **extra})
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def control(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = await self.http.request(method, self.base + "/_sandbox" + path, **kwargs)
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def deliveries(self, **params: str) -> list[dict[str, Any]]:
        return list((await self.control("GET", "/deliveries", params=params))["data"])


@pytest.fixture
async def rzp(runtime, live_server) -> AsyncIterator[Rzp]:  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient(timeout=20) as http:
        yield Rzp(live_server, http)


def assert_razorpay_error(response: httpx.Response, status: int, description: str,
                          field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == "BAD_REQUEST_ERROR"
    assert description in error["description"]
    if field is not None:
        assert error.get("field") == field
    return dict(error)


async def test_order_is_created_and_fetched(rzp: Rzp) -> None:
    order = await rzp.order(118000, receipt="topup_01J9Z4W8K2", notes={"topup_id": "01J9Z4W8K2"})
    assert order["id"].startswith("order_") and order["entity"] == "order"
    assert (order["amount"], order["amount_paid"], order["amount_due"]) == (118000, 0, 118000)
    assert (order["status"], order["attempts"], order["currency"]) == ("created", 0, "INR")
    fetched = (await rzp.api("GET", f"/v1/orders/{order['id']}")).json()
    assert fetched["receipt"] == "topup_01J9Z4W8K2" and fetched["notes"] == {"topup_id": "01J9Z4W8K2"}
    payments = (await rzp.api("GET", f"/v1/orders/{order['id']}/payments")).json()
    assert payments == {"entity": "collection", "count": 0, "items": []}


@pytest.mark.parametrize(("body", "description", "field"), [
    ({"amount": 99, "currency": "INR"}, "The amount must be atleast INR 1.00", "amount"),
    ({"amount": "ten", "currency": "INR"}, "The amount must be an integer.", "amount"),
    ({"currency": "INR"}, "The amount field is required.", "amount"),
    ({"amount": 500, "currency": "USD"}, "Currency is not supported", "currency"),
    ({"amount": 500, "currency": "INR", "receipt": "r" * 41}, "may not be greater than 40 characters", "receipt"),
    ({"amount": 500, "currency": "INR", "notes": {f"k{i}": "v" for i in range(16)}}, "at most 15 keys", "notes"),
    ({"amount": 500, "currency": "INR", "notes": {"k": "v" * 257}}, "at most 256 characters", "notes"),
    ({"amount": 500, "currency": "INR", "colour": "red"}, "colour is/are not required", "colour"),
])
async def test_bad_orders_are_refused_as_razorpay_does(rzp: Rzp, body: dict[str, Any], description: str,
                                                      field: str) -> None:
    response = await rzp.api("POST", "/v1/orders", json=body)
    assert_razorpay_error(response, 400, description, field)


async def test_a_receipt_of_40_characters_and_15_notes_are_accepted(rzp: Rzp) -> None:
    order = await rzp.order(100, receipt="r" * 40, notes={f"k{i}": "v" * 256 for i in range(15)})
    assert len(order["notes"]) == 15 and order["amount"] == 100


async def test_wrong_or_missing_credentials_are_401(rzp: Rzp) -> None:
    wrong = await rzp.api("POST", "/v1/orders", json={"amount": 500, "currency": "INR"},
                          auth=(rzp.key_id, "not-the-secret"))
    error = assert_razorpay_error(wrong, 401, "Authentication failed")
    assert set(error) >= {"code", "description", "source", "step", "reason", "metadata"}
    missing = await rzp.http.post(rzp.base + "/v1/orders", json={"amount": 500, "currency": "INR"})
    assert_razorpay_error(missing, 401, "Authentication failed")
    order = await rzp.order()
    other = await rzp.api("GET", f"/v1/orders/{order['id']}", auth=("rzp_test_unknownkey", rzp.key_secret))
    assert_razorpay_error(other, 401, "Authentication failed")


async def test_unknown_ids_are_razorpays_400(rzp: Rzp) -> None:
    for path in ("/v1/orders/order_doesnotexist00", "/v1/payments/pay_doesnotexist000",
                 "/v1/refunds/rfnd_doesnotexist00"):
        assert_razorpay_error(await rzp.api("GET", path), 400, "The id provided does not exist")


async def test_another_merchant_cannot_see_the_order(rzp: Rzp) -> None:
    order = await rzp.order()
    await rzp.control("PUT", "/merchants/rzp_test_othershop01", json={
        "key_secret": "other-secret-0123456789ab", "webhook_secret": "other-webhook-secret", "webhook_url": None})
    response = await rzp.api("GET", f"/v1/orders/{order['id']}", auth=("rzp_test_othershop01",
                                                                        "other-secret-0123456789ab"))
    assert_razorpay_error(response, 400, "The id provided does not exist")


# -- checkout page


def _token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


async def _checkout(rzp: Rzp, browser: httpx.AsyncClient, order_id: str, action: str, *,
                    callback_method: str = "get") -> httpx.Response:
    page = await browser.get(f"{rzp.base}/checkout/{order_id}",
                             params={"callback_url": "https://shop.example.com/return?x=1",
                                     "callback_method": callback_method})
    assert page.status_code == 200, page.text
    return await browser.post(f"{rzp.base}/checkout/{order_id}", data={
        "csrf_token": _token(page.text), "action": action, "callback_url": "https://shop.example.com/return?x=1",
        "callback_method": callback_method})


async def test_checkout_page_shows_merchant_amount_and_the_three_choices(rzp: Rzp) -> None:
    order = await rzp.order(118000, receipt="topup_42")
    async with httpx.AsyncClient(timeout=20) as browser:
        page = await browser.get(f"{rzp.base}/checkout/{order['id']}", params={"callback_url": "https://x.example/cb"})
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    for text in ("SoftDukan", "₹1,180.00", "Pay (success)", "Fail payment", "Cancel", "topup_42"):
        assert text in page.text
    assert "sd_csrf" in page.cookies


async def test_checkout_pay_returns_a_signature_that_verifies(rzp: Rzp) -> None:
    order = await rzp.order(50000)
    async with httpx.AsyncClient(timeout=20) as browser:
        response = await _checkout(rzp, browser, order["id"], "pay")
    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    assert (location.scheme, location.netloc, location.path) == ("https", "shop.example.com", "/return")
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert query["x"] == "1" and query["razorpay_order_id"] == order["id"]
    expected = hmac.new(rzp.key_secret.encode(), f"{order['id']}|{query['razorpay_payment_id']}".encode(),
                        hashlib.sha256).hexdigest()
    assert query["razorpay_signature"] == expected
    payment = (await rzp.api("GET", f"/v1/payments/{query['razorpay_payment_id']}")).json()
    assert (payment["status"], payment["captured"], payment["amount"]) == ("captured", True, 50000)
    paid = (await rzp.api("GET", f"/v1/orders/{order['id']}")).json()
    assert (paid["status"], paid["amount_paid"], paid["amount_due"], paid["attempts"]) == ("paid", 50000, 0, 1)


async def test_checkout_returns_by_form_post_by_default(rzp: Rzp) -> None:
    order = await rzp.order(50000)
    async with httpx.AsyncClient(timeout=20) as browser:
        response = await _checkout(rzp, browser, order["id"], "pay", callback_method="post")
    assert response.status_code == 200
    assert 'action="https://shop.example.com/return?x=1"' in response.text.replace("&amp;", "&")
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', response.text))
    assert fields["razorpay_order_id"] == order["id"]
    assert fields["razorpay_payment_id"].startswith("pay_") and len(fields["razorpay_signature"]) == 64


async def test_checkout_inside_checkout_js_answers_the_shop_page_by_postmessage(rzp: Rzp) -> None:
    """The page the sandbox's checkout.js frames: `callback_url` is the shop page's origin, the answer a
    postMessage to that origin only, with the signed fields options.handler gets (or the failure, or dismiss)."""
    shop = "https://shop.example.com"
    script = await rzp.http.get(f"{rzp.base}/v1/checkout.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith("application/javascript")
    assert f'var BASE = "{rzp.base}"' in script.text and "window.Razorpay = Razorpay" in script.text
    order = await rzp.order(50000)
    async with httpx.AsyncClient(timeout=20) as browser:
        framed = {"callback_method": "postmessage", "callback_url": shop}
        wrong_key = await browser.get(f"{rzp.base}/checkout/{order['id']}", params={**framed, "key": "rzp_test_x"})
        assert wrong_key.status_code == 400 and "another Razorpay account" in wrong_key.text
        not_origin = await browser.get(f"{rzp.base}/checkout/{order['id']}",
                                       params={**framed, "callback_url": shop + "/return"})
        assert not_origin.status_code == 400 and "origin" in not_origin.text
        page = await browser.get(f"{rzp.base}/checkout/{order['id']}", params={**framed, "key": rzp.key_id})
        assert page.status_code == 200, page.text
        failed = await browser.post(f"{rzp.base}/checkout/{order['id']}", data={
            "csrf_token": _token(page.text), "action": "fail", **framed})
        assert failed.status_code == 200 and "Try again" in failed.text
        assert 'var origin = "https://shop.example.com"' in failed.text and "send(\"failed\")" in failed.text
        paid = await browser.post(f"{rzp.base}/checkout/{order['id']}", data={
            "csrf_token": _token(page.text), "action": "pay", **framed})
    assert paid.status_code == 200 and "send(\"success\")" in paid.text
    fields = json.loads(re.search(r"fields = (\{.*?\});", paid.text).group(1))  # type: ignore[union-attr]
    expected = hmac.new(rzp.key_secret.encode(), f"{order['id']}|{fields['razorpay_payment_id']}".encode(),
                        hashlib.sha256).hexdigest()
    assert (fields["razorpay_order_id"], fields["razorpay_signature"]) == (order["id"], expected)


async def test_a_paid_order_cannot_be_paid_again(rzp: Rzp) -> None:
    order = await rzp.order()
    await rzp.control("POST", f"/orders/{order['id']}/pay")
    async with httpx.AsyncClient(timeout=20) as browser:
        page = await browser.get(f"{rzp.base}/checkout/{order['id']}")
        assert "This order has been paid." in page.text and "Pay (success)" not in page.text
        token = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
        assert token
        response = await browser.post(f"{rzp.base}/checkout/{order['id']}", data={
            "csrf_token": token.group(1), "action": "pay"})  # a stale tab posting anyway
    assert response.status_code == 400 and "already been paid" in response.text
    again = await rzp.http.post(f"{rzp.base}/_sandbox/orders/{order['id']}/pay")
    assert_razorpay_error(again, 400, "Order has already been paid")
    payments = (await rzp.api("GET", f"/v1/orders/{order['id']}/payments")).json()
    assert payments["count"] == 1


async def test_checkout_fail_returns_razorpays_error_fields(rzp: Rzp) -> None:
    order = await rzp.order()
    async with httpx.AsyncClient(timeout=20) as browser:
        response = await _checkout(rzp, browser, order["id"], "fail")
    assert response.status_code == 303
    query = {k: v[0] for k, v in parse_qs(urlsplit(response.headers["location"]).query).items()}
    assert "razorpay_signature" not in query
    assert query["error[code]"] == "BAD_REQUEST_ERROR" and query["error[reason]"] == "payment_failed"
    metadata = json.loads(query["error[metadata]"])
    assert metadata["order_id"] == order["id"]
    payment = (await rzp.api("GET", f"/v1/payments/{metadata['payment_id']}")).json()
    assert (payment["status"], payment["captured"], payment["error_code"]) == ("failed", False, "BAD_REQUEST_ERROR")
    after = (await rzp.api("GET", f"/v1/orders/{order['id']}")).json()
    assert (after["status"], after["attempts"], after["amount_paid"]) == ("attempted", 1, 0)


async def test_checkout_cancel_pays_nothing(rzp: Rzp) -> None:
    order = await rzp.order()
    async with httpx.AsyncClient(timeout=20) as browser:
        response = await _checkout(rzp, browser, order["id"], "cancel")
    assert response.status_code == 303
    query = {k: v[0] for k, v in parse_qs(urlsplit(response.headers["location"]).query).items()}
    assert query["error[reason]"] == "payment_cancelled" and "razorpay_payment_id" not in query
    after = (await rzp.api("GET", f"/v1/orders/{order['id']}")).json()
    assert (after["status"], after["attempts"]) == ("created", 0)
    assert (await rzp.api("GET", f"/v1/orders/{order['id']}/payments")).json()["count"] == 0


async def test_checkout_form_without_the_csrf_token_is_refused(rzp: Rzp) -> None:
    order = await rzp.order()
    async with httpx.AsyncClient(timeout=20) as browser:
        await browser.get(f"{rzp.base}/checkout/{order['id']}")
        forged = await browser.post(f"{rzp.base}/checkout/{order['id']}", data={"action": "pay",
                                                                                "csrf_token": "0" * 64})
    assert forged.status_code == 403
    assert (await rzp.api("GET", f"/v1/orders/{order['id']}")).json()["status"] == "created"


async def test_checkout_refuses_a_callback_that_is_not_http(rzp: Rzp) -> None:
    order = await rzp.order()
    async with httpx.AsyncClient(timeout=20) as browser:
        page = await browser.get(f"{rzp.base}/checkout/{order['id']}", params={"callback_url": "javascript:alert(1)"})
        missing = await browser.get(f"{rzp.base}/checkout/order_nosuchorder000")
    assert page.status_code == 400 and "callback_url" in page.text
    assert missing.status_code == 404


# -- refunds


async def _paid(rzp: Rzp, amount: int = 100000) -> str:
    order = await rzp.order(amount)
    return str((await rzp.control("POST", f"/orders/{order['id']}/pay"))["razorpay_payment_id"])


async def test_partial_refunds_up_to_the_captured_amount(rzp: Rzp) -> None:
    payment_id = await _paid(rzp, 100000)
    first = await rzp.api("POST", f"/v1/payments/{payment_id}/refund", json={"amount": 60000, "speed": "normal"})
    assert first.status_code == 200, first.text
    assert (first.json()["amount"], first.json()["status"], first.json()["payment_id"]) == (60000, "processed",
                                                                                          payment_id)
    over = await rzp.api("POST", f"/v1/payments/{payment_id}/refund", json={"amount": 40001})
    assert_razorpay_error(over, 400, "greater than amount captured", "amount")
    partial = (await rzp.api("GET", f"/v1/payments/{payment_id}")).json()
    assert (partial["amount_refunded"], partial["refund_status"], partial["status"]) == (60000, "partial", "captured")
    rest = await rzp.api("POST", f"/v1/payments/{payment_id}/refund")  # no amount: what is left
    assert rest.status_code == 200 and rest.json()["amount"] == 40000
    full = (await rzp.api("GET", f"/v1/payments/{payment_id}")).json()
    assert (full["amount_refunded"], full["refund_status"], full["status"]) == (100000, "full", "refunded")
    fetched = (await rzp.api("GET", f"/v1/refunds/{first.json()['id']}")).json()
    assert fetched["amount"] == 60000
    assert (await rzp.api("GET", f"/v1/payments/{payment_id}/refunds")).json()["count"] == 2


async def test_refund_idempotency_header_returns_the_same_refund(rzp: Rzp) -> None:
    payment_id = await _paid(rzp, 100000)
    headers = {"X-Refund-Idempotency": "refund-request-0001"}
    first = await rzp.api("POST", f"/v1/payments/{payment_id}/refund", json={"amount": 30000}, headers=headers)
    second = await rzp.api("POST", f"/v1/payments/{payment_id}/refund", json={"amount": 30000}, headers=headers)
    assert first.status_code == second.status_code == 200
    assert first.json()["id"] == second.json()["id"]
    assert (await rzp.api("GET", f"/v1/payments/{payment_id}")).json()["amount_refunded"] == 30000
    other = await rzp.api("POST", f"/v1/payments/{payment_id}/refund", json={"amount": 30000},
                          headers={"X-Refund-Idempotency": "refund-request-0002"})
    assert other.json()["id"] != first.json()["id"]
    assert (await rzp.api("GET", f"/v1/payments/{payment_id}")).json()["amount_refunded"] == 60000


async def test_only_captured_payments_are_refunded(rzp: Rzp) -> None:
    order = await rzp.order()
    failed = await rzp.control("POST", f"/orders/{order['id']}/fail")
    response = await rzp.api("POST", f"/v1/payments/{failed['payment']['id']}/refund", json={"amount": 100})
    assert_razorpay_error(response, 400, "Only payments which have been captured can be refunded")


# -- webhooks


@pytest.fixture
async def hooked(rzp: Rzp, receiver) -> Rzp:  # type: ignore[no-untyped-def]
    """The default merchant's webhooks go to the test's receiver, retried quickly."""
    await rzp.control("PUT", f"/merchants/{rzp.key_id}", json={"webhook_url": receiver.url,
                                                                "retry_schedule_seconds": [0.2, 0.4]})
    return rzp


def _signed(body: bytes, headers: dict[str, str], secret: str) -> bool:
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(headers.get("x-razorpay-signature", ""), expected)


async def test_capture_sends_signed_payment_and_order_webhooks(hooked: Rzp, receiver) -> None:  # type: ignore[no-untyped-def]
    order = await hooked.order(118000, notes={"topup_id": "t1"})
    paid = await hooked.control("POST", f"/orders/{order['id']}/pay")
    await receiver.wait(lambda: len(receiver.posts) >= 3)
    secret = hooked.settings.razorpay_signing_secret
    events = {}
    for body, headers in receiver.posts:
        assert _signed(body, headers, secret)
        parsed = json.loads(body)
        events[parsed["event"]] = (parsed, headers)
    assert set(events) == {"payment.authorized", "payment.captured", "order.paid"}
    captured, headers = events["payment.captured"]
    assert captured["entity"] == "event" and captured["contains"] == ["payment"]
    entity = captured["payload"]["payment"]["entity"]
    assert (entity["id"], entity["order_id"], entity["status"], entity["captured"], entity["amount"]) == (
        paid["razorpay_payment_id"], order["id"], "captured", True, 118000)
    assert entity["notes"] == {"topup_id": "t1"} and entity["acquirer_data"]["rrn"]
    assert events["payment.authorized"][0]["payload"]["payment"]["entity"]["status"] == "authorized"
    order_paid = events["order.paid"][0]
    assert order_paid["contains"] == ["payment", "order"]
    assert order_paid["payload"]["order"]["entity"]["status"] == "paid"
    event_ids = {h["x-razorpay-event-id"] for _, h in receiver.posts}
    assert len(event_ids) == 3


async def test_failure_and_refund_webhooks(hooked: Rzp, receiver) -> None:  # type: ignore[no-untyped-def]
    order = await hooked.order(100000)
    await hooked.control("POST", f"/orders/{order['id']}/fail")
    payment_id = await _paid(hooked, 100000)
    refund = (await hooked.api("POST", f"/v1/payments/{payment_id}/refund", json={"amount": 59000})).json()
    await receiver.wait(lambda: {"payment.failed", "refund.created", "refund.processed"}
                        <= {b["event"] for b in receiver.bodies()})
    by_event = {b["event"]: b for b in receiver.bodies()}
    failed = by_event["payment.failed"]["payload"]["payment"]["entity"]
    assert (failed["status"], failed["error_code"]) == ("failed", "BAD_REQUEST_ERROR")
    processed = by_event["refund.processed"]
    assert processed["contains"] == ["refund", "payment"]
    entity = processed["payload"]["refund"]["entity"]
    assert (entity["id"], entity["amount"], entity["status"], entity["payment_id"]) == (
        refund["id"], 59000, "processed", payment_id)
    assert processed["payload"]["payment"]["entity"]["refund_status"] == "partial"
    assert by_event["refund.created"]["payload"]["refund"]["entity"]["status"] == "pending"


async def test_a_failed_delivery_is_retried_then_delivered(hooked: Rzp, receiver) -> None:  # type: ignore[no-untyped-def]
    receiver.fail_next = 1
    sent = await hooked.control("POST", "/events", json={"event": "payment.downtime.started", "payload": {}})

    async def delivered() -> dict[str, Any] | None:
        rows = [d for d in await hooked.deliveries() if d["id"] == sent["id"]]
        return rows[0] if rows and rows[0]["status"] == "delivered" else None

    row = await eventually(delivered, what="the retried delivery")
    assert row["attempts"] == 2 and row["last_status_code"] == 200
    assert len(receiver.posts) == 2
    assert receiver.posts[0][0] == receiver.posts[1][0]  # the same bytes, signed the same
    assert receiver.posts[0][1]["x-razorpay-event-id"] == receiver.posts[1][1]["x-razorpay-event-id"]


async def test_a_delivery_that_always_fails_ends_dead(hooked: Rzp, receiver) -> None:  # type: ignore[no-untyped-def]
    receiver.fail_next = 100
    sent = await hooked.control("POST", "/events", json={"event": "payment.captured", "payload": {}})

    async def dead() -> dict[str, Any] | None:
        rows = [d for d in await hooked.deliveries() if d["id"] == sent["id"]]
        return rows[0] if rows and rows[0]["status"] == "dead" else None

    row = await eventually(dead, what="the delivery to give up")
    assert row["attempts"] == 3 and row["last_status_code"] == 500  # the first try and two retries


async def test_redeliver_replays_the_same_event(hooked: Rzp, receiver) -> None:  # type: ignore[no-untyped-def]
    sent = await hooked.control("POST", "/events", json={"event": "order.paid", "payload": {}})
    await receiver.wait(lambda: len(receiver.posts) == 1)
    replay = await hooked.control("POST", f"/events/{sent['event_id']}/redeliver")
    assert replay["id"] != sent["id"] and replay["event_id"] == sent["event_id"]
    await receiver.wait(lambda: len(receiver.posts) == 2)
    assert receiver.posts[0][0] == receiver.posts[1][0]
    assert receiver.posts[1][1]["x-razorpay-event-id"] == sent["event_id"]
    missing = await hooked.http.post(f"{hooked.base}/_sandbox/events/nosuchevent123/redeliver")
    assert_razorpay_error(missing, 400, "The id provided does not exist")
