"""Issuing GST documents: the one place wallet recharges, plans, add-ons and refunds get their tax invoices and
credit notes from (../shared/reference/billing-india.md §4).

`issue_invoice` never fails for want of a billing profile: without one, the recipient is the organization by its
name, unregistered, with no address, in the state the caller passes (`buyer_state`) or else the supplier's state
(the B2C place-of-supply rule: the supplier's location when no address is on record), so it is an intra-state
supply with CGST + SGST. With a profile, its details are copied onto the document when it is issued.

Order inside the issuing transaction: the document is first inserted unnumbered under its unique source key (a
second call for the same source finds it and returns it, so no number is taken for nothing), then the series
row is incremented and the number written. Services never commit: the caller's transaction issues the number,
and a rollback gives it back.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from softdukan.auth.subject import Subject
from softdukan.billing.models import (
    CREDIT_NOTE,
    DRAFT,
    INVOICE,
    ISSUED,
    PAID,
    BillingDocument,
    BillingDocumentLine,
)
from softdukan.billing.numbering import financial_year, format_number, series_prefix
from softdukan.billing.repository import BillingDocumentRepository, BillingProfileRepository, DocumentSeriesRepository
from softdukan.billing.states import STATES
from softdukan.billing.supplier import Supplier, supplier_of
from softdukan.billing.tax import GST_RATE_BP, ZERO, TaxSplit, credit_split, split_tax, supply_type
from softdukan.platform.errors import Conflict, Invalid, NotFound
from softdukan.platform.uow import UnitOfWork

SAC = re.compile(r"[0-9]{4,8}")
SOURCE = re.compile(r"[a-z0-9_.:-]{1,40}")


@dataclass(frozen=True)
class LineIn:
    description: str  # "Wallet recharge (WhatsApp conversation credits)"
    taxable_paise: int  # the line's taxable value, before tax
    sac: str | None = None  # None: the supplier's configured SAC
    quantity: int = 1
    unit: str | None = None
    rate_bp: int = GST_RATE_BP


@dataclass(frozen=True)
class Buyer:
    name: str
    address: str
    state: str
    gstin: str | None
    email: str | None


def _check_source(source: str, source_id: str) -> None:
    if not SOURCE.fullmatch(source) or not 1 <= len(source_id) <= 100:
        raise Invalid("invalid_billing_source", "A document's source is a short lower-case name and its id at "
                                                "most 100 characters.")


def _check_lines(lines: Sequence[LineIn]) -> None:
    if not lines:
        raise Invalid("no_invoice_lines", "An invoice needs at least one line.")
    for line in lines:
        if not 1 <= len(line.description.strip()) <= 300:
            raise Invalid("invalid_invoice_line", "A line's description has 1 to 300 characters.")
        if line.taxable_paise < 0 or line.quantity < 1 or not 0 <= line.rate_bp <= 10_000:
            raise Invalid("invalid_invoice_line", "A line needs a taxable value of at least ₹0, a quantity of at "
                                                  "least 1 and a rate between 0 and 100 %.")
        if line.sac is not None and not SAC.fullmatch(line.sac):
            raise Invalid("invalid_sac", f"SAC {line.sac!r} should be 4 to 8 digits.")
        if line.unit is not None and len(line.unit) > 10:
            raise Invalid("invalid_invoice_line", "A line's unit has at most 10 characters.")


async def _buyer(uow: UnitOfWork, organization_id: int, buyer_state: str | None, supplier: Supplier) -> Buyer:
    repo = BillingProfileRepository(uow.session)
    profile = await repo.of(organization_id)
    if profile is not None:
        address = [profile.address_line1, profile.address_line2 or "", f"{profile.city} {profile.pin_code}"]
        return Buyer(profile.legal_name, "\n".join(part for part in address if part), profile.state_code,
                     profile.gstin, profile.email)
    name = await repo.organization_name(organization_id)
    if name is None:
        raise NotFound("organization_not_found", f"No organization {organization_id}.")
    state = buyer_state if buyer_state in STATES else supplier.state
    return Buyer(name[:200], "", state, None, None)


def _snapshot(document: BillingDocument) -> TaxSplit:
    return TaxSplit(document.taxable_paise, document.cgst_paise, document.sgst_paise, document.igst_paise)


def _same_source(existing: BillingDocument, organization_id: int, taxable_paise: int | None) -> BillingDocument:
    """The document a repeated call for the same source gets: the one issued the first time, if it matches."""
    if existing.organization_id != organization_id or (taxable_paise is not None
                                                       and existing.taxable_paise != taxable_paise):
        raise Conflict("billing_source_reused", f"{existing.source} {existing.source_id} already has "
                                                f"{existing.doc_type.replace('_', ' ')} {existing.number} "
                                                "with other details.")
    return existing


class BillingService:
    async def _number(self, uow: UnitOfWork, document: BillingDocument, status: str) -> None:
        """Takes the next number of the document's series, in this transaction."""
        prefix, value = await DocumentSeriesRepository(uow.session).take_next(
            document.supplier_gstin, document.fy, document.doc_type, series_prefix(document.doc_type, document.fy))
        document.number = format_number(prefix, document.doc_type, value)
        document.status = status

    async def _claim(self, uow: UnitOfWork, row: dict[str, object]) -> BillingDocument | None:
        """The new unnumbered document, or None when its source has one already (then nothing was written)."""
        repo = BillingDocumentRepository(uow.session)
        document_id = await repo.claim_source(row)
        if document_id is None:
            return None
        document = await uow.session.get(BillingDocument, document_id)
        assert document is not None
        return document

    async def issue_invoice(self, uow: UnitOfWork, organization_id: int, *, lines: Sequence[LineIn], source: str,
                            source_id: str, paid: bool, buyer_state: str | None = None) -> BillingDocument:
        """A numbered tax invoice to the organization for `lines` (tax added per line); `paid` for a payment
        already received (a wallet recharge). One per (source, source_id): calling again returns the same one."""
        _check_source(source, source_id)
        _check_lines(lines)
        docs = BillingDocumentRepository(uow.session)
        taxable = sum(line.taxable_paise for line in lines)
        existing = await docs.by_source(INVOICE, source, source_id)
        if existing is not None:
            return _same_source(existing, organization_id, taxable)
        supplier = supplier_of(uow.settings)
        buyer = await _buyer(uow, organization_id, buyer_state, supplier)
        splits = [split_tax(line.taxable_paise, supplier.state, buyer.state, line.rate_bp) for line in lines]
        totals = sum(splits, ZERO)
        now = uow.clock.now()
        document = await self._claim(uow, {
            "organization_id": organization_id, "created_at": now, "doc_type": INVOICE, "number": None,
            "fy": financial_year(now), "status": DRAFT, "issued_at": now,
            "supplier_name": supplier.name, "supplier_address": supplier.address, "supplier_state": supplier.state,
            "supplier_gstin": supplier.gstin, "buyer_name": buyer.name, "buyer_address": buyer.address,
            "buyer_state": buyer.state, "buyer_gstin": buyer.gstin, "buyer_email": buyer.email,
            "place_of_supply": buyer.state, "supply_type": supply_type(supplier.state, buyer.state),
            "taxable_paise": totals.taxable, "cgst_paise": totals.cgst, "sgst_paise": totals.sgst,
            "igst_paise": totals.igst, "total_paise": totals.total, "source": source, "source_id": source_id,
            "original_id": None, "reason": None})
        if document is None:  # issued meanwhile by a concurrent call for the same source
            existing = await docs.by_source(INVOICE, source, source_id)
            assert existing is not None
            return _same_source(existing, organization_id, taxable)
        for position, (line, split) in enumerate(zip(lines, splits, strict=True), start=1):
            uow.session.add(BillingDocumentLine(
                organization_id=organization_id, created_at=now, document_id=document.id, position=position,
                description=line.description.strip(), sac=line.sac or supplier.sac, quantity=line.quantity,
                unit=line.unit, taxable_paise=split.taxable, rate_bp=line.rate_bp, cgst_paise=split.cgst,
                sgst_paise=split.sgst, igst_paise=split.igst))
        await self._number(uow, document, PAID if paid else ISSUED)
        await uow.flush()
        return document

    async def issue_credit_note(self, uow: UnitOfWork, invoice: BillingDocument, *, taxable_paise: int | None,
                                reason: str, source: str, source_id: str) -> BillingDocument:
        """A numbered credit note against `invoice` for `taxable_paise` of its taxable value (None: all that is not
        credited yet), with the invoice's heads in proportion and the exact remainder when it credits the rest.
        Never more than remains: the invoice row is locked while the credited amount is added up."""
        _check_source(source, source_id)
        reason = " ".join(reason.split())
        if not 1 <= len(reason) <= 300:
            raise Invalid("invalid_reason", "Give the reason for the credit note (at most 300 characters).")
        docs = BillingDocumentRepository(uow.session)
        existing = await docs.by_source(CREDIT_NOTE, source, source_id)
        if existing is not None:
            return _same_source(existing, invoice.organization_id, taxable_paise)
        original = await docs.locked(invoice.organization_id, invoice.id)
        if original is None or original.doc_type != INVOICE or original.number is None:
            raise NotFound("invoice_not_found", "Credit notes are issued against issued invoices only.")
        remaining = _snapshot(original) - await docs.credited(original.organization_id, original.id)
        amount = remaining.taxable if taxable_paise is None else taxable_paise
        if remaining.taxable <= 0:
            raise Conflict("invoice_fully_credited", f"Invoice {original.number} is fully credited already.")
        if not 0 < amount <= remaining.taxable:
            raise Invalid("credit_exceeds_invoice", f"A credit note against invoice {original.number} can credit "
                                                    f"between 1 paisa and {remaining.taxable} paise of taxable "
                                                    f"value; {amount} was asked.", {"taxable_paise": amount})
        split = credit_split(_snapshot(original), _snapshot(original) - remaining, amount)
        lines = await docs.lines(original.organization_id, original.id)
        now = uow.clock.now()
        document = await self._claim(uow, {
            "organization_id": original.organization_id, "created_at": now, "doc_type": CREDIT_NOTE,
            "number": None, "fy": financial_year(now), "status": DRAFT, "issued_at": now,
            **{field: getattr(original, field) for field in (
                "supplier_name", "supplier_address", "supplier_state", "supplier_gstin", "buyer_name",
                "buyer_address", "buyer_state", "buyer_gstin", "buyer_email", "place_of_supply", "supply_type")},
            "taxable_paise": split.taxable, "cgst_paise": split.cgst, "sgst_paise": split.sgst,
            "igst_paise": split.igst, "total_paise": split.total, "source": source, "source_id": source_id,
            "original_id": original.id, "reason": reason})
        if document is None:
            existing = await docs.by_source(CREDIT_NOTE, source, source_id)
            assert existing is not None
            return _same_source(existing, original.organization_id, taxable_paise)
        uow.session.add(BillingDocumentLine(
            organization_id=original.organization_id, created_at=now, document_id=document.id, position=1,
            description=f"Credit against invoice {original.number}: {reason}"[:300],
            sac=lines[0].sac if lines else supplier_of(uow.settings).sac, quantity=1, unit=None,
            taxable_paise=split.taxable, rate_bp=lines[0].rate_bp if lines else GST_RATE_BP,
            cgst_paise=split.cgst, sgst_paise=split.sgst, igst_paise=split.igst))
        await self._number(uow, document, ISSUED)
        await uow.flush()
        return document

    # -- reading, scoped to the acting subject ---------------------------------------------------------------

    async def list_documents(self, uow: UnitOfWork, subject: Subject, *, doc_type: str | None = None,
                   before_id: int | None = None, limit: int = 50) -> list[BillingDocument]:
        """The organization's issued invoices and credit notes, newest first."""
        subject.require("billing:read")
        return await BillingDocumentRepository(uow.session).page(subject, doc_type=doc_type, before_id=before_id,
                                                                 limit=limit)

    async def get(self, uow: UnitOfWork, subject: Subject, document_id: int) -> BillingDocument:
        subject.require("billing:read")
        document = await BillingDocumentRepository(uow.session).get(subject, document_id)
        if document is None:
            raise NotFound("billing_document_not_found", "No such invoice or credit note.")
        return document

    async def lines(self, uow: UnitOfWork, subject: Subject, document: BillingDocument) -> list[BillingDocumentLine]:
        subject.require("billing:read")
        return await BillingDocumentRepository(uow.session).lines(subject.organization_id, document.id)

    async def original_of(self, uow: UnitOfWork, subject: Subject, document: BillingDocument
                          ) -> BillingDocument | None:
        """A credit note's invoice (shown on it by number and date)."""
        if document.original_id is None:
            return None
        return await BillingDocumentRepository(uow.session).get(subject, document.original_id)


billing_service = BillingService()
