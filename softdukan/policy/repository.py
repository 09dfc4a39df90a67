"""Every policy query. Policy versions are public documents (no tenant); a user's seen-record is theirs alone."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from softdukan.kit.upsert import insert_ignore
from softdukan.policy.models import PolicySeen, PolicyVersion


class PolicyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def latest(self, kind: str, *, for_update: bool = False) -> PolicyVersion | None:
        query = select(PolicyVersion).where(PolicyVersion.kind == kind).order_by(PolicyVersion.number.desc()).limit(1)
        if for_update:  # posting: the next number is this one's + 1
            query = query.with_for_update()
        return await self.session.scalar(query)

    async def latest_of_each(self) -> dict[str, PolicyVersion]:
        newest = (select(PolicyVersion.kind, func.max(PolicyVersion.number).label("number"))
                  .group_by(PolicyVersion.kind).subquery())
        rows = await self.session.scalars(select(PolicyVersion).join(
            newest, (PolicyVersion.kind == newest.c.kind) & (PolicyVersion.number == newest.c.number)))
        return {row.kind: row for row in rows}

    async def in_force(self, kind: str, at: datetime) -> PolicyVersion | None:
        return await self.session.scalar(
            select(PolicyVersion).where(PolicyVersion.kind == kind, PolicyVersion.effective_at <= at)
            .order_by(PolicyVersion.number.desc()).limit(1))

    async def first(self, kind: str) -> PolicyVersion | None:
        return await self.session.scalar(select(PolicyVersion).where(PolicyVersion.kind == kind)
                                         .order_by(PolicyVersion.number).limit(1))

    async def version(self, kind: str, number: int) -> PolicyVersion | None:
        return await self.session.scalar(select(PolicyVersion).where(PolicyVersion.kind == kind,
                                                                     PolicyVersion.number == number))

    async def history(self, kind: str) -> list[PolicyVersion]:
        return list(await self.session.scalars(select(PolicyVersion).where(PolicyVersion.kind == kind)
                                               .order_by(PolicyVersion.number.desc())))

    async def insert_seed(self, rows: list[dict[str, object]]) -> None:
        await self.session.execute(insert_ignore(self.session, PolicyVersion, ["kind", "number"]), rows)

    async def seen_by(self, user_id: int) -> dict[str, int]:
        rows = await self.session.execute(select(PolicySeen.kind, PolicySeen.number)
                                          .where(PolicySeen.user_id == user_id))
        return {kind: number for kind, number in rows.all()}

    async def mark_seen(self, user_id: int, kind: str, number: int, now: datetime) -> None:
        """Records `number` as seen unless a later one was already (a stale notice dismissed late)."""
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(PolicySeen).values(user_id=user_id, kind=kind, number=number, seen_at=now, created_at=now)
        await self.session.execute(statement.on_conflict_do_update(
            index_elements=["user_id", "kind"], set_={"number": statement.excluded.number, "seen_at": now},
            where=PolicySeen.number < statement.excluded.number))
