"""`POST /sandbox/graph/{version}/{phone-number-id}/messages` ahead of the router, for the standalone sandbox.

Matching a request against every sandbox route and solving FastAPI's dependencies cost more CPU than the send
itself once the send takes the fast path (fast_send.py). This ASGI middleware answers the sends the fast path
accepts (or refuses with 130429 / 131056) directly; every other request, and every send the fast path leaves to
`send_message`, continues to the app untouched (the body it read is replayed).
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from softdukan.platform.runtime import Runtime
from softdukan.sandbox import PREFIX
from softdukan.sandbox.graph import counters
from softdukan.sandbox.graph.access import params
from softdukan.sandbox.graph.errors import GraphFault
from softdukan.sandbox.graph.messages.fast_send import fast_send

SEND_PATH = re.compile(rf"^{re.escape(PREFIX)}/v\d{{1,2}}\.0/([^/]+)/messages$")


def _json(status: int, data: Any) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


class FastSends:
    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app, self.runtime = app, runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = SEND_PATH.match(scope["path"]) if scope["type"] == "http" and scope["method"] == "POST" else None
        if match is None:
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        body = await request.body()
        try:
            result = await fast_send(self.runtime, request, match.group(1), await params(request))
        except GraphFault as fault:
            if fault.code not in (130429, 131056):  # the request's own errors: answered by the route, in order
                result = None
            else:
                counters.refused(fault.code)
                await _json(fault.status, fault.body())(scope, receive, send)
                return
        if result is not None:
            await _json(200, result)(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
