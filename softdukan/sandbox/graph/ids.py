"""Ids in Meta's shapes: numeric object ids, `wamid.` message ids, verification codes."""

from __future__ import annotations

import base64
import secrets


def object_id() -> str:
    """A Graph object id: 15–16 digits."""
    return str(10**14 + secrets.randbelow(9 * 10**15))


def wamid(wa_id: str) -> str:
    """`wamid.` + base64 of a protobuf-like blob that embeds the recipient, as Meta's do."""
    raw = b"\x18\x0c" + wa_id.encode()[:20] + b"\x15\x02\x00\x11\x18\x12" + secrets.token_hex(9).upper().encode()
    return "wamid." + base64.b64encode(raw).decode().rstrip("=")


def six_digits() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def conversation_id() -> str:
    return secrets.token_hex(16)


def request_id() -> str:
    return secrets.token_hex(12)
