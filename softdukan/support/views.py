"""Dashboard: Support — the organization's tickets, opening one, and each ticket's conversation with SoftDukan
support (reply, close, reopen)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from softdukan.auth.settings_views import Text, flash_for, undo
from softdukan.auth.views import form_errors
from softdukan.dashboard.context import WebContext, WebRequires
from softdukan.dashboard.render import render
from softdukan.kit.ids import PathId
from softdukan.platform.deps import UoW
from softdukan.platform.errors import DomainError
from softdukan.platform.uow import UnitOfWork
from softdukan.support.models import BODY_MAX, CATEGORIES, STATUSES, SUBJECT_MAX
from softdukan.support.service import ticket_service

router = APIRouter(include_in_schema=False)
FLASH = {"opened": "Your ticket is open. SoftDukan support will answer here and by e-mail.",
         "sent": "Your reply is sent.", "closed": "The ticket is closed.", "reopened": "The ticket is open again."}
COMMON = {"categories": CATEGORIES, "statuses": STATUSES, "subject_max": SUBJECT_MAX, "body_max": BODY_MAX}


@router.get("/support", response_class=HTMLResponse)
async def tickets_page(request: Request, uow: UoW, web: WebRequires["support:read"], status: str = "") -> Response:
    assert web.subject is not None
    tickets = await ticket_service.list(uow, web.subject, status=status or None, limit=200)
    return render(request, "support/tickets.html", {**COMMON, "tickets": tickets, "status": status})


def _new_page(request: Request, *, values: dict[str, str] | None = None, errors: dict[str, str] | None = None,
              error: str | None = None, status_code: int = 200) -> Response:
    return render(request, "support/new.html", {**COMMON, "values": values or {"category": "technical"},
                                                "errors": errors or {}, "error": error}, status_code=status_code)


@router.get("/support/new", response_class=HTMLResponse)
async def new_ticket_page(request: Request, web: WebRequires["support:write"]) -> Response:
    return _new_page(request)


@router.post("/support/new", response_class=HTMLResponse)
async def open_ticket(request: Request, uow: UoW, web: WebRequires["support:write"], category: Text = "",
                      subject: Text = "", body: Text = "") -> Response:
    assert web.subject is not None
    values = {"category": category[:20], "subject": subject[:SUBJECT_MAX * 2], "body": body[:BODY_MAX * 2]}
    try:
        ticket = await ticket_service.open(uow, web.subject, category=category, subject_line=subject, body=body)
    except DomainError as exc:
        await undo(request, uow)
        message, errors = form_errors(exc)
        return _new_page(request, values=values, errors=errors, error=message, status_code=exc.status)
    return RedirectResponse(f"/support/{ticket.id}?flash=opened", status_code=303)


async def _ticket_page(request: Request, uow: UnitOfWork, web: WebContext, ticket_id: int, *,
                       status_code: int = 200, **context: Any) -> Response:
    assert web.subject is not None
    ticket = await ticket_service.get(uow, web.subject, ticket_id)
    messages = await ticket_service.messages(uow, web.subject, ticket)
    ctx: dict[str, Any] = {**COMMON, "ticket": ticket, "messages": messages, "errors": {}, "reply": "",
                           "can_write": web.can("support:write"),
                           "timezone": web.organization.timezone if web.organization else "Asia/Kolkata"}
    ctx.update(context)
    return render(request, "support/ticket.html", ctx, status_code=status_code)


@router.get("/support/{ticket_id}", response_class=HTMLResponse)
async def ticket_page(request: Request, uow: UoW, web: WebRequires["support:read"], ticket_id: PathId,
                      flash: str | None = None) -> Response:
    return await _ticket_page(request, uow, web, ticket_id, flash=flash_for(FLASH, flash))


@router.post("/support/{ticket_id}/reply", response_class=HTMLResponse)
async def reply(request: Request, uow: UoW, web: WebRequires["support:write"], ticket_id: PathId,
                body: Text = "") -> Response:
    assert web.subject is not None
    try:
        await ticket_service.reply(uow, web.subject, ticket_id, body)
    except DomainError as exc:
        web = await undo(request, uow)
        message, errors = form_errors(exc)
        return await _ticket_page(request, uow, web, ticket_id, status_code=exc.status, error=message,
                                  errors=errors, reply=body[:BODY_MAX * 2])
    return RedirectResponse(f"/support/{ticket_id}?flash=sent#latest", status_code=303)


async def _change(request: Request, uow: UnitOfWork, web: WebContext, ticket_id: int, action: str) -> Response:
    assert web.subject is not None
    change = ticket_service.close if action == "closed" else ticket_service.reopen
    try:
        await change(uow, web.subject, ticket_id)
    except DomainError as exc:
        web = await undo(request, uow)
        return await _ticket_page(request, uow, web, ticket_id, status_code=exc.status, error=exc.message)
    return RedirectResponse(f"/support/{ticket_id}?flash={action}", status_code=303)


@router.post("/support/{ticket_id}/close", response_class=HTMLResponse)
async def close(request: Request, uow: UoW, web: WebRequires["support:write"], ticket_id: PathId) -> Response:
    return await _change(request, uow, web, ticket_id, "closed")


@router.post("/support/{ticket_id}/reopen", response_class=HTMLResponse)
async def reopen(request: Request, uow: UoW, web: WebRequires["support:write"], ticket_id: PathId) -> Response:
    return await _change(request, uow, web, ticket_id, "reopened")
