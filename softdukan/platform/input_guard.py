"""Refuses text input containing NUL characters before it reaches a route.

No legitimate text contains U+0000, and PostgreSQL rejects it in text columns (a 500 waiting to
happen on every field). Checked: the query string, url-encoded forms and JSON bodies. Multipart
bodies (file uploads) are binary and are left to their handlers.
"""

from __future__ import annotations

from typing import Any

import orjson

_NUL_FORMS = (b"\x00", b"%00", b"\\u0000")


def _has_nul(data: bytes) -> bool:
    lowered = data.lower()
    return any(form in lowered for form in _NUL_FORMS)


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
        if _has_nul(body):
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
