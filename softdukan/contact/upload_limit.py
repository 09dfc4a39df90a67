"""Refuses contact-file uploads above the size limit before the body is read (and spooled to disk) by the form
parser: a Content-Length over the limit is answered at once, a chunked body is cut off when it passes it."""

from __future__ import annotations

from typing import Any

from softdukan.contact.importing.parse import MAX_BYTES

UPLOAD_PATH = "/contacts/import"
SLACK = 64 * 1024  # the multipart envelope around the file


class UploadLimitMiddleware:
    def __init__(self, app: Any, limit: int = MAX_BYTES + SLACK) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != UPLOAD_PATH:
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length", b"")
        if length.isdigit() and int(length) > self.limit:
            await _refuse(send, self.limit)
            return
        seen = 0
        too_big = False

        async def limited() -> Any:
            nonlocal seen, too_big
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    too_big = True
                    return {"type": "http.disconnect"}
            return message

        started = False

        async def tracked_send(message: Any) -> None:
            nonlocal started
            if too_big and not started:
                started = True
                await _refuse(send, self.limit)
                return
            if too_big:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, limited, tracked_send)


async def _refuse(send: Any, limit: int) -> None:
    body = (f"<!doctype html><title>File too large</title><p>The file is larger than {limit // (1024 * 1024)} MB. "
            "Split it into smaller files and import them one by one. <a href=\"/contacts/import\">Back</a></p>"
            ).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"text/html; charset=utf-8"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
