"""GET /events: the dashboard's live-event stream (Server-Sent Events) for the signed-in member.

Membership and permissions are checked once, when the stream opens (the `Member` dependency). Its unit of work
is function-scoped, so it commits and hands back its database connection before the first byte is streamed: an
open dashboard never holds a transaction (on SQLite that would block every writer). A role change or removal of
the watching member ends the stream; the browser reconnects and is checked again.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from softdukan.auth.subject import Subject
from softdukan.dashboard.context import Member
from softdukan.organization.events import MemberRemoved, MemberRoleChanged
from softdukan.platform.deps import get_runtime
from softdukan.platform.realtime.hub import Hub

router = APIRouter(include_in_schema=False)

HEARTBEAT_SECONDS = 15.0  # a comment line this often keeps proxies from closing an idle stream
RETRY_MILLISECONDS = 3000  # how long the browser waits before reconnecting a closed stream
CONNECTED = f"retry: {RETRY_MILLISECONDS}\n: connected\n\n".encode()
PING = b": ping\n\n"
# events about the watcher's own membership: their permissions are stale, so the stream ends and is re-checked
_MEMBERSHIP_CHANGES = frozenset({MemberRemoved.type, MemberRoleChanged.type})


def visible_to(subject: Subject, envelope: dict[str, Any]) -> bool:
    if envelope.get("organization_id") != subject.organization_id:
        return False
    permission = envelope.get("permission")
    if permission is not None and not subject.can(permission):
        return False
    user_ids = envelope.get("user_ids") or ()
    return not user_ids or subject.user_id in user_ids


def changes_watcher(subject: Subject, envelope: dict[str, Any]) -> bool:
    data = envelope.get("data") or {}
    return (envelope.get("type") in _MEMBERSHIP_CHANGES and subject.membership_id is not None
            and data.get("membership_id") == subject.membership_id)


def sse_message(envelope: dict[str, Any]) -> bytes:
    message: dict[str, Any] = {"type": envelope["type"], "data": envelope.get("data") or {}}
    if envelope.get("summary"):
        message["summary"] = envelope["summary"]
    return b"data: " + orjson.dumps(message) + b"\n\n"  # compact JSON has no newline, so one data line


async def _next(envelopes: AsyncIterator[dict[str, Any]]) -> dict[str, Any] | None:
    try:
        return await anext(envelopes)
    except StopAsyncIteration:  # the hub closed
        return None


async def event_stream(request: Request, hub: Hub, subject: Subject) -> AsyncIterator[bytes]:
    async with hub.subscribe(subject.organization_id) as envelopes:
        yield CONNECTED
        # one pending read survives heartbeats: cancelling a read would end the hub's iterator
        pending = asyncio.create_task(_next(envelopes))
        try:
            while True:
                done, _ = await asyncio.wait({pending}, timeout=HEARTBEAT_SECONDS)
                if not done:
                    if await request.is_disconnected():
                        return
                    yield PING
                    continue
                envelope = pending.result()
                if envelope is None or changes_watcher(subject, envelope):
                    return
                pending = asyncio.create_task(_next(envelopes))
                if visible_to(subject, envelope):
                    yield sse_message(envelope)
        finally:
            pending.cancel()


@router.get("/events")
async def events(request: Request, web: Member) -> StreamingResponse:
    assert web.subject is not None  # Member guarantees a current organization
    # only the runtime and the immutable subject go into the stream, nothing bound to the request's session
    stream = event_stream(request, get_runtime(request).hub, web.subject)
    return StreamingResponse(stream, media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
