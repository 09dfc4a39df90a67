"""Wire shapes of /v1/billing-profile and /v1/billing/documents. Money is integer paise."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from softdukan.billing.models import BillingDocument, BillingDocumentLine, BillingProfile
from softdukan.billing.states import state_name


class BillingProfileIn(BaseModel):
    """The whole profile (PUT replaces it). Lengths are checked again with a message per field."""

    model_config = ConfigDict(extra="forbid")
    legal_name: str = Field(max_length=400, description="the registered legal name, as on the GST registration")
    address_line1: str = Field(max_length=400)
    address_line2: str | None = Field(default=None, max_length=400)
    city: str = Field(max_length=200)
    state_code: str = Field(max_length=10, description="GST state code, e.g. '29' for Karnataka: the place of "
                                                       "supply of your invoices")
    pin_code: str = Field(max_length=20)
    gstin: str | None = Field(default=None, max_length=40, description="optional; registered in state_code")
    email: str = Field(max_length=500, description="where invoices are sent")


class BillingProfileOut(BaseModel):
    legal_name: str
    address_line1: str
    address_line2: str | None
    city: str
    state_code: str
    state_name: str
    pin_code: str
    gstin: str | None
    email: str
    updated_at: datetime


def profile_out(profile: BillingProfile) -> BillingProfileOut:
    return BillingProfileOut(legal_name=profile.legal_name, address_line1=profile.address_line1,
                             address_line2=profile.address_line2, city=profile.city, state_code=profile.state_code,
                             state_name=state_name(profile.state_code), pin_code=profile.pin_code,
                             gstin=profile.gstin, email=profile.email, updated_at=profile.updated_at)


class DocumentLineOut(BaseModel):
    description: str
    sac: str
    quantity: int
    unit: str | None
    taxable_paise: int
    rate_bp: int = Field(description="1800 = 18 %")
    cgst_paise: int
    sgst_paise: int
    igst_paise: int


class DocumentOut(BaseModel):
    id: int
    doc_type: Literal["invoice", "credit_note"]
    number: str
    fy: str = Field(description="financial year, e.g. 2026-27")
    status: str
    issued_at: datetime | None
    supplier_name: str
    supplier_address: str
    supplier_gstin: str
    supplier_state: str
    buyer_name: str
    buyer_address: str
    buyer_state: str
    buyer_gstin: str | None
    place_of_supply: str = Field(description="state code")
    place_of_supply_name: str
    supply_type: Literal["intra", "inter"]
    taxable_paise: int
    cgst_paise: int
    sgst_paise: int
    igst_paise: int
    total_paise: int
    source: str
    source_id: str
    original_id: int | None = Field(description="a credit note's invoice")
    reason: str | None
    lines: list[DocumentLineOut] | None = Field(default=None, description="on GET of one document")


class DocumentPage(BaseModel):
    data: list[DocumentOut]
    next_cursor: str | None


def document_out(document: BillingDocument, lines: list[BillingDocumentLine] | None = None) -> DocumentOut:
    return DocumentOut(
        id=document.id, doc_type=document.doc_type, number=document.number or "", fy=document.fy,  # type: ignore[arg-type]
        status=document.status, issued_at=document.issued_at, supplier_name=document.supplier_name,
        supplier_address=document.supplier_address, supplier_gstin=document.supplier_gstin,
        supplier_state=document.supplier_state, buyer_name=document.buyer_name, buyer_address=document.buyer_address,
        buyer_state=document.buyer_state, buyer_gstin=document.buyer_gstin, place_of_supply=document.place_of_supply,
        place_of_supply_name=state_name(document.place_of_supply), supply_type=document.supply_type,  # type: ignore[arg-type]
        taxable_paise=document.taxable_paise, cgst_paise=document.cgst_paise, sgst_paise=document.sgst_paise,
        igst_paise=document.igst_paise, total_paise=document.total_paise, source=document.source,
        source_id=document.source_id, original_id=document.original_id, reason=document.reason,
        lines=None if lines is None else [DocumentLineOut(
            description=line.description, sac=line.sac, quantity=line.quantity, unit=line.unit,
            taxable_paise=line.taxable_paise, rate_bp=line.rate_bp, cgst_paise=line.cgst_paise,
            sgst_paise=line.sgst_paise, igst_paise=line.igst_paise) for line in lines])
