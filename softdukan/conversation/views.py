"""Dashboard pages: the conversation list and one conversation's thread, with a reply box and live updates.

The thread page listens to the dashboard's SSE stream (`softdukan:event` from static/js/app.js) and re-renders
what changed: one message bubble on a status or reaction change, the thread and the window state on a new message.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from softdukan.auth.settings_views import PathId, Text, undo
from softdukan.conversation import listing
from softdukan.conversation.media.serve import media_response, stored_media
from softdukan.conversation.schemas import build_message
from softdukan.conversation.send import resolve_target, send_message
from softdukan.dashboard.context import WebContext, WebRequires
from softdukan.dashboard.render import render
from softdukan.platform.deps import UoW
from softdukan.platform.errors import DomainError, Invalid
from softdukan.platform.uow import UnitOfWork

router = APIRouter(include_in_schema=False)
Cursor = Annotated[str | None, Query(max_length=64)]
REPLY_MAX = 4096


def _tz(web: WebContext) -> str:
    return (web.organization.timezone if web.organization else None) or "Asia/Kolkata"


async def _thread_context(uow: UnitOfWork, web: WebContext, conversation_id: int, cursor: str | None = None
                          ) -> dict[str, Any]:
    assert web.subject is not None
    thread = await listing.thread(uow, web.subject, conversation_id, cursor=cursor)
    return {"thread": thread, "view": thread.view, "window": thread.view.window, "tz": _tz(web),
            "now": uow.clock.now(), "can_reply": web.can("conversations:write"), "cursor": cursor}


@router.get("/conversations", response_class=HTMLResponse)
async def conversations_page(request: Request, uow: UoW, web: WebRequires["conversations:read"],
                             cursor: Cursor = None) -> Response:
    assert web.subject is not None
    views, next_cursor = await listing.conversations(uow, web.subject, cursor=cursor)
    return render(request, "conversation/conversations.html", {"views": views, "next_cursor": next_cursor,
                                                                "tz": _tz(web), "cursor": cursor})


@router.get("/conversations/{conversation_id}", response_class=HTMLResponse)
async def conversation_page(request: Request, uow: UoW, web: WebRequires["conversations:read"],
                            conversation_id: PathId, cursor: Cursor = None) -> Response:
    assert web.subject is not None
    context = await _thread_context(uow, web, conversation_id, cursor)
    await listing.mark_seen(uow, web.subject, context["view"].conversation)
    return render(request, "conversation/conversation.html", context)


@router.get("/conversations/{conversation_id}/thread", response_class=HTMLResponse)
async def thread_fragment(request: Request, uow: UoW, web: WebRequires["conversations:read"],
                          conversation_id: PathId) -> Response:
    """The thread and (out of band) the window state: re-fetched when a message arrives."""
    return render(request, "conversation/_thread.html", {**await _thread_context(uow, web, conversation_id),
                                                         "oob": True})


@router.get("/conversations/{conversation_id}/messages/{message_id}", response_class=HTMLResponse)
async def message_fragment(request: Request, uow: UoW, web: WebRequires["conversations:read"],
                           conversation_id: PathId, message_id: PathId) -> Response:
    """One bubble: re-fetched when its status or reaction changes."""
    assert web.subject is not None
    message = await listing.message(uow, web.subject, message_id, conversation_id=conversation_id)
    return render(request, "conversation/_bubble.html", {
        "m": message, "quoted": await listing.quoted(uow, web.subject, [message]), "business_reactions": {},
        "media": await listing.media_of(uow, web.subject, [message]), "tz": _tz(web)})


@router.get("/conversations/{conversation_id}/media/{message_id}")
async def message_media(uow: UoW, web: WebRequires["conversations:read"], conversation_id: PathId,
                        message_id: PathId) -> Response:
    """The stored file of a message (images inline, documents as downloads; see conversation/media/serve.py)."""
    assert web.subject is not None
    return media_response(await stored_media(uow, web.subject, message_id, conversation_id=conversation_id))


@router.post("/conversations/{conversation_id}/reply", response_class=HTMLResponse)
async def reply(request: Request, uow: UoW, web: WebRequires["conversations:write"], conversation_id: PathId,
                text: Text = "") -> Response:
    """Free-form text inside the customer service window; outside it the refusal says to send a template."""
    assert web.subject is not None
    htmx = bool(request.headers.get("hx-request"))
    try:
        if len(text) > REPLY_MAX:  # before the builder, so a huge paste is a clear message, not a long echo
            raise Invalid("invalid_message", f"A message can be at most {REPLY_MAX} characters long.")
        target = await resolve_target(uow, web.subject, conversation_id=conversation_id)
        row = await send_message(uow, web.subject, target=target, message=build_message("text", {"body": text}))
    except DomainError as exc:
        web = await undo(request, uow)
        status = 422 if exc.status == 400 else exc.status
        if not htmx:
            context = await _thread_context(uow, web, conversation_id)
            return render(request, "conversation/conversation.html",
                          {**context, "reply_error": exc.message, "reply_code": exc.code, "reply_text": text},
                          status_code=status)
        return render(request, "conversation/_reply_error.html", {"message": exc.message, "code": exc.code},
                      status_code=status, headers={"HX-Retarget": "#reply-error", "HX-Reswap": "innerHTML"})
    if not htmx:
        return RedirectResponse(f"/conversations/{conversation_id}#msg-{row.id}", status_code=303)
    return render(request, "conversation/_bubble.html", {"m": row, "quoted": await listing.quoted(
        uow, web.subject, [row]), "business_reactions": {}, "media": await listing.media_of(uow, web.subject, [row]),
        "tz": _tz(web), "appended": True})
