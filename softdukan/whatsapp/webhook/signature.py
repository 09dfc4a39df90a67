"""`X-Hub-Signature-256`: HMAC-SHA256 of the exact request bytes, keyed with the Meta app secret (reference §5.2)."""

from __future__ import annotations

import hashlib
import hmac
import re

HEADER = "X-Hub-Signature-256"
_FORMAT = re.compile(r"^sha256=([0-9a-fA-F]{64})$")


def sign(app_secret: str, body: bytes) -> str:
    """The header value Meta sends for `body` (tests and the sandbox sign with this)."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def well_formed(header: str | None) -> bool:
    return header is not None and _FORMAT.match(header.strip()) is not None


def verify(app_secret: str, body: bytes, header: str | None) -> bool:
    """Constant-time check of the header against the body; False for a missing or malformed header."""
    if header is None:
        return False
    match = _FORMAT.match(header.strip())
    if match is None:
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, match.group(1).lower())
