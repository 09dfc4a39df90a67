"""Razorpay failures, typed. Nothing is retried here: the caller (usually a job) decides with `retryable`.

- `RazorpayError`: Razorpay answered with its error body (`code`, `description`, `field`, `reason`, …) and an
  HTTP status; 5xx and 429 are retryable, 4xx are not (bad input, bad credentials, unknown id).
- `RazorpayTransportError`: no answer at all (connection, DNS, TLS, timeout); retryable.
- `RazorpayUnexpectedResponse`: a 2xx that is not the JSON shape the call expects; not retryable.
"""

from __future__ import annotations

from typing import Any


class PaymentGatewayError(Exception):
    """Any failure talking to the payment gateway."""

    retryable: bool = False


class RazorpayError(PaymentGatewayError):
    def __init__(self, http_status: int, code: str, description: str, *, field: str | None = None,
                 reason: str | None = None, source: str | None = None, step: str | None = None,
                 metadata: dict[str, Any] | None = None) -> None:
        self.http_status, self.code, self.description = http_status, code, description
        self.field, self.reason, self.source, self.step = field, reason, source, step
        self.metadata = metadata or {}
        self.retryable = http_status >= 500 or http_status == 429
        super().__init__(f"Razorpay {code} (HTTP {http_status}): {description}" + (f" [{field}]" if field else ""))

    @property
    def auth_failed(self) -> bool:
        return self.http_status == 401

    @classmethod
    def from_body(cls, http_status: int, body: Any, excerpt: str) -> RazorpayError:
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict):
            return cls(http_status, "UNKNOWN_ERROR", f"HTTP {http_status} without a Razorpay error body: {excerpt}")

        def text(key: str) -> str | None:
            value = error.get(key)
            return value if isinstance(value, str) and value not in ("", "NA") else None

        metadata = error.get("metadata")
        return cls(http_status, text("code") or "UNKNOWN_ERROR", text("description") or "No description given.",
                   field=text("field"), reason=text("reason"), source=text("source"), step=text("step"),
                   metadata=metadata if isinstance(metadata, dict) else None)


class RazorpayTransportError(PaymentGatewayError):
    """The request never got an answer from Razorpay. Safe to retry (refunds with the same idempotency key)."""

    retryable = True

    def __init__(self, message: str, *, timeout: bool = False) -> None:
        self.timeout = timeout
        super().__init__(message)


class RazorpayUnexpectedResponse(PaymentGatewayError):
    """Razorpay answered 2xx with something other than the JSON this call expects (never a KeyError)."""

    def __init__(self, http_status: int, message: str) -> None:
        self.http_status = http_status
        super().__init__(message)
