"""Razorpay-shaped ids: a prefix and 14 base-62 characters (`order_DaZlswtdcn9UNV`, `pay_29QQoUBi66xm2f`)."""

from __future__ import annotations

import secrets
import string

_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str = "") -> str:
    body = "".join(secrets.choice(_ALPHABET) for _ in range(14))
    return f"{prefix}_{body}" if prefix else body


def digits(count: int) -> str:
    return str(secrets.randbelow(9 * 10 ** (count - 1)) + 10 ** (count - 1))
