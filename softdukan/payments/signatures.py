"""Razorpay's two signatures (reference §5), both hex HMAC-SHA256 compared in constant time:

- checkout: `HMAC(key_secret, order_id + "|" + razorpay_payment_id)`, with the order id *we stored*, never the
  one the browser sent back;
- webhooks: `HMAC(webhook_secret, raw_body)` in `X-Razorpay-Signature`, over the exact bytes received (never
  re-serialised). The webhook secret is not the key secret.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Razorpay-Signature"
EVENT_ID_HEADER = "X-Razorpay-Event-Id"


def hmac_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def checkout_signature(order_id: str, payment_id: str, key_secret: str) -> str:
    return hmac_hex(key_secret, f"{order_id}|{payment_id}".encode())


def verify_checkout_signature(order_id: str, payment_id: str, signature: str | None, key_secret: str) -> bool:
    if not signature or not order_id or not payment_id:
        return False
    return hmac.compare_digest(checkout_signature(order_id, payment_id, key_secret).encode(),
                               signature.strip().lower().encode())


def verify_webhook_signature(raw_body: bytes, signature: str | None, secret: str) -> bool:
    if not signature:
        return False
    return hmac.compare_digest(hmac_hex(secret, raw_body).encode(), signature.strip().lower().encode())
