"""Dashboard pages of contacts: the searchable list with a create form, one contact (edit, tags, attributes,
consent and block buttons, notes, timeline) and the CSV export."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from softdukan.auth.settings_views import PathId, Text, flash_for, undo
from softdukan.auth.views import form_errors
from softdukan.contact.attribute_values import display
from softdukan.contact.attributes import attribute_service
from softdukan.contact.consent import consent_service
from softdukan.contact.directory import contact_directory
from softdukan.contact.export import export_csv
from softdukan.contact.models import BLOCKED, OPTED_IN, OPTED_OUT, UNBLOCKED
from softdukan.contact.notes import note_service
from softdukan.contact.phones import display_phone
from softdukan.contact.repository import ContactFilter
from softdukan.dashboard.context import WebContext, WebRequires
from softdukan.dashboard.render import render
from softdukan.platform.deps import UoW, get_runtime
from softdukan.platform.errors import DomainError
from softdukan.platform.uow import UnitOfWork

router = APIRouter(include_in_schema=False)
Search = Annotated[str, Query(max_length=100)]
Cursor = Annotated[str | None, Query(max_length=20)]
FLASH = {"created": "The contact was added.", "saved": "The contact was saved.", "deleted": "The contact was deleted.",
         "note_added": "The note was added.", OPTED_OUT: "The contact was opted out of marketing messages.",
         OPTED_IN: "The contact was opted in.", BLOCKED: "The contact was blocked: it will receive nothing.",
         UNBLOCKED: "The contact was unblocked."}


def _tz(web: WebContext) -> str:
    return (web.organization.timezone if web.organization else None) or "Asia/Kolkata"


async def _list_page(request: Request, uow: UnitOfWork, web: WebContext, *, search: dict[str, str],
                     cursor: str | None = None, status_code: int = 200, **context: Any) -> Response:
    assert web.subject is not None
    definitions = await attribute_service.list(uow, web.subject)
    search_error = None
    try:
        f = await contact_directory.filter(uow, web.subject, **search)
        page = await contact_directory.search(uow, web.subject, f, cursor=cursor)
        total = await contact_directory.count(uow, web.subject, f)
    except DomainError as exc:
        search_error = exc.message
        page = await contact_directory.search(uow, web.subject, ContactFilter())
        total = None
    ctx: dict[str, Any] = {"page": page, "total": total, "search": search, "search_error": search_error,
                           "definitions": definitions, "tags": await contact_directory.tags(uow, web.subject),
                           "values": {}, "errors": {}, "display_phone": display_phone, "tz": _tz(web),
                           "export_query": urlencode({k: v for k, v in search.items() if v})}
    ctx.update(context)
    return render(request, "contact/contacts.html", ctx, status_code=status_code)


@router.get("/contacts", response_class=HTMLResponse)
async def contacts_page(request: Request, uow: UoW, web: WebRequires["contacts:read"], q: Search = "",
                        tag: Search = "", attribute_key: Search = "", attribute_value: Search = "",
                        cursor: Cursor = None, flash: str | None = None) -> Response:
    search = {"q": q, "tag": tag, "attribute_key": attribute_key, "attribute_value": attribute_value}
    return await _list_page(request, uow, web, search=search, cursor=cursor, flash=flash_for(FLASH, flash))


@router.post("/contacts", response_class=HTMLResponse)
async def create_contact(request: Request, uow: UoW, web: WebRequires["contacts:write"], phone: Text = "",
                         name: Text = "", tags: Text = "") -> Response:
    assert web.subject is not None
    values = {"phone": phone, "name": name, "tags": tags}
    try:
        view = await contact_directory.create(uow, web.subject, phone=phone, name=name,
                                              tags=tags.replace(";", ",").split(","))
    except DomainError as exc:
        web = await undo(request, uow)
        message, errors = form_errors(exc)
        return await _list_page(request, uow, web, search={}, values=values, errors=errors, error=message,
                                status_code=exc.status)
    return RedirectResponse(f"/contacts/{view.contact.id}?flash=created", status_code=303)


@router.get("/contacts/export.csv")
async def export_contacts(request: Request, uow: UoW, web: WebRequires["contacts:export"], q: Search = "",
                          tag: Search = "", attribute_key: Search = "", attribute_value: Search = "") -> Response:
    assert web.subject is not None
    f = await contact_directory.filter(uow, web.subject, q=q, tag=tag, attribute_key=attribute_key,
                                       attribute_value=attribute_value)
    return await export_csv(uow, get_runtime(request), web.subject, f)


async def _contact_page(request: Request, uow: UnitOfWork, web: WebContext, contact_id: int, *,
                        status_code: int = 200, **context: Any) -> Response:
    assert web.subject is not None
    view = await contact_directory.get(uow, web.subject, contact_id)
    definitions = await attribute_service.list(uow, web.subject)
    c = view.contact
    values = {"phone": f"+{c.phone}", "name": c.name or "", "tags": ", ".join(t.name for t in view.tags),
              **{f"attr_{d.key}": display((c.attributes or {}).get(d.key)) for d in definitions}}
    ctx: dict[str, Any] = {"view": view, "contact": c, "definitions": definitions, "values": values, "errors": {},
                           "timeline": await note_service.timeline(uow, web.subject, contact_id),
                           "attributes": c.attributes or {}, "display": display, "display_phone": display_phone,
                           "tz": _tz(web)}
    ctx.update(context)
    return render(request, "contact/contact.html", ctx, status_code=status_code)


@router.get("/contacts/{contact_id}", response_class=HTMLResponse)
async def contact_page(request: Request, uow: UoW, web: WebRequires["contacts:read"], contact_id: PathId,
                       flash: str | None = None) -> Response:
    return await _contact_page(request, uow, web, contact_id, flash=flash_for(FLASH, flash))


@router.post("/contacts/{contact_id}", response_class=HTMLResponse)
async def update_contact(request: Request, uow: UoW, web: WebRequires["contacts:write"], contact_id: PathId,
                         phone: Text = "", name: Text = "", tags: Text = "") -> Response:
    assert web.subject is not None
    form = await request.form()
    definitions = await attribute_service.list(uow, web.subject)
    attributes = {d.key: str(form.get(f"attr_{d.key}") or "") for d in definitions}
    values = {"phone": phone, "name": name, "tags": tags, **{f"attr_{k}": v for k, v in attributes.items()}}
    try:
        await contact_directory.update(uow, web.subject, contact_id, phone=phone, name=name, attributes=attributes,
                                       tags=tags.replace(";", ",").split(","))
    except DomainError as exc:
        web = await undo(request, uow)
        message, errors = form_errors(exc)
        errors = {k.replace("attributes.", "attr_"): v for k, v in errors.items()}
        return await _contact_page(request, uow, web, contact_id, values=values, errors=errors, error=message,
                                   status_code=exc.status)
    return RedirectResponse(f"/contacts/{contact_id}?flash=saved", status_code=303)


@router.post("/contacts/{contact_id}/notes", response_class=HTMLResponse)
async def add_note(request: Request, uow: UoW, web: WebRequires["contacts:write"], contact_id: PathId,
                   text: Text = "") -> Response:
    assert web.subject is not None
    try:
        await note_service.add(uow, web.subject, contact_id, text[:10_000])
    except DomainError as exc:
        web = await undo(request, uow)
        return await _contact_page(request, uow, web, contact_id, note_error=exc.message, note_text=text[:5000],
                                   status_code=exc.status)
    return RedirectResponse(f"/contacts/{contact_id}?flash=note_added#timeline", status_code=303)


async def _consent(uow: UnitOfWork, web: WebContext, contact_id: int, action: str) -> Response:
    assert web.subject is not None
    await consent_service.apply(uow, web.subject, contact_id, action, source="dashboard")
    return RedirectResponse(f"/contacts/{contact_id}?flash={action}", status_code=303)


@router.post("/contacts/{contact_id}/opt-out")
async def opt_out(uow: UoW, web: WebRequires["contacts:write"], contact_id: PathId) -> Response:
    return await _consent(uow, web, contact_id, OPTED_OUT)


@router.post("/contacts/{contact_id}/opt-in")
async def opt_in(uow: UoW, web: WebRequires["contacts:write"], contact_id: PathId) -> Response:
    return await _consent(uow, web, contact_id, OPTED_IN)


@router.post("/contacts/{contact_id}/block")
async def block(uow: UoW, web: WebRequires["contacts:write"], contact_id: PathId) -> Response:
    return await _consent(uow, web, contact_id, BLOCKED)


@router.post("/contacts/{contact_id}/unblock")
async def unblock(uow: UoW, web: WebRequires["contacts:write"], contact_id: PathId) -> Response:
    return await _consent(uow, web, contact_id, UNBLOCKED)


@router.post("/contacts/{contact_id}/delete")
async def delete_contact(uow: UoW, web: WebRequires["contacts:write"], contact_id: PathId) -> Response:
    assert web.subject is not None
    await contact_directory.delete(uow, web.subject, contact_id)
    return RedirectResponse("/contacts?flash=deleted", status_code=303)
