"""Small readers shared by the webhook parsers: they never raise on odd values except where a field is required."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

UNKNOWN = "unknown"


class PayloadError(ValueError):
    """The body is not Meta's webhook shape; `path` says where (e.g. `entry[0].changes[1].value.messages[0].id`)."""

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}")


def text(value: Any) -> str | None:
    """A string, or None for anything else (numbers are kept as their text: Meta mixes the two)."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def required_text(obj: dict[str, Any], key: str, path: str, *, max_length: int = 200) -> str:
    """A non-empty id-like string; longer than any id Meta sends is a shape error (it would not fit our columns)."""
    value = text(obj.get(key))
    if not value:
        raise PayloadError(f"{path}.{key}", "a non-empty string is required")
    if len(value) > max_length:
        raise PayloadError(f"{path}.{key}", f"at most {max_length} characters are expected")
    return value


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def flag(value: Any) -> bool:
    return value is True


def number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def timestamp(value: Any, path: str) -> datetime:
    """Meta's unix seconds, sent as a string (messages, statuses) or an int (entry.time)."""
    seconds = integer(value)
    if seconds is None or not 0 <= seconds < 32_503_680_000:  # before year 3000
        raise PayloadError(path, "a unix timestamp in seconds is required")
    return datetime.fromtimestamp(seconds, UTC)


def optional_timestamp(value: Any) -> datetime | None:
    seconds = integer(value)
    if seconds is None or not 0 <= seconds < 32_503_680_000:
        return None
    return datetime.fromtimestamp(seconds, UTC)


def enum(value: Any, known: frozenset[str], *, lower: bool = True) -> str:
    """A known enum value, or "unknown" (rule 10: Meta adds values; we never crash on them)."""
    raw = text(value)
    if raw is None:
        return UNKNOWN
    key = raw.lower() if lower else raw
    return key if key in known else UNKNOWN


@dataclass(frozen=True, slots=True)
class WebhookError:
    """An error object inside a webhook (`statuses[].errors`, `messages[].errors`, `value.errors`)."""

    code: int | None
    title: str
    message: str
    details: str
    href: str | None = None

    @classmethod
    def parse(cls, obj: Any) -> WebhookError:
        obj = as_dict(obj)
        data = obj.get("error_data")
        details = text(as_dict(data).get("details")) if isinstance(data, dict) else text(data)
        title = text(obj.get("title")) or text(obj.get("message")) or ""
        code = integer(obj.get("code"))
        return cls(code=code if code is not None and abs(code) < 2**31 else None, title=title,
                   message=text(obj.get("message")) or title,
                   details=details or "", href=text(obj.get("href")))

    @classmethod
    def parse_all(cls, value: Any) -> tuple[WebhookError, ...]:
        return tuple(cls.parse(item) for item in as_list(value) if isinstance(item, dict))

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "title": self.title, "message": self.message, "details": self.details,
                "href": self.href}
