"""Every query on inbound events. Events are written by the webhook (no subject) and read by routing and staff."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from softdukan.inbound.models import FAILED, PENDING, InboundEvent
from softdukan.kit.repository import Repository
from softdukan.kit.upsert import insert_ignore


class InboundEventRepository(Repository[InboundEvent]):
    model = InboundEvent

    async def insert_new(self, rows: list[dict[str, Any]]) -> list[tuple[int, int, int, str]]:
        """One INSERT … ON CONFLICT DO NOTHING; (id, organization_id, account_id, dedupe_key) of the new rows."""
        if not rows:
            return []
        statement = insert_ignore(self.session, InboundEvent, ["account_id", "dedupe_key"]).returning(
            InboundEvent.id, InboundEvent.organization_id, InboundEvent.account_id, InboundEvent.dedupe_key)
        return [(row[0], row[1], row[2], row[3]) for row in (await self.session.execute(statement, rows)).all()]

    async def by_id(self, event_id: int) -> InboundEvent | None:
        return await self.session.get(InboundEvent, event_id)

    async def record_failure(self, event_id: int, error: str, now: datetime) -> None:
        await self.session.execute(update(InboundEvent).where(InboundEvent.id == event_id).values(
            state=FAILED, attempts=InboundEvent.attempts + 1, last_error=error[-4000:])
            .execution_options(synchronize_session=False))

    async def failed(self, *, limit: int = 200) -> list[InboundEvent]:
        return await self.all(select(InboundEvent).where(InboundEvent.state == FAILED)
                              .order_by(InboundEvent.received_at.desc(), InboundEvent.id.desc()).limit(limit))

    async def reset_for_retry(self, event_id: int) -> bool:
        result = await self.session.execute(update(InboundEvent).where(
            InboundEvent.id == event_id, InboundEvent.state == FAILED).values(state=PENDING)
            .execution_options(synchronize_session=False))
        return bool(result.rowcount)  # type: ignore[attr-defined]
