"""Queries on connected accounts and numbers: scoped to the acting subject, except the few webhook lookups."""

from __future__ import annotations

from sqlalchemy import Select, select

from softdukan.auth.subject import Subject
from softdukan.kit.repository import Repository
from softdukan.number.models import PhoneNumber, WhatsAppAccount


class AccountRepository(Repository[WhatsAppAccount]):
    model = WhatsAppAccount

    def readable(self, subject: Subject) -> Select[tuple[WhatsAppAccount]]:
        return select(WhatsAppAccount).where(WhatsAppAccount.organization_id == subject.organization_id)

    async def get(self, subject: Subject, account_id: int) -> WhatsAppAccount | None:
        return await self.one_or_none(self.readable(subject).where(WhatsAppAccount.id == account_id))

    async def list(self, subject: Subject) -> list[WhatsAppAccount]:
        return await self.all(self.readable(subject).order_by(WhatsAppAccount.id))

    # -- unscoped on purpose: webhooks arrive without a subject and are routed by Meta's ids ---------------

    async def by_waba_id(self, waba_id: str) -> WhatsAppAccount | None:
        return await self.one_or_none(select(WhatsAppAccount).where(WhatsAppAccount.waba_id == waba_id))

    async def by_id_unscoped(self, account_id: int) -> WhatsAppAccount | None:
        return await self.session.get(WhatsAppAccount, account_id)

    async def by_verify_token_hash(self, verify_token_hash: str) -> WhatsAppAccount | None:
        return await self.one_or_none(
            select(WhatsAppAccount).where(WhatsAppAccount.verify_token_hash == verify_token_hash))


class PhoneNumberRepository(Repository[PhoneNumber]):
    model = PhoneNumber

    def readable(self, subject: Subject) -> Select[tuple[PhoneNumber]]:
        return select(PhoneNumber).where(PhoneNumber.organization_id == subject.organization_id)

    async def get(self, subject: Subject, number_id: int) -> PhoneNumber | None:
        return await self.one_or_none(self.readable(subject).where(PhoneNumber.id == number_id))

    async def list(self, subject: Subject) -> list[PhoneNumber]:
        return await self.all(self.readable(subject).order_by(PhoneNumber.id))

    async def of_account(self, subject: Subject, account_id: int) -> list[PhoneNumber]:
        return await self.all(self.readable(subject).where(PhoneNumber.account_id == account_id)
                              .order_by(PhoneNumber.id))

    async def by_wa_number(self, subject: Subject, wa_number: str) -> PhoneNumber | None:
        return await self.one_or_none(self.readable(subject).where(PhoneNumber.wa_number == wa_number))

    # -- unscoped on purpose (webhook routing, background refresh) -------------------------------------------

    async def by_phone_number_id(self, phone_number_id: str) -> PhoneNumber | None:
        return await self.one_or_none(select(PhoneNumber).where(PhoneNumber.phone_number_id == phone_number_id))

    async def by_account_and_wa_number(self, account_id: int, wa_number: str) -> PhoneNumber | None:
        return await self.one_or_none(select(PhoneNumber).where(PhoneNumber.account_id == account_id,
                                                                PhoneNumber.wa_number == wa_number))

    async def of_account_unscoped(self, account_id: int) -> list[PhoneNumber]:
        return await self.all(select(PhoneNumber).where(PhoneNumber.account_id == account_id).order_by(PhoneNumber.id))

    async def of_organization(self, organization_id: int) -> list[PhoneNumber]:
        """For the CLI and the demo, which act for an organization without a subject."""
        return await self.all(select(PhoneNumber).where(PhoneNumber.organization_id == organization_id)
                              .order_by(PhoneNumber.id))

    async def by_id_unscoped(self, number_id: int) -> PhoneNumber | None:
        return await self.session.get(PhoneNumber, number_id)

    async def ids_to_refresh(self, limit: int = 500) -> list[int]:
        rows = await self.session.execute(select(PhoneNumber.id).order_by(PhoneNumber.id).limit(limit))
        return [int(r) for r in rows.scalars().all()]
