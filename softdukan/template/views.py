"""Dashboard pages: the templates list (live statuses), "New template" with a live WhatsApp-style preview and
rule checks as you type, a template's page, delete, and "Sync from account".

The form posts to the same service as /v1/templates; a broken rule re-renders the form with each field's message.
"""

from __future__ import annotations

import mimetypes
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from softdukan.auth.settings_views import PathId, Text, flash_for, parse_id, undo
from softdukan.auth.views import form_errors
from softdukan.dashboard.context import WebContext, WebRequires
from softdukan.dashboard.render import render
from softdukan.number.graph import bind_local_app
from softdukan.platform.deps import UoW
from softdukan.platform.errors import DomainError, Invalid
from softdukan.platform.uow import UnitOfWork
from softdukan.template.form import BUTTON_CHOICES, HEADER_CHOICES, LANGUAGES, TemplateForm, preview
from softdukan.template.models import NAMED, MessageTemplate
from softdukan.template.rules import MEDIA_FORMATS
from softdukan.template.service import MAX_SAMPLE_BYTES, template_service
from softdukan.template.variables import template_variables

router = APIRouter(include_in_schema=False, dependencies=[Depends(bind_local_app)])

FLASH = {"submitted": "The template was submitted to WhatsApp for review. Its status updates here by itself.",
         "deleted": "The template was deleted."}
DEFAULTS = {"language": "en", "category": "MARKETING", "parameter_format": "POSITIONAL", "header_format": "NONE"}


def _subject(web: WebContext) -> Any:
    assert web.subject is not None
    return web.subject


def _preview_of(template: MessageTemplate) -> Any:
    return preview(list(template.components or []), named=template.parameter_format == NAMED)


@router.get("/templates", response_class=HTMLResponse)
async def templates_page(request: Request, uow: UoW, web: WebRequires["templates:read"], flash: str | None = None,
                         synced: str | None = None) -> Response:
    subject = _subject(web)
    rows = await template_service.list(uow, subject, limit=500)
    accounts = await template_service.accounts(uow, subject)
    message = flash_for(FLASH, flash)
    if synced and synced.count("-") == 2 and all(p.isdecimal() and len(p) < 7 for p in synced.split("-")):
        created, updated, removed = synced.split("-")
        message = (f"Synced from WhatsApp: {created} new, {updated} updated, {removed} deleted at WhatsApp.")
    return render(request, "template/templates.html", {"templates": rows, "accounts": accounts, "flash": message})


@router.get("/templates/new", response_class=HTMLResponse)
async def new_template_page(request: Request, uow: UoW, web: WebRequires["templates:write"]) -> Response:
    form = TemplateForm(dict(DEFAULTS))
    return await _form_page(request, uow, web, form)


async def _form_page(request: Request, uow: UnitOfWork, web: WebContext, form: TemplateForm, *,
                     status_code: int = 200, errors: dict[str, str] | None = None, error: str | None = None,
                     account_id: str = "") -> Response:
    accounts = await template_service.accounts(uow, _subject(web))
    definition = form.definition()
    return render(request, "template/new.html", {
        "values": form.values, "buttons": form.buttons, "errors": errors or {}, "error": error,
        "accounts": accounts, "account_id": account_id, "languages": LANGUAGES, "header_choices": HEADER_CHOICES,
        "button_choices": BUTTON_CHOICES, "preview": preview(definition["components"], named=form.named),
        "live_problems": {}}, status_code=status_code)


@router.post("/templates/preview", response_class=HTMLResponse)
async def preview_fragment(request: Request, web: WebRequires["templates:write"]) -> Response:
    """The live preview and the rules the draft breaks so far (htmx, on every change of the form)."""
    form = TemplateForm.parse(await request.form())
    definition = form.definition()
    return render(request, "template/_preview.html", {
        "preview": preview(definition["components"], named=form.named), "live_problems": form.problems()})


@router.post("/templates/new", response_class=HTMLResponse)
async def create_template(request: Request, uow: UoW, web: WebRequires["templates:write"], account_id: Text = ""
                          ) -> Response:
    raw = await request.form()
    form = TemplateForm.parse(raw)
    try:
        chosen = parse_id(account_id, "account_id", "a WhatsApp account") if account_id.strip() else None
        await _upload_sample(uow, web, form, raw.get("header_file"), chosen)
        template = await template_service.create(uow, _subject(web), form.definition(), account_id=chosen)
    except DomainError as exc:
        web = await undo(request, uow)
        message, errors = form_errors(exc)
        return await _form_page(request, uow, web, form, status_code=exc.status, errors=errors, error=message,
                                account_id=account_id)
    return RedirectResponse(f"/templates/{template.id}?flash=submitted", status_code=303)


async def _upload_sample(uow: UnitOfWork, web: WebContext, form: TemplateForm, file: Any,
                         account_id: int | None) -> None:
    """A sample file chosen for an image, video or document header goes to WhatsApp first; its handle then fills the
    header's example (and stays in the form, so a refused submission never asks for the file again). The other
    rules are checked before, so a template that would be refused anyway costs no upload."""
    fmt = form.values.get("header_format", "")
    if not isinstance(file, UploadFile) or not file.filename or fmt not in MEDIA_FORMATS:
        return
    pending = TemplateForm({**form.values, "header_handle": "", "header_file_name": file.filename}, form.buttons)
    problems = pending.problems()
    if problems:
        raise Invalid("template_invalid", "Fix the fields marked below; the sample file was not uploaded yet.",
                      problems)
    data = await file.read(MAX_SAMPLE_BYTES + 1)
    if len(data) > MAX_SAMPLE_BYTES:
        raise Invalid("header_sample_too_large", "A sample file can be at most 100 MB.", {"file": "Too large."})
    file_type = (file.content_type or "").split(";", 1)[0].strip().lower()
    if not file_type or file_type == "application/octet-stream":
        file_type = mimetypes.guess_type(file.filename)[0] or file_type
    sample = await template_service.upload_header_sample(uow, _subject(web), data, file_type=file_type,
                                                         file_name=file.filename, header_format=fmt,
                                                         account_id=account_id)
    form.values["header_handle"], form.values["header_file_name"] = sample.handle, sample.file_name


@router.post("/templates/sync", response_class=HTMLResponse)
async def sync_templates(request: Request, uow: UoW, web: WebRequires["templates:write"], account_id: Text = ""
                         ) -> Response:
    try:
        chosen = parse_id(account_id, "account_id", "a WhatsApp account") if account_id.strip() else None
        report = await template_service.sync(uow, _subject(web), account_id=chosen)
    except DomainError as exc:
        web = await undo(request, uow)
        rows = await template_service.list(uow, _subject(web), limit=500)
        return render(request, "template/templates.html", {
            "templates": rows, "accounts": await template_service.accounts(uow, _subject(web)),
            "error": exc.message}, status_code=exc.status)
    return RedirectResponse(f"/templates?synced={report.created}-{report.updated}-{report.removed}",
                            status_code=303)


@router.get("/templates/{template_id}", response_class=HTMLResponse)
async def template_page(request: Request, uow: UoW, web: WebRequires["templates:read"], template_id: PathId,
                        flash: str | None = None) -> Response:
    template = await template_service.get(uow, _subject(web), template_id)
    return render(request, "template/template.html", {"template": template, "preview": _preview_of(template),
                                                      "variables": template_variables(template),
                                                      "flash": flash_for(FLASH, flash)})


@router.get("/templates/{template_id}/row", response_class=HTMLResponse)
async def template_row(request: Request, uow: UoW, web: WebRequires["templates:read"], template_id: PathId
                       ) -> Response:
    """One row of the templates table: re-fetched when a template.updated event arrives."""
    template = await template_service.get(uow, _subject(web), template_id)
    return render(request, "template/_row.html", {"t": template})


@router.get("/templates/{template_id}/status", response_class=HTMLResponse)
async def template_status(request: Request, uow: UoW, web: WebRequires["templates:read"], template_id: PathId
                          ) -> Response:
    """The template page's status card: re-fetched live like the row."""
    template = await template_service.get(uow, _subject(web), template_id)
    return render(request, "template/_status.html", {"template": template})


@router.post("/templates/{template_id}/delete", response_class=HTMLResponse)
async def delete_template(request: Request, uow: UoW, web: WebRequires["templates:write"], template_id: PathId
                          ) -> Response:
    try:
        await template_service.delete(uow, _subject(web), template_id)
    except DomainError as exc:
        web = await undo(request, uow)
        template = await template_service.get(uow, _subject(web), template_id)
        return render(request, "template/template.html", {
            "template": template, "preview": _preview_of(template), "variables": template_variables(template),
            "error": exc.message}, status_code=exc.status)
    return RedirectResponse("/templates?flash=deleted", status_code=303)
