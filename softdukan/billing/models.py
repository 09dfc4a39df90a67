"""GST billing: each organization's billing profile, the tax invoices and credit notes the platform issues to it,
their lines, and the numbering series (../shared/reference/billing-india.md §4).

A document is numbered in the transaction that issues it, from its `document_series` row (one per supplier GSTIN,
financial year and document type), so numbers are consecutive with no gaps and a rolled-back issue burns none.
What the database enforces: one number per series (UNIQUE), one document of a type per source (`source`,
`source_id`: a wallet top-up gets one invoice however often its crediting is retried), one billing profile per
organization. Everything shown on an issued document is copied onto it when it is issued and never changed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from softdukan.kit.db import BigId, Model, TenantModel, UTCDateTime, utcnow

INVOICE, CREDIT_NOTE = "invoice", "credit_note"
# status: a document is numbered when issued; an invoice paid at issue (a wallet recharge) is `paid`
DRAFT, ISSUED, PAID = "draft", "issued", "paid"


class BillingProfile(TenantModel):
    """Who the organization is on its invoices: legal name, address, state (the place of supply), GSTIN."""

    __tablename__ = "billing_profiles"
    __table_args__ = (UniqueConstraint("organization_id"),)

    legal_name: Mapped[str] = mapped_column(String(200))
    address_line1: Mapped[str] = mapped_column(String(200))
    address_line2: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(100))
    state_code: Mapped[str] = mapped_column(String(2))
    pin_code: Mapped[str] = mapped_column(String(6))
    gstin: Mapped[str | None] = mapped_column(String(15))  # its first two digits are state_code
    email: Mapped[str] = mapped_column(String(254))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DocumentSeries(Model):
    """The next number of one series; incremented by a guarded UPDATE in the issuing transaction."""

    __tablename__ = "document_series"
    __table_args__ = (UniqueConstraint("gstin", "fy", "doc_type"),
                      CheckConstraint("next_value >= 1", name="positive"))

    gstin: Mapped[str] = mapped_column(String(15))
    fy: Mapped[str] = mapped_column(String(7))  # "2026-27"
    doc_type: Mapped[str] = mapped_column(String(12))
    prefix: Mapped[str] = mapped_column(String(10))  # "SD/2627/"
    next_value: Mapped[int] = mapped_column(BigInteger, default=1)


class BillingDocument(TenantModel):
    __tablename__ = "billing_documents"
    __table_args__ = (
        UniqueConstraint("supplier_gstin", "fy", "doc_type", "number"),
        UniqueConstraint("doc_type", "source", "source_id"),
        CheckConstraint("doc_type IN ('invoice', 'credit_note')", name="doc_type"),
        CheckConstraint("status IN ('draft', 'issued', 'paid')", name="status"),
        CheckConstraint("supply_type IN ('intra', 'inter')", name="supply_type"),
        CheckConstraint("taxable_paise >= 0 AND cgst_paise >= 0 AND sgst_paise >= 0 AND igst_paise >= 0 "
                        "AND total_paise = taxable_paise + cgst_paise + sgst_paise + igst_paise", name="amounts"),
        CheckConstraint("(cgst_paise = sgst_paise AND igst_paise = 0) OR (cgst_paise = 0 AND sgst_paise = 0)",
                        name="heads"),
        CheckConstraint("(doc_type = 'credit_note') = (original_id IS NOT NULL)", name="original"),
    )

    doc_type: Mapped[str] = mapped_column(String(12))
    number: Mapped[str | None] = mapped_column(String(16))  # None until issued
    fy: Mapped[str] = mapped_column(String(7))
    status: Mapped[str] = mapped_column(String(8), default=DRAFT)
    issued_at: Mapped[datetime | None]
    # the supplier (the platform company) as configured when issued
    supplier_name: Mapped[str] = mapped_column(String(200))
    supplier_address: Mapped[str] = mapped_column(Text)
    supplier_state: Mapped[str] = mapped_column(String(2))
    supplier_gstin: Mapped[str] = mapped_column(String(15))
    # the recipient, copied from the billing profile (or the organization) when issued
    buyer_name: Mapped[str] = mapped_column(String(200))
    buyer_address: Mapped[str] = mapped_column(Text)  # lines joined by "\n"; "" when none is on record
    buyer_state: Mapped[str] = mapped_column(String(2))
    buyer_gstin: Mapped[str | None] = mapped_column(String(15))
    buyer_email: Mapped[str | None] = mapped_column(String(254))
    place_of_supply: Mapped[str] = mapped_column(String(2))  # state code
    supply_type: Mapped[str] = mapped_column(String(5))  # intra | inter
    taxable_paise: Mapped[int] = mapped_column(BigInteger)
    cgst_paise: Mapped[int] = mapped_column(BigInteger)
    sgst_paise: Mapped[int] = mapped_column(BigInteger)
    igst_paise: Mapped[int] = mapped_column(BigInteger)
    total_paise: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(40))  # "wallet_recharge", "plan", "refund" …
    source_id: Mapped[str] = mapped_column(String(100))  # the top-up's id …
    original_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("billing_documents.id"), index=True)
    reason: Mapped[str | None] = mapped_column(String(300))  # why a credit note was issued


class BillingDocumentLine(TenantModel):
    __tablename__ = "billing_document_lines"
    __table_args__ = (UniqueConstraint("document_id", "position"),
                      CheckConstraint("quantity >= 1 AND taxable_paise >= 0", name="amounts"))

    document_id: Mapped[int] = mapped_column(BigId, ForeignKey("billing_documents.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(String(300))
    sac: Mapped[str] = mapped_column(String(8))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    unit: Mapped[str | None] = mapped_column(String(10))
    taxable_paise: Mapped[int] = mapped_column(BigInteger)
    rate_bp: Mapped[int] = mapped_column(Integer)  # 1800 = 18 %
    cgst_paise: Mapped[int] = mapped_column(BigInteger)
    sgst_paise: Mapped[int] = mapped_column(BigInteger)
    igst_paise: Mapped[int] = mapped_column(BigInteger)
