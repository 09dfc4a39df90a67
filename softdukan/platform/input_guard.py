"""Refuses text input containing NUL characters before it reaches a route.

No legitimate text contains U+0000, and PostgreSQL rejects it in text columns (a 500 waiting to
happen on every field). Checked: the query string, url-encoded forms and JSON bodies. Multipart
bodies (file uploads) are binary and are left to their handlers.
"""

from __future__ import annotations

from typing import Any

import orjson


def _has_nul(data: bytes) -> bool:
    """For the query string, paths and url-encoded forms: a raw or percent-encoded NUL."""
    return b"\x00" in data or b"%00" in data


def _json_has_nul(body: bytes) -> bool:
    """In JSON only decoded strings count ("%00" is just text there); invalid JSON is left to the route's 422."""
    if b"\x00" in body:
        return True
    if b"\\u0000" not in body:
        return False
    try:
        stack = [orjson.loads(body)]
    except orjson.JSONDecodeError:
        return False
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


class InputGuardMiddleware:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _has_nul(scope.get("query_string", b"")) or _has_nul(scope.get("path", "").encode("utf-8", "replace")):
            await _refuse(send)
            return
        content_type = dict(scope["headers"]).get(b"content-type", b"").lower()
        if scope["method"] in ("GET", "HEAD", "OPTIONS") or not content_type.startswith(
                (b"application/json", b"application/x-www-form-urlencoded")):
            await self.app(scope, receive, send)
            return
        chunks = []
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, receive, send)
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if _json_has_nul(body) if content_type.startswith(b"application/json") else _has_nul(body):
            await _refuse(send)
            return
        delivered = False

        async def replay() -> dict[str, Any]:
            nonlocal delivered
            if delivered:
                return await receive()  # after the body: wait for disconnect like the real channel
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


async def _refuse(send: Any) -> None:
    body = orjson.dumps({"error": {"code": "invalid_characters",
                                   "message": "The request contains a NUL character, which no field accepts.",
                                   "details": None}})
    await send({"type": "http.response.start", "status": 400,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
