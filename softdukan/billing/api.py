"""/v1/billing-profile (who the organization is on its invoices) and /v1/billing/documents (its tax invoices and
credit notes, as JSON or PDF). Documents are issued by the services that bill (wallet recharges …), not here."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from softdukan.billing.pdf import document_pdf
from softdukan.billing.printing import printable
from softdukan.billing.profile import ProfileInput, billing_profile_service
from softdukan.billing.schemas import (
    BillingProfileIn,
    BillingProfileOut,
    DocumentOut,
    DocumentPage,
    document_out,
    profile_out,
)
from softdukan.billing.service import billing_service
from softdukan.contact.directory import parse_cursor
from softdukan.kit.ids import PathId
from softdukan.platform.deps import Requires, UoW
from softdukan.platform.errors import NotFound
from softdukan.platform.http import error_responses

router = APIRouter(tags=["billing"])
Cursor = Annotated[str | None, Query(max_length=20, description="next_cursor of the previous page")]
Limit = Annotated[int, Query(ge=1, le=200)]
PDF_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}}, "description": "The document as a PDF"}}


@router.get("/billing-profile", response_model=BillingProfileOut, responses=error_responses(404))
async def get_billing_profile(uow: UoW, subject: Requires["billing:read"]) -> BillingProfileOut:
    profile = await billing_profile_service.get(uow, subject)
    if profile is None:
        raise NotFound("billing_profile_not_found", "No billing profile yet: PUT /v1/billing-profile to add one.")
    return profile_out(profile)


@router.put("/billing-profile", response_model=BillingProfileOut, responses=error_responses())
async def put_billing_profile(body: BillingProfileIn, uow: UoW, subject: Requires["billing:write"]
                              ) -> BillingProfileOut:
    """Creates or replaces the profile; a GSTIN must be valid and registered in `state_code`. Invoices already
    issued keep the details they were issued with."""
    return profile_out(await billing_profile_service.save(uow, subject, ProfileInput(**body.model_dump())))


@router.get("/billing/documents", response_model=DocumentPage, responses=error_responses())
async def list_documents(uow: UoW, subject: Requires["billing:read"], cursor: Cursor = None, limit: Limit = 50,
                         doc_type: Literal["invoice", "credit_note"] | None = None) -> DocumentPage:
    """Issued tax invoices and credit notes, newest first."""
    rows = await billing_service.list_documents(uow, subject, doc_type=doc_type, before_id=parse_cursor(cursor),
                                      limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return DocumentPage(data=[document_out(d) for d in rows], next_cursor=str(rows[-1].id) if more else None)


@router.get("/billing/documents/{document_id}", response_model=DocumentOut, responses=error_responses(404))
async def get_document(document_id: PathId, uow: UoW, subject: Requires["billing:read"]) -> DocumentOut:
    document = await billing_service.get(uow, subject, document_id)
    return document_out(document, await billing_service.lines(uow, subject, document))


@router.get("/billing/documents/{document_id}/pdf", response_class=Response,
            responses={**error_responses(404), **PDF_RESPONSE})
async def document_pdf_download(document_id: PathId, uow: UoW, subject: Requires["billing:read"]) -> Response:
    document = await billing_service.get(uow, subject, document_id)
    view = printable(document, await billing_service.lines(uow, subject, document),
                     await billing_service.original_of(uow, subject, document))
    return pdf_response(document_pdf(view), document.number or str(document.id))


def pdf_response(content: bytes, number: str) -> Response:
    filename = number.replace("/", "-") + ".pdf"
    return Response(content, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
