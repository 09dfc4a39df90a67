"""Dashboard: Settings → Billing profile, the list of invoices and credit notes, each one's printable page and its
PDF."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from softdukan.auth.settings_views import Text, flash_for, undo
from softdukan.auth.views import form_errors
from softdukan.billing.api import pdf_response
from softdukan.billing.models import BillingDocument
from softdukan.billing.pdf import document_pdf
from softdukan.billing.printing import Printable, printable
from softdukan.billing.profile import ProfileInput, billing_profile_service
from softdukan.billing.service import billing_service
from softdukan.billing.states import STATES
from softdukan.dashboard.context import WebContext, WebRequires
from softdukan.dashboard.render import render
from softdukan.kit.ids import PathId
from softdukan.kit.money import paise as rupees
from softdukan.platform.deps import UoW
from softdukan.platform.errors import DomainError
from softdukan.platform.uow import UnitOfWork

router = APIRouter(include_in_schema=False)
FLASH = {"saved": "Saved. Invoices from now on carry these details; those already issued keep theirs."}
FIELDS = ("legal_name", "address_line1", "address_line2", "city", "state_code", "pin_code", "gstin", "email")


async def _profile_page(request: Request, uow: UnitOfWork, web: WebContext, *, status_code: int = 200,
                        **context: Any) -> Response:
    assert web.subject is not None
    profile = await billing_profile_service.get(uow, web.subject)
    values = {field: (getattr(profile, field) or "") if profile else "" for field in FIELDS}
    ctx: dict[str, Any] = {"values": values, "errors": {}, "states": STATES, "has_profile": profile is not None,
                           "organization_name": web.organization.name if web.organization else ""}
    ctx.update(context)
    return render(request, "billing/profile.html", ctx, status_code=status_code)


@router.get("/settings/billing", response_class=HTMLResponse)
async def billing_profile_page(request: Request, uow: UoW, web: WebRequires["billing:read"],
                               flash: str | None = None) -> Response:
    return await _profile_page(request, uow, web, flash=flash_for(FLASH, flash))


@router.post("/settings/billing", response_class=HTMLResponse)
async def save_billing_profile(request: Request, uow: UoW, web: WebRequires["billing:write"], legal_name: Text = "",
                               address_line1: Text = "", address_line2: Text = "", city: Text = "",
                               state_code: Text = "", pin_code: Text = "", gstin: Text = "", email: Text = ""
                               ) -> Response:
    assert web.subject is not None
    values = {"legal_name": legal_name, "address_line1": address_line1, "address_line2": address_line2,
              "city": city, "state_code": state_code, "pin_code": pin_code, "gstin": gstin, "email": email}
    try:
        await billing_profile_service.save(uow, web.subject, ProfileInput(**values))
    except DomainError as exc:
        web = await undo(request, uow)
        message, errors = form_errors(exc)
        return await _profile_page(request, uow, web, values=values, errors=errors, error=message,
                                   status_code=exc.status)
    return RedirectResponse("/settings/billing?flash=saved", status_code=303)


@router.get("/billing/documents", response_class=HTMLResponse)
async def documents_page(request: Request, uow: UoW, web: WebRequires["billing:read"]) -> Response:
    assert web.subject is not None
    documents = await billing_service.list_documents(uow, web.subject, limit=200)
    return render(request, "billing/documents.html", {"documents": documents, "rupees": rupees})


async def _printable(uow: UnitOfWork, web: WebContext, document_id: int) -> Printable:
    assert web.subject is not None
    document: BillingDocument = await billing_service.get(uow, web.subject, document_id)
    return printable(document, await billing_service.lines(uow, web.subject, document),
                     await billing_service.original_of(uow, web.subject, document))


# before "/billing/documents/{document_id}", which would otherwise take "12.pdf" for an id
@router.get("/billing/documents/{document_id}.pdf")
async def document_pdf_page(uow: UoW, web: WebRequires["billing:read"], document_id: PathId) -> Response:
    view = await _printable(uow, web, document_id)
    return pdf_response(document_pdf(view), view.document.number or str(document_id))


@router.get("/billing/documents/{document_id}", response_class=HTMLResponse)
async def document_page(request: Request, uow: UoW, web: WebRequires["billing:read"], document_id: PathId
                        ) -> Response:
    return render(request, "billing/document.html", {"view": await _printable(uow, web, document_id),
                                                      "rupees": rupees})
