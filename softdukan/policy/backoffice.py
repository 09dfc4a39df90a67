"""Staff pages: every policy document with its current version and history, and posting a new version (in force
at once; audited). Posted versions are never edited: a correction is another version."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from softdukan.auth.views import form_errors
from softdukan.backoffice.views import Staff, Text
from softdukan.dashboard.render import render
from softdukan.platform.deps import UoW, client_ip
from softdukan.platform.errors import DomainError
from softdukan.platform.uow import UnitOfWork
from softdukan.policy.models import KINDS
from softdukan.policy.service import MAX_BODY, MAX_SUMMARY, MAX_TITLE, NAMES, SLUGS, kind_of, policy_service

router = APIRouter(prefix="/backoffice/policies", include_in_schema=False)
BACK = "/backoffice/policies"
Slug = Annotated[str, Path(max_length=40)]


async def _page(request: Request, uow: UnitOfWork, staff_name: str, kind: str, *, status_code: int = 200,
                **context: Any) -> Response:
    versions = await policy_service.history(uow, kind)
    ctx: dict[str, Any] = {"staff_name": staff_name, "kind": kind, "slug": SLUGS[kind], "name": NAMES[kind],
                           "versions": versions, "errors": {}, "max_body": MAX_BODY, "max_title": MAX_TITLE,
                           "max_summary": MAX_SUMMARY,
                           "values": {"title": versions[0].title, "body": versions[0].body, "change_summary": ""}}
    ctx.update(context)
    return render(request, "policy/backoffice_kind.html", ctx, status_code=status_code)


@router.get("", response_class=HTMLResponse)
async def policies(request: Request, uow: UoW, staff: Staff, done: str = "") -> Response:
    current = await policy_service.current_of_each(uow)
    rows = [(kind, NAMES[kind], SLUGS[kind], current[kind]) for kind in KINDS]
    posted = current.get(done.replace("-", "_")) if done else None
    flash = f"Version {posted.number} of the {NAMES[posted.kind]} is posted and in force now." if posted else None
    return render(request, "policy/backoffice_list.html", {"staff_name": staff.name, "rows": rows, "flash": flash})


@router.get("/{slug}", response_class=HTMLResponse)
async def policy_page(request: Request, uow: UoW, staff: Staff, slug: Slug) -> Response:
    try:
        kind = kind_of(slug)
    except DomainError as exc:
        return render(request, "backoffice/error.html", {"staff_name": staff.name, "status": exc.status,
                                                         "message": exc.message, "back": BACK}, status_code=exc.status)
    return await _page(request, uow, staff.name, kind)


@router.post("/{slug}", response_class=HTMLResponse)
async def post_version(request: Request, uow: UoW, staff: Staff, slug: Slug, title: Text = "", body: Text = "",
                       change_summary: Text = "") -> Response:
    staff_name = staff.name  # read now: a rollback expires loaded rows
    values = {"title": title[:MAX_TITLE * 2], "body": body[:MAX_BODY * 2], "change_summary": change_summary[:5000]}
    try:
        kind = kind_of(slug)
    except DomainError as exc:
        return render(request, "backoffice/error.html", {"staff_name": staff_name, "status": exc.status,
                                                         "message": exc.message, "back": BACK}, status_code=exc.status)
    try:
        await policy_service.post(uow, staff, kind, title=title, body=body, change_summary=change_summary,
                                  ip=client_ip(request))
    except DomainError as exc:
        await uow.rollback()
        error, errors = form_errors(exc)
        return await _page(request, uow, staff_name, kind, status_code=exc.status, error=error, errors=errors,
                           values=values)
    return RedirectResponse(f"{BACK}?done={SLUGS[kind]}", status_code=303)
