"""Billing → Refunds: ask for a refund of a payment, and follow each request with the policy's reasoning."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from softdukan.auth.settings_views import Text, undo
from softdukan.auth.views import form_errors
from softdukan.dashboard.context import WebContext, WebRequires
from softdukan.dashboard.render import render
from softdukan.kit.ids import PathId
from softdukan.kit.money import paise as rupees
from softdukan.platform.deps import UoW
from softdukan.platform.errors import DomainError
from softdukan.platform.uow import UnitOfWork
from softdukan.refund import service

router = APIRouter(include_in_schema=False)


async def _page(request: Request, uow: UnitOfWork, web: WebContext, *, status_code: int = 200,
                **context: Any) -> Response:
    assert web.subject is not None
    ctx: dict[str, Any] = {"requests": await service.listed(uow, web.subject), "rupees": rupees, "errors": {},
                           "values": {}, "error": None}
    ctx.update(context)
    return render(request, "refund/refunds.html", ctx, status_code=status_code)


@router.get("/billing/refunds", response_class=HTMLResponse)
async def refunds_page(request: Request, uow: UoW, web: WebRequires["refunds:read"]) -> Response:
    return await _page(request, uow, web)


@router.post("/billing/refunds", response_class=HTMLResponse)
async def submit(request: Request, uow: UoW, web: WebRequires["refunds:write"], transaction_ref: Text = "",
                 reason: Text = "") -> Response:
    assert web.subject is not None
    values = {"transaction_ref": transaction_ref[:40], "reason": reason[:2000]}
    try:
        created = await service.submit(uow, web.subject, transaction_ref=values["transaction_ref"],
                                       reason=values["reason"], channel="dashboard")
    except DomainError as exc:
        web = await undo(request, uow)
        message, errors = form_errors(exc)
        return await _page(request, uow, web, status_code=exc.status, error=message, errors=errors, values=values)
    return RedirectResponse(f"/billing/refunds/{created.id}", status_code=303)


async def _request_page(request: Request, uow: UnitOfWork, web: WebContext, request_id: int, *,
                        status_code: int = 200, **context: Any) -> Response:
    assert web.subject is not None
    found = await service.get(uow, web.subject, request_id)
    ctx: dict[str, Any] = {"r": found, "events": await service.events(uow, web.subject, request_id),
                           "rupees": rupees, "credit_note": await service.credit_note(uow, web.subject, found)}
    ctx.update(context)
    return render(request, "refund/refund.html", ctx, status_code=status_code)


@router.get("/billing/refunds/{request_id}", response_class=HTMLResponse)
async def refund_page(request: Request, uow: UoW, web: WebRequires["refunds:read"], request_id: PathId
                      ) -> Response:
    return await _request_page(request, uow, web, request_id)


@router.post("/billing/refunds/{request_id}/answer", response_class=HTMLResponse)
async def answer(request: Request, uow: UoW, web: WebRequires["refunds:write"], request_id: PathId,
                 info: Text = "") -> Response:
    assert web.subject is not None
    try:
        await service.answer(uow, web.subject, request_id, info[:2000])
    except DomainError as exc:
        web = await undo(request, uow)
        return await _request_page(request, uow, web, request_id, status_code=exc.status, error=exc.message,
                                   values={"info": info[:2000]})
    return RedirectResponse(f"/billing/refunds/{request_id}", status_code=303)


@router.post("/billing/refunds/{request_id}/withdraw", response_class=HTMLResponse)
async def withdraw(request: Request, uow: UoW, web: WebRequires["refunds:write"], request_id: PathId) -> Response:
    assert web.subject is not None
    try:
        await service.withdraw(uow, web.subject, request_id)
    except DomainError as exc:
        web = await undo(request, uow)
        return await _request_page(request, uow, web, request_id, status_code=exc.status, error=exc.message)
    return RedirectResponse(f"/billing/refunds/{request_id}", status_code=303)
