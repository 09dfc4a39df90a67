"""Razorpay's error body: `{"error": {"code", "description", "source", "step", "reason", "metadata", "field"}}`.

`RazorpayFault` is raised anywhere in the Razorpay sandbox; the handler installed by `softdukan.sandbox.mount`
renders it as Razorpay does. Razorpay answers unknown ids and bad input with 400 BAD_REQUEST_ERROR and wrong
credentials with 401 (same code).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

BAD_REQUEST = "BAD_REQUEST_ERROR"
GATEWAY = "GATEWAY_ERROR"
SERVER = "SERVER_ERROR"
NO_SUCH_ID = "The id provided does not exist"


class RazorpayFault(Exception):
    def __init__(self, description: str, *, status: int = 400, code: str = BAD_REQUEST, field: str | None = None,
                 reason: str = "input_validation_failed", source: str = "business",
                 step: str = "payment_initiation") -> None:
        self.description, self.status, self.code, self.field = description, status, code, field
        self.reason, self.source, self.step = reason, source, step
        super().__init__(description)

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "description": self.description, "source": self.source,
                                 "step": self.step, "reason": self.reason, "metadata": {}}
        if self.field:
            error["field"] = self.field
        return {"error": error}


def invalid(description: str, field: str | None = None) -> RazorpayFault:
    return RazorpayFault(description, field=field)


def unauthorized() -> RazorpayFault:
    return RazorpayFault("Authentication failed", status=401, source="NA", step="NA", reason="NA")


def not_found() -> RazorpayFault:
    return RazorpayFault(NO_SUCH_ID, reason="NA", source="NA", step="NA")


async def razorpay_fault_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RazorpayFault)
    return JSONResponse(exc.body(), status_code=exc.status)
