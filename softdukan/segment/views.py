"""Dashboard pages of segments: the list with live counts, the condition builder (htmx: rows re-render when a field
changes or a row is added or removed; the count and first contacts update as you type), a segment's page with its
contacts, save and delete. "New segment from this search" on the contacts page opens the builder prefilled."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from softdukan.auth.settings_views import PathId, Text, flash_for, undo
from softdukan.auth.views import form_errors
from softdukan.contact.models import ContactAttribute
from softdukan.contact.phones import display_phone
from softdukan.dashboard.context import WebContext, WebRequires
from softdukan.dashboard.render import render
from softdukan.platform.deps import UoW
from softdukan.platform.errors import DomainError, Invalid
from softdukan.platform.uow import UnitOfWork
from softdukan.segment.definition import Group, parse_definition
from softdukan.segment.form import (
    FIELD_LABELS,
    OP_LABELS,
    BuilderForm,
    Row,
    describe,
    field_choices,
    ops_for,
    options_for,
    row_errors,
    value_widget,
)
from softdukan.segment.models import Segment
from softdukan.segment.service import segment_service

router = APIRouter(include_in_schema=False)
Search = Annotated[str, Query(max_length=100)]
Cursor = Annotated[str | None, Query(max_length=20)]
FLASH = {"created": "The segment was saved.", "saved": "The segment was saved.", "deleted": "The segment was deleted."}
LIST_MAX = 200


def _subject(web: WebContext) -> Any:
    assert web.subject is not None
    return web.subject


def _tz(web: WebContext) -> str:
    return (web.organization.timezone if web.organization else None) or "Asia/Kolkata"


async def _builder_context(uow: UnitOfWork, web: WebContext, builder: BuilderForm,
                           errors: dict[str, str] | None = None) -> dict[str, Any]:
    attributes, tags = await segment_service.builder_choices(uow, _subject(web))
    by_key = {a.key: a for a in attributes}
    by_row, other = row_errors(errors or {})
    return {"builder": builder, "fields": field_choices(attributes), "tag_names": tags, "op_labels": OP_LABELS,
            "ops_for": lambda row: ops_for(row.field, by_key), "widget": lambda row: value_widget(row, by_key),
            "options": lambda row: options_for(row, by_key), "row_errors": by_row,
            "builder_errors": other if builder.advanced or other else [],
            "advanced_error": "; ".join(f"{k}: {v}" for k, v in (errors or {}).items()) if builder.advanced else ""}


async def _attributes(uow: UnitOfWork, web: WebContext) -> dict[str, ContactAttribute]:
    attributes, _ = await segment_service.builder_choices(uow, _subject(web))
    return {a.key: a for a in attributes}


@router.get("/segments", response_class=HTMLResponse)
async def segments_page(request: Request, uow: UoW, web: WebRequires["segments:read"], flash: str | None = None
                        ) -> Response:
    subject = _subject(web)
    rows = await segment_service.list(uow, subject, limit=LIST_MAX)
    attributes = await _attributes(uow, web)
    listed = []
    for segment in rows:
        count = await segment_service.count(uow, subject, segment)
        listed.append({"segment": segment, "count": count, "summary": _summary(segment, attributes)})
    return render(request, "segment/segments.html", {"segments": listed, "flash": flash_for(FLASH, flash),
                                                     "tz": _tz(web)})


def _summary(segment: Segment, attributes: dict[str, ContactAttribute]) -> str:
    try:
        return describe(parse_definition(segment.definition, list(attributes.values())), attributes)
    except DomainError:
        return "Needs fixing: a condition refers to something that no longer exists."


def _from_search(tag: str, q: str) -> BuilderForm:
    """The builder prefilled from a contacts search (tag; a name or number search has no segment condition)."""
    builder = BuilderForm()
    if tag.strip():
        builder.rows.append(Row(field="tags", op="has_any", value=tag.strip(), values=[tag.strip()]))
    if not builder.rows:
        builder.add_row()
    return builder


@router.get("/segments/new", response_class=HTMLResponse)
async def new_segment_page(request: Request, uow: UoW, web: WebRequires["segments:write"], tag: Search = "",
                           q: Search = "", name: Search = "") -> Response:
    return await _edit_page(request, uow, web, None, _from_search(tag, q), name=name)


async def _edit_page(request: Request, uow: UnitOfWork, web: WebContext, segment: Segment | None,
                     builder: BuilderForm, *, name: str = "", status_code: int = 200,
                     errors: dict[str, str] | None = None, error: str | None = None) -> Response:
    ctx = await _builder_context(uow, web, builder, errors)
    ctx.update({"segment": segment, "name": name, "errors": errors or {}, "error": error})
    return render(request, "segment/edit.html", ctx, status_code=status_code)


@router.post("/segments/builder", response_class=HTMLResponse)
async def builder_fragment(request: Request, uow: UoW, web: WebRequires["segments:write"]) -> Response:
    """The condition rows again, after a field changed or a row was added or removed (htmx)."""
    form = await request.form()
    attributes = await _attributes(uow, web)
    builder = BuilderForm.parse(form, attributes)
    action = str(form.get("action") or "")
    if action == "add":
        builder.add_row()
    elif action.startswith("remove-") and action[7:].isdecimal() and len(action) < 12:
        builder.remove_row(int(action[7:]))
    elif action == "advanced":
        definition = builder.definition(attributes)
        try:
            builder = BuilderForm(match=builder.match, advanced=True,
                                  definition_json=_pretty(parse_definition(definition, list(attributes.values()))))
        except DomainError:
            builder = BuilderForm(match=builder.match, advanced=True, definition_json=_pretty_raw(definition))
    elif action == "simple":
        try:
            group = parse_definition(builder.definition(attributes), list(attributes.values()))
            builder = BuilderForm.of(group) if group.flat else builder
        except DomainError:
            pass
    return render(request, "segment/_builder.html", await _builder_context(uow, web, builder))


def _pretty(group: Group) -> str:
    return _pretty_raw(group.to_json())


def _pretty_raw(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


@router.post("/segments/preview", response_class=HTMLResponse)
async def preview_fragment(request: Request, uow: UoW, web: WebRequires["segments:write"]) -> Response:
    """The live count and the first contacts of the definition being built, or what to fix (htmx)."""
    attributes = await _attributes(uow, web)
    builder = BuilderForm.parse(await request.form(), attributes)
    definition = builder.definition(attributes)
    problems: list[str] = []
    preview = None
    if definition is None:
        problems = ["The JSON definition is not valid JSON."]
    else:
        try:
            preview = await segment_service.preview(uow, _subject(web), definition, first=5)
        except Invalid as exc:
            details = exc.details if isinstance(exc.details, dict) else {}
            problems = [str(v) for v in details.values()] or [exc.message]
    return render(request, "segment/_count.html", {"preview": preview, "problems": problems,
                                                   "display_phone": display_phone})


async def _save(request: Request, uow: UnitOfWork, web: WebContext, segment: Segment | None, name: str
                ) -> Response:
    attributes = await _attributes(uow, web)
    builder = BuilderForm.parse(await request.form(), attributes)
    definition = builder.definition(attributes)
    try:
        if definition is None:
            raise Invalid("invalid_segment_definition", "The JSON definition is not valid JSON.",
                          {"definition": "Not valid JSON."})
        if segment is None:
            segment = await segment_service.create(uow, _subject(web), name=name, definition=definition)
            code = "created"
        else:
            segment = await segment_service.update(uow, _subject(web), segment.id, name=name, definition=definition)
            code = "saved"
    except DomainError as exc:
        segment_id = segment.id if segment is not None else None
        web = await undo(request, uow)
        message, errors = form_errors(exc)
        reloaded = await segment_service.get(uow, _subject(web), segment_id) if segment_id else None
        return await _edit_page(request, uow, web, reloaded, builder, name=name, status_code=exc.status,
                                errors=errors, error=message)
    return RedirectResponse(f"/segments/{segment.id}?flash={code}", status_code=303)


@router.post("/segments/new", response_class=HTMLResponse)
async def create_segment(request: Request, uow: UoW, web: WebRequires["segments:write"], name: Text = "") -> Response:
    return await _save(request, uow, web, None, name)


@router.get("/segments/{segment_id}", response_class=HTMLResponse)
async def segment_page(request: Request, uow: UoW, web: WebRequires["segments:read"], segment_id: PathId,
                       cursor: Cursor = None, flash: str | None = None) -> Response:
    subject = _subject(web)
    segment = await segment_service.get(uow, subject, segment_id)
    attributes = await _attributes(uow, web)
    count = await segment_service.count(uow, subject, segment)
    page = None
    if count.value is not None and subject.can("contacts:read"):
        page = await segment_service.members(uow, subject, segment, cursor=cursor)
    return render(request, "segment/segment.html", {
        "segment": segment, "count": count, "page": page, "summary": _summary(segment, attributes),
        "flash": flash_for(FLASH, flash), "display_phone": display_phone, "tz": _tz(web),
        "field_labels": FIELD_LABELS})


@router.get("/segments/{segment_id}/edit", response_class=HTMLResponse)
async def edit_segment_page(request: Request, uow: UoW, web: WebRequires["segments:write"], segment_id: PathId
                            ) -> Response:
    segment = await segment_service.get(uow, _subject(web), segment_id)
    attributes = await _attributes(uow, web)
    try:
        builder = BuilderForm.of(parse_definition(segment.definition, list(attributes.values())))
    except DomainError:  # refers to a deleted attribute: show it as JSON to fix
        builder = BuilderForm(advanced=True, definition_json=_pretty_raw(segment.definition))
    return await _edit_page(request, uow, web, segment, builder, name=segment.name)


@router.post("/segments/{segment_id}/edit", response_class=HTMLResponse)
async def update_segment(request: Request, uow: UoW, web: WebRequires["segments:write"], segment_id: PathId,
                         name: Text = "") -> Response:
    segment = await segment_service.get(uow, _subject(web), segment_id)
    return await _save(request, uow, web, segment, name)


@router.post("/segments/{segment_id}/delete")
async def delete_segment(uow: UoW, web: WebRequires["segments:write"], segment_id: PathId) -> Response:
    await segment_service.delete(uow, _subject(web), segment_id)
    return RedirectResponse("/segments?flash=deleted", status_code=303)
