"""Putting a test organization on a paid plan, for tests of capabilities the trial's Basic limits don't cover
(several numbers, many members)."""

from __future__ import annotations

from softdukan.platform.runtime import Runtime
from softdukan.platform.uow import unit_of_work
from softdukan.subscription.service import activate


async def subscribe(runtime: Runtime, organization_id: int, plan: str = "enterprise") -> None:
    async with unit_of_work(runtime) as uow:
        await activate(uow, organization_id, plan, period_start=uow.clock.now(), source="test")
