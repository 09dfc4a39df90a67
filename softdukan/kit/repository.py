"""Repository base: the only place queries are written; every tenant query is scoped."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from softdukan.kit.db import Base

M = TypeVar("M", bound=Base)


class Repository(Generic[M]):
    model: type[M]

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def one_or_none(self, statement: Select[Any]) -> M | None:
        return (await self.session.execute(statement)).scalars().first()

    async def all(self, statement: Select[Any]) -> list[M]:
        return list((await self.session.execute(statement)).scalars().all())

    async def count(self, statement: Select[Any]) -> int:
        sub = statement.order_by(None).subquery()
        return int((await self.session.execute(select(func.count()).select_from(sub))).scalar_one())

    def add(self, obj: M) -> M:
        self.session.add(obj)
        return obj

    async def delete(self, obj: M) -> None:
        await self.session.delete(obj)
