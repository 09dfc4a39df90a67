"""Typed custom attribute values: checked and normalised before they are stored (see contact/models.py for how
they are stored and filtered). Pure functions; `AttributeValueError` carries a sentence for the user."""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from typing import Any

from softdukan.contact.models import BOOLEAN, CHOICE, DATE, NUMBER, TEXT

TEXT_MAX = 500
NUMBER_MAX = 10**15  # beyond this a "number" is an id or a phone number: store it as text
_TRUE = {"true", "yes", "y", "1", "on"}
_FALSE = {"false", "no", "n", "0", "off"}
_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y")  # ISO first, then the day-first forms India uses
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")

Value = str | int | float | bool


class AttributeValueError(ValueError):
    """Why a value does not fit its attribute's type (one sentence)."""


def _number(raw: Any) -> int | float:
    if isinstance(raw, bool):
        raise AttributeValueError("Expected a number, got true/false.")
    if isinstance(raw, int | float):
        value: float | int = raw
    elif isinstance(raw, str):
        text = raw.strip().replace(",", "")
        if len(text) > 30:
            raise AttributeValueError("Expected a number.")
        try:
            value = int(text) if re.fullmatch(r"[+-]?\d+", text) else float(text)
        except ValueError:
            raise AttributeValueError(f"Expected a number, got '{raw[:40]}'.") from None
    else:
        raise AttributeValueError("Expected a number.")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise AttributeValueError("Expected a finite number.")
        if value.is_integer():
            value = int(value)
    if abs(value) > NUMBER_MAX:
        raise AttributeValueError(f"Numbers can be at most {NUMBER_MAX:,} (store ids as text).")
    return value


def _boolean(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int) and raw in (0, 1):
        return bool(raw)
    if isinstance(raw, str) and raw.strip().lower() in _TRUE | _FALSE:
        return raw.strip().lower() in _TRUE
    raise AttributeValueError("Expected yes or no (true/false).")


def _date(raw: Any) -> str:
    if isinstance(raw, datetime):
        return raw.date().isoformat()
    if isinstance(raw, date):
        return raw.isoformat()
    if isinstance(raw, str):
        text = raw.strip()
        for fmt in _DATE_FORMATS:
            try:
                return datetime.strptime(text, fmt).date().isoformat()
            except ValueError:
                continue
    raise AttributeValueError("Expected a date as YYYY-MM-DD (or DD/MM/YYYY).")


def _text(raw: Any) -> str:
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise AttributeValueError("Expected text.")
    text = str(raw).strip()
    if len(text) > TEXT_MAX:
        raise AttributeValueError(f"Use at most {TEXT_MAX} characters.")
    return text


def _choice(raw: Any, options: list[str]) -> str:
    text = _text(raw)
    for option in options:
        if option.casefold() == text.casefold():
            return option
    shown = ", ".join(options[:10]) + ("…" if len(options) > 10 else "")
    raise AttributeValueError(f"Choose one of: {shown}.")


def coerce(type_: str, options: list[str], raw: Any) -> Value | None:
    """The stored form of `raw` for an attribute of this type; None for an empty value (which removes it)."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if type_ == NUMBER:
        return _number(raw)
    if type_ == BOOLEAN:
        return _boolean(raw)
    if type_ == DATE:
        return _date(raw)
    if type_ == CHOICE:
        return _choice(raw, options)
    if type_ == TEXT:
        return _text(raw)
    raise AttributeValueError(f"Unknown attribute type '{type_}'.")


def display(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return str(value)
