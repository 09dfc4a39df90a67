"""Domain errors carry their HTTP status and a stable code; the edges render them."""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    status: ClassVar[int] = 400
    default_code: ClassVar[str] = "bad_request"

    def __init__(self, code: str | None = None, message: str = "", details: Any = None,
                 *, headers: dict[str, str] | None = None) -> None:
        self.code = code or self.default_code
        self.message = message or self.code.replace("_", " ").capitalize() + "."
        self.details = details
        self.headers = headers or {}
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class BadRequest(DomainError):
    status = 400


class Unauthorized(DomainError):
    status = 401
    default_code = "unauthorized"


class PaymentRequired(DomainError):
    status = 402
    default_code = "payment_required"


class Forbidden(DomainError):
    status = 403
    default_code = "forbidden"


class NotFound(DomainError):
    status = 404
    default_code = "not_found"


class Conflict(DomainError):
    status = 409
    default_code = "conflict"


class Gone(DomainError):
    status = 410
    default_code = "gone"


class Invalid(DomainError):
    """Input that parses but breaks a rule; details maps field → message."""

    status = 422
    default_code = "validation_error"


class TooManyRequests(DomainError):
    status = 429
    default_code = "rate_limited"

    def __init__(self, code: str | None = None, message: str = "", *, retry_after: float) -> None:
        self.retry_after = max(1, int(retry_after + 0.999))
        super().__init__(code, message or f"Too many attempts. Try again in {self.retry_after} seconds.",
                         {"retry_after": self.retry_after},
                         headers={"Retry-After": str(self.retry_after)})
