"""Every lead query (staff-only data: no tenant scope)."""

from __future__ import annotations

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from softdukan.backoffice.models import StaffUser
from softdukan.lead.models import NEW, Lead, LeadNote


class LeadRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, lead_id: int, *, for_update: bool = False) -> Lead | None:
        query = select(Lead).where(Lead.id == lead_id)
        return await self.session.scalar(query.with_for_update() if for_update else query)

    async def listing(self, status: str | None, *, limit: int) -> list[Lead]:
        """New ones first, then the rest; newest first within each."""
        query = select(Lead).order_by(case((Lead.status == NEW, 0), else_=1), Lead.created_at.desc(),
                                      Lead.id.desc()).limit(limit)
        if status:
            query = query.where(Lead.status == status)
        return list(await self.session.scalars(query))

    async def counts(self) -> dict[str, int]:
        rows = await self.session.execute(select(Lead.status, func.count()).group_by(Lead.status))
        return {status: count for status, count in rows.all()}

    async def notes(self, lead_id: int) -> list[LeadNote]:
        return list(await self.session.scalars(select(LeadNote).where(LeadNote.lead_id == lead_id)
                                               .order_by(LeadNote.id)))

    async def staff_addresses(self) -> list[str]:
        """Where a new request is announced: every staff account not disabled."""
        return list(await self.session.scalars(select(StaffUser.email).where(StaffUser.disabled_at.is_(None))
                                               .order_by(StaffUser.id)))
