"""Async client of Razorpay's REST API (orders, payments, refunds), one instance per key pair.

```python
async with RazorpayClient.from_settings(settings) as razorpay:
    order = await razorpay.create_order(118000, receipt=topup_ref, notes={"topup_id": topup_ref})
```

It talks to `settings.razorpay_url`: Razorpay itself (`https://api.razorpay.com`) or the sandbox at
`{BASE_URL}/sandbox/razorpay`. Every failure raises a `PaymentGatewayError` (see `errors.py`); nothing is
retried here. Refunds take an idempotency key (`X-Refund-Idempotency`) so a retry never refunds twice.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from softdukan.config import Settings
from softdukan.payments.entities import EntityError, Order, Payment, Refund
from softdukan.payments.errors import RazorpayError, RazorpayTransportError, RazorpayUnexpectedResponse
from softdukan.payments.signatures import verify_checkout_signature, verify_webhook_signature

__all__ = ["Order", "Payment", "RazorpayClient", "Refund", "verify_checkout_signature", "verify_webhook_signature"]

DEFAULT_TIMEOUT = httpx.Timeout(20.0, connect=10.0)
_SAFE_ID = re.compile(r"[A-Za-z0-9_]{1,64}")
_EXCERPT = 200
Entity = TypeVar("Entity", Order, Payment, Refund)


def _path_id(value: str, what: str) -> str:
    """An id that goes into a URL path: a caller's value never changes the path."""
    if not isinstance(value, str) or not _SAFE_ID.fullmatch(value):
        raise ValueError(f"{what} must be a Razorpay id (letters, digits, '_'); got {value!r:.60}")
    return value


class RazorpayClient:
    """Use `async with` or `aclose()`. Pass `http` to share a connection pool (the client then leaves it open)."""

    def __init__(self, *, base_url: str, key_id: str, key_secret: str, http: httpx.AsyncClient | None = None,
                 timeout: httpx.Timeout | float = DEFAULT_TIMEOUT) -> None:
        self.base_url = base_url.rstrip("/")
        self.key_id = key_id
        self._auth = httpx.BasicAuth(key_id, key_secret)
        self._own_http = http is None
        self._http = http or httpx.AsyncClient(timeout=timeout)

    @classmethod
    def from_settings(cls, settings: Settings, *, http: httpx.AsyncClient | None = None) -> RazorpayClient:
        key_id, key_secret = settings.razorpay_keys
        return cls(base_url=settings.razorpay_url, key_id=key_id, key_secret=key_secret, http=http)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._own_http:
            await self._http.aclose()

    # -- orders

    async def create_order(self, amount: int, *, currency: str = "INR", receipt: str | None = None,
                           notes: Mapping[str, str] | None = None) -> Order:
        """`amount` in paise (at least 100). `receipt` is our reference (≤ 40 characters)."""
        body: dict[str, Any] = {"amount": amount, "currency": currency}
        if receipt is not None:
            body["receipt"] = receipt
        if notes:
            body["notes"] = dict(notes)
        return self._parse(Order, await self._request("POST", "/v1/orders", json=body))

    async def fetch_order(self, order_id: str) -> Order:
        return self._parse(Order, await self._request("GET", f"/v1/orders/{_path_id(order_id, 'order_id')}"))

    async def order_payments(self, order_id: str) -> list[Payment]:
        """Every payment attempt of the order, newest first."""
        body = await self._request("GET", f"/v1/orders/{_path_id(order_id, 'order_id')}/payments")
        return [self._parse(Payment, item) for item in self._items(body)]

    # -- payments and refunds

    async def fetch_payment(self, payment_id: str) -> Payment:
        return self._parse(Payment, await self._request("GET", f"/v1/payments/{_path_id(payment_id, 'payment_id')}"))

    async def refund(self, payment_id: str, *, amount: int | None = None, speed: str = "normal",
                     receipt: str | None = None, notes: Mapping[str, str] | None = None,
                     idempotency_key: str | None = None) -> Refund:
        """Refund a captured payment: all of what is left, or `amount` paise. The same `idempotency_key`
        (10–100 characters; e.g. our refund request's id) returns the first refund instead of a second one."""
        body: dict[str, Any] = {"speed": speed}
        if amount is not None:
            body["amount"] = amount
        if receipt is not None:
            body["receipt"] = receipt
        if notes:
            body["notes"] = dict(notes)
        headers = {"X-Refund-Idempotency": idempotency_key} if idempotency_key else None
        path = f"/v1/payments/{_path_id(payment_id, 'payment_id')}/refund"
        return self._parse(Refund, await self._request("POST", path, json=body, headers=headers))

    async def fetch_refund(self, refund_id: str) -> Refund:
        return self._parse(Refund, await self._request("GET", f"/v1/refunds/{_path_id(refund_id, 'refund_id')}"))

    # -- transport

    async def _request(self, method: str, path: str, *, json: dict[str, Any] | None = None,
                       headers: dict[str, str] | None = None) -> Any:
        try:
            response = await self._http.request(method, self.base_url + path, json=json, headers=headers,
                                                auth=self._auth)
        except httpx.TimeoutException as exc:
            raise RazorpayTransportError(f"Razorpay timed out: {type(exc).__name__}", timeout=True) from exc
        except httpx.HTTPError as exc:
            raise RazorpayTransportError(f"Razorpay could not be reached: {type(exc).__name__}: {exc}") from exc
        try:
            payload: Any = response.json()
            decoded = True
        except ValueError:
            payload, decoded = None, False
        if not 200 <= response.status_code < 300:
            raise RazorpayError.from_body(response.status_code, payload, self._excerpt(response))
        if not decoded:
            raise RazorpayUnexpectedResponse(response.status_code,
                                             f"expected JSON, got: {self._excerpt(response) or '<empty>'}")
        return payload

    @staticmethod
    def _excerpt(response: httpx.Response) -> str:
        text = " ".join(response.text.split())
        return text[:_EXCERPT] + ("…" if len(text) > _EXCERPT else "")

    @staticmethod
    def _items(body: Any) -> list[Any]:
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise RazorpayUnexpectedResponse(200, f"expected a collection, got {str(body)[:_EXCERPT]}")
        return items

    @staticmethod
    def _parse(kind: type[Entity], body: Any) -> Entity:
        try:
            return kind.parse(body)
        except EntityError as exc:
            raise RazorpayUnexpectedResponse(200, f"{exc}: {str(body)[:_EXCERPT]}") from exc
