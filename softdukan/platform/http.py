"""HTTP edge helpers: the error body schema and OpenAPI responses for documented errors."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

_DESCRIPTIONS = {400: "Bad request", 401: "Missing or invalid API key", 402: "Insufficient credits",
                 403: "Forbidden: missing scope or suspended organization", 404: "Not found",
                 409: "Conflict", 410: "Gone", 422: "Invalid input", 429: "Rate limited"}


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorBody(BaseModel):
    error: ErrorDetail


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": ErrorBody, "description": _DESCRIPTIONS.get(status, "Error")}
            for status in sorted({401, 403, 422, *statuses})}
