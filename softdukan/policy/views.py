"""Public policy pages (no sign-in): the current version of each document, its history and any earlier version;
and the change notice a signed-in user sees in the dashboard (loaded by base.html, dismissed by a CSRF-checked
POST)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from softdukan.dashboard.context import SignedIn, WebContext
from softdukan.dashboard.render import render
from softdukan.platform.deps import UoW
from softdukan.platform.uow import UnitOfWork
from softdukan.policy.models import REFUND_POLICY
from softdukan.policy.service import NAMES, SLUGS, kind_of, policy_service, render_body

router = APIRouter(include_in_schema=False)
Slug = Annotated[str, Path(max_length=40)]
Number = Annotated[int, Path(ge=1, le=1_000_000)]


async def _document(request: Request, uow: UnitOfWork, kind: str, number: int | None = None) -> Response:
    current = await policy_service.current(uow, kind)
    version = current if number is None else await policy_service.version(uow, kind, number)
    successor = (await policy_service.version(uow, kind, version.number + 1)
                 if version.number < current.number else None)
    return render(request, "policy/document.html", {
        "kind": kind, "slug": SLUGS[kind], "name": NAMES[kind], "version": version, "current": current,
        "successor": successor, "names": NAMES,
        "body": render_body(version.body), "slugs": SLUGS, "is_refund_policy": kind == REFUND_POLICY})


@router.get("/legal/refund-policy", response_class=HTMLResponse)
async def refund_policy(request: Request, uow: UoW) -> Response:
    return await _document(request, uow, REFUND_POLICY)


@router.get("/legal/terms", response_class=HTMLResponse)
async def terms(request: Request, uow: UoW) -> Response:
    return await _document(request, uow, "terms")


@router.get("/legal/privacy", response_class=HTMLResponse)
async def privacy(request: Request, uow: UoW) -> Response:
    return await _document(request, uow, "privacy")


@router.get("/legal/{slug}/versions", response_class=HTMLResponse)
async def history(request: Request, uow: UoW, slug: Slug) -> Response:
    kind = kind_of(slug)  # an unknown one is a 404 page (main.py's handler)
    return render(request, "policy/history.html", {
        "kind": kind, "slug": SLUGS[kind], "name": NAMES[kind], "versions": await policy_service.history(uow, kind)})


@router.get("/legal/{slug}/versions/{number}", response_class=HTMLResponse)
async def old_version(request: Request, uow: UoW, slug: Slug, number: Number) -> Response:
    return await _document(request, uow, kind_of(slug), number)


async def _notices(request: Request, uow: UnitOfWork, web: WebContext) -> Response:
    return render(request, "policy/_notice.html", {"notices": await policy_service.notices(uow, web.user)})


@router.get("/legal/notices", response_class=HTMLResponse)
async def notices(request: Request, uow: UoW, web: SignedIn) -> Response:
    """The dashboard's change notice (an HTMX fragment; empty when there is nothing new)."""
    return await _notices(request, uow, web)


@router.post("/legal/notices/{slug}/dismiss", response_class=HTMLResponse)
async def dismiss(request: Request, uow: UoW, web: SignedIn, slug: Slug,
                  number: Annotated[str, Form(max_length=10)] = "") -> Response:
    version = int(number) if number.isascii() and number.isdigit() else 0
    await policy_service.dismiss(uow, web.user, kind_of(slug), version)  # errors: main.py's handler renders them
    if request.headers.get("hx-request"):  # the banner swaps itself for what is left to see
        return await _notices(request, uow, web)
    return RedirectResponse("/", status_code=303)
