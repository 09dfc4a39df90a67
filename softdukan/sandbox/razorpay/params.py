"""Request bodies as Razorpay reads them: JSON, or a form where `notes[key]=value` builds the notes object."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

import orjson
from fastapi import Request

from softdukan.sandbox.razorpay.errors import invalid

_NESTED = re.compile(r"^(\w+)\[([^\]]*)\]$")
MAX_BODY = 100_000


async def params(request: Request) -> dict[str, Any]:
    body = await request.body()
    if len(body) > MAX_BODY:
        raise invalid("The request body is too large.")
    if not body.strip():
        return {}
    if "application/x-www-form-urlencoded" in request.headers.get("content-type", ""):
        merged: dict[str, Any] = {}
        for key, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
            nested = _NESTED.match(key)
            if nested:
                group = merged.setdefault(nested.group(1), {})
                if not isinstance(group, dict):
                    raise invalid(f"The {nested.group(1)} field is sent twice in different shapes.", nested.group(1))
                group[nested.group(2)] = value
            else:
                merged[key] = value
        return merged
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise invalid("The request body could not be parsed as JSON.") from None
    if not isinstance(data, dict):
        raise invalid("The request body must be a JSON object.")
    return data
