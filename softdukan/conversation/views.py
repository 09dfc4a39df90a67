"""Dashboard pages: the conversation list and one conversation's thread, with a reply box, a "Send a template" panel
(the only way to write once the 24-hour window is closed) and live updates.

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
from softdukan.template.send_form import (
    approved_templates,
    filled_preview,
    spec_from_form,
    template_id_from,
    values_from_form,
    variable_inputs,
)
from softdukan.template.sending import message_for_contact, template_for_spec

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


async def _page_context(uow: UnitOfWork, web: WebContext, conversation_id: int, cursor: str | None = None
                        ) -> dict[str, Any]:
    """The whole page: the thread, and for those who may write, the "Send a template" panel (open when the
    window is closed)."""
    context = await _thread_context(uow, web, conversation_id, cursor)
    if context["can_reply"]:
        context["panel"] = await _template_panel(uow, web, conversation_id, open=not context["window"].csw_open)
    return context


async def _template_panel(uow: UnitOfWork, web: WebContext, conversation_id: int, *, template_id: int | None = None,
                          given: dict[str, str] | None = None, open: bool = True, error: DomainError | None = None
                          ) -> dict[str, Any]:
    """The "Send a template" panel: the number's approved templates, the chosen one's inputs and its preview."""
    assert web.subject is not None
    target = await resolve_target(uow, web.subject, conversation_id=conversation_id)
    templates = await approved_templates(uow, web.subject, target.phone)
    chosen = next((t for t in templates if t.id == template_id), None)
    inputs = variable_inputs(chosen, target.contact, given) if chosen is not None else []
    return {"conversation_id": conversation_id, "templates": templates, "chosen": chosen, "inputs": inputs,
            "open": open or error is not None,
            "preview": filled_preview(chosen, {i.key: i.value for i in inputs}) if chosen is not None else None,
            "error": error.message if error else None, "code": error.code if error else None}


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
    context = await _page_context(uow, web, conversation_id, cursor)
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
            context = await _page_context(uow, web, conversation_id)
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


# --- "Send a template": the closed-window path (any time, in fact: templates need no open window) ---------------


@router.get("/conversations/{conversation_id}/template-form", response_class=HTMLResponse)
async def template_form(request: Request, uow: UoW, web: WebRequires["conversations:write"], conversation_id: PathId,
                        template_id: Annotated[str, Query(max_length=20)] = "") -> Response:
    """The panel for the chosen template: its inputs, prefilled from the contact, and the preview."""
    panel = await _template_panel(uow, web, conversation_id, template_id=template_id_from(template_id))
    return render(request, "conversation/_template_form.html", {"panel": panel})


@router.post("/conversations/{conversation_id}/template-preview", response_class=HTMLResponse)
async def template_preview(request: Request, uow: UoW, web: WebRequires["conversations:write"],
                           conversation_id: PathId) -> Response:
    """The preview with what is typed so far (htmx, as the inputs change)."""
    form = await request.form()
    panel = await _template_panel(uow, web, conversation_id, template_id=template_id_from(form.get("template_id")),
                                  given=values_from_form(form))
    return render(request, "conversation/_template_preview.html", {"panel": panel})


@router.post("/conversations/{conversation_id}/template", response_class=HTMLResponse)
async def send_template(request: Request, uow: UoW, web: WebRequires["conversations:write"],
                        conversation_id: PathId) -> Response:
    """Send the chosen approved template with the typed values, through the same checks as the API."""
    assert web.subject is not None
    form = await request.form()
    htmx = bool(request.headers.get("hx-request"))
    template_id, given = template_id_from(form.get("template_id")), values_from_form(form)
    try:
        target = await resolve_target(uow, web.subject, conversation_id=conversation_id)
        if template_id is None:
            raise Invalid("template_required", "Choose a template to send.", {"template_id": "Choose one."})
        spec = spec_from_form(template_id, given)
        template = await template_for_spec(uow, web.subject, target.phone, spec)
        row = await send_message(uow, web.subject, target=target,
                                 message=message_for_contact(template, spec, target.contact))
    except DomainError as exc:
        web = await undo(request, uow)
        status = 422 if exc.status == 400 else exc.status
        panel = await _template_panel(uow, web, conversation_id, template_id=template_id, given=given, error=exc)
        if not htmx:
            context = await _thread_context(uow, web, conversation_id)
            return render(request, "conversation/conversation.html", {**context, "panel": panel},
                          status_code=status)
        return render(request, "conversation/_template_form.html", {"panel": panel}, status_code=status,
                      headers={"HX-Retarget": "#template-panel", "HX-Reswap": "outerHTML"})
    if not htmx:
        return RedirectResponse(f"/conversations/{conversation_id}#msg-{row.id}", status_code=303)
    return render(request, "conversation/_bubble.html", {"m": row, "quoted": {}, "business_reactions": {},
                                                         "media": {}, "tz": _tz(web), "appended": True})
