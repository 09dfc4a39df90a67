"""/v1/templates: create (checked against Meta's rules, then submitted for review), list, get, delete, sync, and
the sample file of a media header (`POST /v1/templates/header-media`, multipart rather than base64: no 33% bloat on a
file of up to 100 MB, and the part's Content-Type names the file's type).

A broken rule is a 422 whose `details` name each field (`body.text`, `buttons[1].url`, …) with its message.
Meta refusing is a 422 naming Meta's code; Meta unreachable is a 502. Statuses arrive by webhook.
"""

from __future__ import annotations

import mimetypes
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile

from softdukan.kit.ids import MAX_ID, PathId
from softdukan.number.graph import bind_local_app
from softdukan.platform.deps import Requires, UoW
from softdukan.platform.errors import Invalid
from softdukan.platform.http import error_responses
from softdukan.template.models import STATUSES
from softdukan.template.schemas import (
    HeaderMediaOut,
    SyncIn,
    SyncOut,
    TemplateIn,
    TemplateOut,
    TemplatePage,
    template_out,
)
from softdukan.template.service import MAX_SAMPLE_BYTES, template_service

router = APIRouter(tags=["templates"], dependencies=[Depends(bind_local_app)])


def _cursor(raw: str | None) -> int | None:
    if raw is None:
        return None
    if raw.isdecimal() and len(raw) <= 19 and 1 <= int(raw) <= MAX_ID:
        return int(raw)
    raise Invalid("invalid_cursor", "cursor must be the next_cursor of the previous page.", {"cursor": "Invalid."})


@router.post("/templates", response_model=TemplateOut, status_code=201, responses=error_responses(404, 409, 502))
async def create_template(body: TemplateIn, uow: UoW, subject: Requires["templates:write"]) -> TemplateOut:
    """Check every rule of Meta's, then submit the template for review; it answers PENDING (or SUBMITTING when
    Meta's answer is still on its way) and the review arrives by webhook."""
    template = await template_service.create(uow, subject, body.definition(), account_id=body.account_id)
    return template_out(template)


@router.get("/templates", response_model=TemplatePage, responses=error_responses(404))
async def list_templates(
    uow: UoW, subject: Requires["templates:read"],
    status: Annotated[str | None, Query(max_length=20, description="e.g. APPROVED")] = None,
    name: Annotated[str | None, Query(max_length=512, description="part of the name")] = None,
    account_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    cursor: Annotated[str | None, Query(max_length=20)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> TemplatePage:
    """Newest first; pass `next_cursor` back as `cursor` for the next page."""
    if status is not None and status.upper() not in STATUSES:
        raise Invalid("invalid_status", f"status is one of {', '.join(sorted(STATUSES))}.", {"status": "Unknown."})
    if account_id is not None:
        await template_service.account(uow, subject, account_id)  # another organization's id: 404
    rows = await template_service.list(uow, subject, status=status.upper() if status else None, name=name,
                                       account_id=account_id, after_id=_cursor(cursor), limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return TemplatePage(data=[template_out(t) for t in rows], next_cursor=str(rows[-1].id) if more else None)


@router.post("/templates/header-media", response_model=HeaderMediaOut, status_code=201,
             responses=error_responses(404, 502))
async def upload_header_media(
    uow: UoW, subject: Requires["templates:write"],
    file: Annotated[UploadFile, File(description="JPEG or PNG (≤5 MB), MP4 (≤16 MB) or PDF (≤100 MB)")],
    account_id: Annotated[int | None, Form(ge=1, le=MAX_ID)] = None,
    header_format: Annotated[str | None, Form(max_length=20, description="IMAGE, VIDEO or DOCUMENT: checked "
                                                                          "against the file's type")] = None,
) -> HeaderMediaOut:
    """Upload the sample file of a media header (multipart/form-data, part `file`) to WhatsApp through Meta's
    Resumable Upload API; the answer's `handle` goes in the header's `example.header_handle` of `POST /v1/templates`.
    """
    data = await file.read(MAX_SAMPLE_BYTES + 1)
    if len(data) > MAX_SAMPLE_BYTES:
        raise Invalid("header_sample_too_large", "A sample file can be at most 100 MB.", {"file": "Too large."})
    sample = await template_service.upload_header_sample(
        uow, subject, data, file_type=_file_type(file), file_name=file.filename or "",
        header_format=header_format, account_id=account_id)
    return HeaderMediaOut(handle=sample.handle, file_type=sample.file_type, file_size=sample.file_size,
                          file_name=sample.file_name, account_id=sample.account_id)


def _file_type(file: UploadFile) -> str:
    """The part's Content-Type; a generic one (or none) is guessed from the file name's extension."""
    declared = (file.content_type or "").split(";", 1)[0].strip().lower()
    if declared and declared != "application/octet-stream":
        return declared
    return mimetypes.guess_type(file.filename or "")[0] or declared


@router.post("/templates/sync", response_model=SyncOut, responses=error_responses(404, 502))
async def sync_templates(uow: UoW, subject: Requires["templates:write"], body: SyncIn = SyncIn()) -> SyncOut:
    """Pull the templates of the WhatsApp account (all connected accounts without `account_id`) from Meta."""
    report = await template_service.sync(uow, subject, account_id=body.account_id)
    return SyncOut(created=report.created, updated=report.updated, removed=report.removed)


@router.get("/templates/{template_id}", response_model=TemplateOut, responses=error_responses(404))
async def get_template(template_id: PathId, uow: UoW, subject: Requires["templates:read"]) -> TemplateOut:
    return template_out(await template_service.get(uow, subject, template_id))


@router.delete("/templates/{template_id}", response_model=TemplateOut, responses=error_responses(404, 502))
async def delete_template(template_id: PathId, uow: UoW, subject: Requires["templates:write"]) -> TemplateOut:
    """Delete this language of the template at Meta; it stays listed here as DELETED."""
    return template_out(await template_service.delete(uow, subject, template_id))
