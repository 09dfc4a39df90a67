"""Every query of billing. Pages and the API pass the acting subject; the issuing service (called by wallet
recharges, plans, refunds: system code) passes the organization id the caller resolved."""

from __future__ import annotations

from sqlalchemy import Select, func, select, update

from softdukan.auth.subject import Subject
from softdukan.billing.models import CREDIT_NOTE, BillingDocument, BillingDocumentLine, BillingProfile, DocumentSeries
from softdukan.billing.tax import TaxSplit
from softdukan.kit.repository import Repository
from softdukan.kit.upsert import insert_ignore
from softdukan.organization.models import Organization


class BillingProfileRepository(Repository[BillingProfile]):
    model = BillingProfile

    async def of(self, organization_id: int) -> BillingProfile | None:
        return await self.one_or_none(select(BillingProfile).where(BillingProfile.organization_id == organization_id))

    async def readable(self, subject: Subject) -> BillingProfile | None:
        return await self.of(subject.organization_id)

    async def insert_if_missing(self, row: dict[str, object]) -> None:
        await self.session.execute(insert_ignore(self.session, BillingProfile, ["organization_id"]), row)

    async def for_update(self, subject: Subject) -> BillingProfile | None:
        return await self.one_or_none(
            select(BillingProfile).where(BillingProfile.organization_id == subject.organization_id)
            .with_for_update().execution_options(populate_existing=True))

    async def organization_name(self, organization_id: int) -> str | None:
        """The recipient's name on an invoice of an organization without a billing profile."""
        return (await self.session.execute(
            select(Organization.name).where(Organization.id == organization_id))).scalar_one_or_none()


class BillingDocumentRepository(Repository[BillingDocument]):
    model = BillingDocument

    def readable(self, subject: Subject) -> Select[tuple[BillingDocument]]:
        return select(BillingDocument).where(BillingDocument.organization_id == subject.organization_id,
                                             BillingDocument.number.is_not(None))

    async def get(self, subject: Subject, document_id: int) -> BillingDocument | None:
        return await self.one_or_none(self.readable(subject).where(BillingDocument.id == document_id))

    async def page(self, subject: Subject, *, doc_type: str | None, before_id: int | None, limit: int
                   ) -> list[BillingDocument]:
        """Newest first (ids grow with issue order)."""
        statement = self.readable(subject)
        if doc_type:
            statement = statement.where(BillingDocument.doc_type == doc_type)
        if before_id:
            statement = statement.where(BillingDocument.id < before_id)
        return await self.all(statement.order_by(BillingDocument.id.desc()).limit(limit))

    async def lines(self, organization_id: int, document_id: int) -> list[BillingDocumentLine]:
        return list((await self.session.execute(
            select(BillingDocumentLine).where(BillingDocumentLine.organization_id == organization_id,
                                              BillingDocumentLine.document_id == document_id)
            .order_by(BillingDocumentLine.position))).scalars().all())

    async def by_source(self, doc_type: str, source: str, source_id: str) -> BillingDocument | None:
        return await self.one_or_none(select(BillingDocument).where(
            BillingDocument.doc_type == doc_type, BillingDocument.source == source,
            BillingDocument.source_id == source_id))

    async def claim_source(self, row: dict[str, object]) -> int | None:
        """Inserts the draft document unless its (doc_type, source, source_id) exists: its id, or None. A second
        transaction claiming the same source waits here for the first to commit (PostgreSQL) and then sees it."""
        statement = insert_ignore(self.session, BillingDocument, ["doc_type", "source", "source_id"])
        result = await self.session.execute(statement.returning(BillingDocument.id), row)
        inserted = result.scalar_one_or_none()
        return int(inserted) if inserted is not None else None

    async def locked(self, organization_id: int, document_id: int) -> BillingDocument | None:
        """The document, its row locked until commit (credit notes against one invoice queue here)."""
        statement = (select(BillingDocument).where(BillingDocument.organization_id == organization_id,
                                                   BillingDocument.id == document_id)
                     .with_for_update().execution_options(populate_existing=True))
        return await self.one_or_none(statement)

    async def credited(self, organization_id: int, invoice_id: int) -> TaxSplit:
        """What the issued credit notes of an invoice credited so far, per head."""
        row = (await self.session.execute(
            select(func.coalesce(func.sum(BillingDocument.taxable_paise), 0),
                   func.coalesce(func.sum(BillingDocument.cgst_paise), 0),
                   func.coalesce(func.sum(BillingDocument.sgst_paise), 0),
                   func.coalesce(func.sum(BillingDocument.igst_paise), 0))
            .where(BillingDocument.organization_id == organization_id, BillingDocument.doc_type == CREDIT_NOTE,
                   BillingDocument.original_id == invoice_id, BillingDocument.number.is_not(None)))).one()
        return TaxSplit(*(int(value) for value in row))


class DocumentSeriesRepository(Repository[DocumentSeries]):
    model = DocumentSeries

    async def take_next(self, gstin: str, fy: str, doc_type: str, prefix: str) -> tuple[str, int]:
        """(prefix, value) of the series' next number, taken in this transaction: the row stays locked until the
        transaction ends, so concurrent issuers queue and get consecutive values, and a rollback gives the value
        back. A series starts at 1 the first time its (gstin, fy, doc_type) is used."""
        await self.session.execute(insert_ignore(self.session, DocumentSeries, ["gstin", "fy", "doc_type"]),
                                   {"gstin": gstin, "fy": fy, "doc_type": doc_type, "prefix": prefix,
                                    "next_value": 1})
        statement = (update(DocumentSeries)
                     .where(DocumentSeries.gstin == gstin, DocumentSeries.fy == fy, DocumentSeries.doc_type == doc_type)
                     .values(next_value=DocumentSeries.next_value + 1)
                     .returning(DocumentSeries.prefix, DocumentSeries.next_value)
                     .execution_options(synchronize_session=False))
        series_prefix, after = (await self.session.execute(statement)).one()
        return str(series_prefix), int(after) - 1
