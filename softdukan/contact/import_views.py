"""Dashboard pages of contact imports: upload → column mapping with a preview → live progress (htmx polls the
progress fragment every second while the job runs) → the downloadable error report."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from starlette.datastructures import UploadFile

from softdukan.auth.settings_views import PathId, undo
from softdukan.contact.attributes import attribute_service
from softdukan.contact.importing.models import DONE, FAILED, MAPPING, NAME, PHONE, TAGS
from softdukan.contact.importing.parse import MAX_BYTES
from softdukan.contact.importing.rows import ATTR, suggest
from softdukan.contact.importing.service import import_service
from softdukan.dashboard.context import WebContext, WebRequires
from softdukan.dashboard.render import render
from softdukan.platform.deps import UoW, get_runtime
from softdukan.platform.errors import DomainError
from softdukan.platform.uow import UnitOfWork

router = APIRouter(include_in_schema=False)


def _tz(web: WebContext) -> str:
    return (web.organization.timezone if web.organization else None) or "Asia/Kolkata"


async def _upload_page(request: Request, uow: UnitOfWork, web: WebContext, *, status_code: int = 200,
                       **context: Any) -> Response:
    assert web.subject is not None
    ctx: dict[str, Any] = {"imports": await import_service.recent(uow, web.subject), "tz": _tz(web),
                           "max_mb": MAX_BYTES // (1024 * 1024)}
    ctx.update(context)
    return render(request, "contact/import.html", ctx, status_code=status_code)


@router.get("/contacts/import", response_class=HTMLResponse)
async def import_page(request: Request, uow: UoW, web: WebRequires["contact_imports:write"]) -> Response:
    return await _upload_page(request, uow, web)


@router.post("/contacts/import", response_class=HTMLResponse)
async def upload(request: Request, uow: UoW, web: WebRequires["contact_imports:write"]) -> Response:
    assert web.subject is not None
    form = await request.form()
    file = form.get("file")
    try:
        if not isinstance(file, UploadFile) or not file.filename:
            from softdukan.contact.importing.service import refused

            raise refused("Choose a CSV or Excel (.xlsx) file to import.")
        data = await file.read(MAX_BYTES + 1)
        item = await import_service.upload(uow, web.subject, filename=file.filename, data=data)
    except DomainError as exc:
        web = await undo(request, uow)
        return await _upload_page(request, uow, web, error=exc.message, status_code=exc.status)
    return RedirectResponse(f"/contacts/imports/{item.id}", status_code=303)


async def _import_page(request: Request, uow: UnitOfWork, web: WebContext, import_id: int, *,
                       status_code: int = 200, **context: Any) -> Response:
    assert web.subject is not None
    item = await import_service.get(uow, web.subject, import_id)
    definitions = await attribute_service.list(uow, web.subject)
    targets = [(PHONE, "Phone number"), (NAME, "Name"), (TAGS, "Tags (comma-separated)")] + [
        (ATTR + d.key, f"{d.label} ({d.type})") for d in definitions]
    mapping = item.mapping or suggest(item.headers, definitions)
    ctx: dict[str, Any] = {"item": item, "targets": targets, "mapping": mapping, "tz": _tz(web),
                           "MAPPING": MAPPING, "DONE": DONE, "FAILED": FAILED, "errors": {}}
    ctx.update(context)
    return render(request, "contact/import_detail.html", ctx, status_code=status_code)


@router.get("/contacts/imports/{import_id}", response_class=HTMLResponse)
async def import_detail(request: Request, uow: UoW, web: WebRequires["contact_imports:write"],
                        import_id: PathId) -> Response:
    return await _import_page(request, uow, web, import_id)


@router.post("/contacts/imports/{import_id}/start", response_class=HTMLResponse)
async def start_import(request: Request, uow: UoW, web: WebRequires["contact_imports:write"],
                       import_id: PathId) -> Response:
    assert web.subject is not None
    form = await request.form()
    mapping = {key[4:]: str(value) for key, value in form.multi_items()
               if key.startswith("col_") and key[4:].isdecimal() and len(key) < 10 and isinstance(value, str)}
    try:
        await import_service.start(uow, web.subject, import_id, mapping=mapping, opt_in=form.get("opt_in") == "1")
    except DomainError as exc:
        web = await undo(request, uow)
        details = exc.details if isinstance(exc.details, dict) else {}
        return await _import_page(request, uow, web, import_id, error=exc.message, mapping=mapping,
                                  errors={k: str(v) for k, v in details.items()}, status_code=exc.status)
    return RedirectResponse(f"/contacts/imports/{import_id}", status_code=303)


@router.get("/contacts/imports/{import_id}/progress", response_class=HTMLResponse)
async def import_progress(request: Request, uow: UoW, web: WebRequires["contact_imports:write"],
                          import_id: PathId) -> Response:
    """The progress card alone: polled every second while the import runs."""
    assert web.subject is not None
    item = await import_service.get(uow, web.subject, import_id)
    return render(request, "contact/_import_progress.html", {"item": item, "DONE": DONE, "FAILED": FAILED})


@router.get("/contacts/imports/{import_id}/errors.csv")
async def import_errors(request: Request, uow: UoW, web: WebRequires["contact_imports:write"],
                        import_id: PathId) -> Response:
    assert web.subject is not None
    rows = await import_service.error_report(uow, get_runtime(request), web.subject, import_id)
    return StreamingResponse(rows, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="import-{import_id}-errors.csv"'})
