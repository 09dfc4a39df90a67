"""Plan limits under concurrency: "count, then add" runs under the limit's lock (`entitlements.usage`), so
concurrent units of work adding to one organization never pass its plan's limit between them.

Runs on both databases. PostgreSQL (READ COMMITTED) is the real contest: without the advisory lock every
transaction counts the same `used` and adds. There the workers meet at a rendezvous just before the lock, so
they all count at once (SQLite writers hold the write lock from their first statement, so they can't meet there;
they queue for it instead)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from softdukan.contact.directory import contact_directory
from softdukan.contact.importing import tasks as import_tasks
from softdukan.contact.importing.models import ContactImport
from softdukan.contact.importing.service import import_service
from softdukan.contact.models import Contact
from softdukan.plan.service import by_code, save_plan
from softdukan.platform.runtime import Runtime
from softdukan.platform.uow import unit_of_work
from softdukan.subscription import entitlements
from softdukan.subscription.entitlements import PlanLimitReached, limit_lock_key
from tests.support.factories import OrgFixture, make_org

ALLOWED = 10  # contacts the plan allows
WORKERS = 12


async def _org_near_its_limit(runtime: Runtime) -> OrgFixture:
    """A trial organization (Basic) whose plan allows ALLOWED contacts, three of them free."""
    org = await make_org(runtime)
    async with unit_of_work(runtime) as uow:  # staff lowered Basic's contact limit (the trial follows Basic)
        basic = await by_code(uow.session, "basic", uow.clock.now())
        await save_plan(uow.session, code="basic", name=basic.name, description=basic.description,
                        yearly_price_paise=basic.yearly_price_paise, features=list(basic.features),
                        limits={**basic.limits, "contacts": ALLOWED}, active=True, now=uow.clock.now(), create=False)
    async with unit_of_work(runtime) as uow:
        for n in range(ALLOWED - 3):
            await contact_directory.create(uow, org.subject, phone=f"+9198100000{n:02d}")
    return org


async def _contacts(runtime: Runtime, org_id: int) -> int:
    async with runtime.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(Contact).where(
            Contact.organization_id == org_id)) or 0)


def _meet_before_the_lock(monkeypatch: pytest.MonkeyPatch, runtime: Runtime, parties: int) -> None:
    """PostgreSQL: each worker waits, just before its limit check reads the plan, until all have arrived."""
    if runtime.engine.dialect.name != "postgresql":
        return
    barrier, read_plan = asyncio.Barrier(parties), entitlements.of

    async def of(uow: Any, organization_id: int) -> entitlements.Entitlements:
        async with asyncio.timeout(30):
            await barrier.wait()
        return await read_plan(uow, organization_id)

    monkeypatch.setattr(entitlements, "of", of)


async def _each_in_its_own_unit_of_work(runtime: Runtime, work: list[Callable[[Any], Awaitable[None]]]
                                        ) -> list[BaseException | None]:
    async def one(step: Callable[[Any], Awaitable[None]]) -> BaseException | None:
        try:
            async with unit_of_work(runtime) as uow:
                await step(uow)
        except PlanLimitReached as refused:
            return refused
        return None

    return await asyncio.gather(*(one(step) for step in work))


async def test_concurrent_creates_stop_exactly_at_the_plan_limit(runtime: Runtime, monkeypatch) -> None:
    org = await _org_near_its_limit(runtime)
    _meet_before_the_lock(monkeypatch, runtime, WORKERS)

    def create(n: int) -> Callable[[Any], Awaitable[None]]:
        async def step(uow: Any) -> None:
            await contact_directory.create(uow, org.subject, phone=f"+9198200000{n:02d}", name=f"Racer {n}")
        return step

    outcomes = await _each_in_its_own_unit_of_work(runtime, [create(n) for n in range(WORKERS)])

    refused = [o for o in outcomes if o is not None]
    assert len(refused) == WORKERS - 3
    assert all(isinstance(r, PlanLimitReached) and r.status == 402 and r.code == "plan_limit_reached"
               and r.details["allowed"] == ALLOWED and r.details["used"] == ALLOWED for r in refused)
    assert await _contacts(runtime, org.org.id) == ALLOWED


async def test_concurrent_import_chunks_share_the_room_left(runtime: Runtime, monkeypatch) -> None:
    """Two imports of five new numbers each, their chunks run at once: three contacts are imported between
    them, every other row is an error row saying why."""
    org = await _org_near_its_limit(runtime)
    import_ids = []
    for file in range(2):
        rows = "".join(f"+91983{file}0000{n:02d},Person {file}-{n}\n" for n in range(5))
        async with unit_of_work(runtime) as uow:
            item = await import_service.upload(uow, org.subject, filename=f"people-{file}.csv",
                                               data=("phone,name\n" + rows).encode())
            await import_service.start(uow, org.subject, item.id, mapping={"0": "phone", "1": "name"}, opt_in=False)
            import_ids.append(item.id)
    _meet_before_the_lock(monkeypatch, runtime, 2)

    def chunk(import_id: int) -> Callable[[Any], Awaitable[None]]:
        async def step(uow: Any) -> None:
            await import_tasks.import_chunk(uow, import_id)
        return step

    assert await _each_in_its_own_unit_of_work(runtime, [chunk(i) for i in import_ids]) == [None, None]

    assert await _contacts(runtime, org.org.id) == ALLOWED
    async with runtime.sessionmaker() as session:
        items = (await session.execute(select(ContactImport).where(ContactImport.id.in_(import_ids)))).scalars()
        done = [(i.status, i.created_count, i.error_count) for i in items]
    assert all(status == "done" for status, _, _ in done)
    assert sum(created for _, created, _ in done) == 3 and sum(errors for _, _, errors in done) == 7


def test_limit_lock_keys_are_distinct_per_organization_and_limit() -> None:
    keys = {limit_lock_key(org, limit) for org in (1, 2, 3, 16, 17, 2**40)
            for limit in entitlements.LIMIT_LOCK_INDEX}
    assert len(keys) == 6 * len(entitlements.LIMIT_LOCK_INDEX)
    assert all(0 < key < 2**63 for key in keys)  # PostgreSQL's bigint
    assert len(set(entitlements.LIMIT_LOCK_INDEX.values())) == len(entitlements.LIMIT_LOCK_INDEX)
    assert max(entitlements.LIMIT_LOCK_INDEX.values()) < 16  # the low four bits
