"""Settings → Contact attributes: the organization's custom contact fields (key, label, type, choice options)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from softdukan.auth.settings_views import PathId, Text, flash_for, too_long, undo
from softdukan.auth.views import form_errors
from softdukan.contact.attributes import attribute_service
from softdukan.contact.models import ATTRIBUTE_TYPES
from softdukan.dashboard.context import WebContext, WebRequires
from softdukan.dashboard.render import render
from softdukan.platform.deps import UoW
from softdukan.platform.errors import DomainError
from softdukan.platform.uow import UnitOfWork

router = APIRouter(include_in_schema=False)
FLASH = {"created": "The attribute was added.", "saved": "The attribute was saved.",
         "deleted": "The attribute and its values were deleted."}
LIMITS = {"key": 40, "label": 80, "options": 3000}


def _options(text: str) -> list[str]:
    return [o for o in text.replace("\r", "").replace(",", "\n").split("\n") if o.strip()]


async def _page(request: Request, uow: UnitOfWork, web: WebContext, *, status_code: int = 200,
                **context: Any) -> Response:
    assert web.subject is not None
    ctx: dict[str, Any] = {"attributes": await attribute_service.list(uow, web.subject), "types": ATTRIBUTE_TYPES,
                           "values": {}, "errors": {}}
    ctx.update(context)
    return render(request, "contact/attributes.html", ctx, status_code=status_code)


@router.get("/settings/contact-attributes", response_class=HTMLResponse)
async def attributes_page(request: Request, uow: UoW, web: WebRequires["contacts:read"],
                          flash: str | None = None) -> Response:
    return await _page(request, uow, web, flash=flash_for(FLASH, flash))


@router.post("/settings/contact-attributes", response_class=HTMLResponse)
async def create_attribute(request: Request, uow: UoW, web: WebRequires["contact_attributes:write"], key: Text = "",
                           label: Text = "", type: Text = "text", options: Text = "") -> Response:
    assert web.subject is not None
    values = {"key": key, "label": label, "type": type, "options": options}
    try:
        too_long(values, LIMITS)
        await attribute_service.create(uow, web.subject, key=key, label=label, type_=type, options=_options(options))
    except DomainError as exc:
        web = await undo(request, uow)
        message, errors = form_errors(exc)
        return await _page(request, uow, web, values=values, errors=errors, error=message, status_code=exc.status)
    return RedirectResponse("/settings/contact-attributes?flash=created", status_code=303)


@router.post("/settings/contact-attributes/{attribute_id}", response_class=HTMLResponse)
async def update_attribute(request: Request, uow: UoW, web: WebRequires["contact_attributes:write"],
                           attribute_id: PathId, label: Text = "", options: Text = "") -> Response:
    assert web.subject is not None
    try:
        too_long({"label": label, "options": options}, LIMITS)
        await attribute_service.update(uow, web.subject, attribute_id, label=label, options=_options(options))
    except DomainError as exc:
        web = await undo(request, uow)
        return await _page(request, uow, web, error=exc.message, status_code=exc.status)
    return RedirectResponse("/settings/contact-attributes?flash=saved", status_code=303)


@router.post("/settings/contact-attributes/{attribute_id}/delete", response_class=HTMLResponse)
async def delete_attribute(uow: UoW, web: WebRequires["contact_attributes:write"], attribute_id: PathId) -> Response:
    assert web.subject is not None
    await attribute_service.delete(uow, web.subject, attribute_id)
    return RedirectResponse("/settings/contact-attributes?flash=deleted", status_code=303)
