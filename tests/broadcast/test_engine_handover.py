"""A run whose time is up hands the broadcast to its successor before recording its last chunks' answers: the
successor must be able to take the broadcast (its lease released for real), and every recipient still goes out
exactly once."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from softdukan.broadcast import dispatch
from softdukan.platform.jobs.models import Job
from tests.broadcast.engine_support import (
    add_contacts,
    launch,
    marketing_template,
    number,
    run_until_done,
    sandbox_received,
)
from tests.template.conftest import Shop


async def test_runs_hand_over_while_draining_and_every_recipient_goes_once(shop: Shop,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dispatch, "RUN_SECONDS", 0.0)  # every run's time is up after its first chunk
    template_id = await marketing_template(shop)
    await add_contacts(shop, 130)  # three chunks of at most 50
    broadcast_id = await launch(shop, template_id)
    done = await run_until_done(shop, broadcast_id, rounds=5)
    assert done.status == "completed" and done.dispatch_lease_until is None
    assert await sandbox_received(shop) == {number(i): 1 for i in range(130)}
    async with shop.runtime.sessionmaker() as session:
        runs = await session.scalar(select(func.count()).select_from(Job).where(Job.name == dispatch.DISPATCH_TASK))
    assert runs is not None and runs >= 3  # handed over at least twice
