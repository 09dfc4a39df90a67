"""Holds under concurrency (reference §1.6.2): 200 workers on their own sessions and connections race for a ₹100
wallet, ₹1 each. The guarded UPDATE lets exactly 100 through and never lets the wallet go below zero; concurrent
top-ups (delivered twice) and holds leave balance = Σ top-ups − Σ posted. The same race run by a naive
read-check-write (a plain SELECT, the check in Python, then `SET debits_pending = <what it read> + amount`) must
lose updates: that is the proof the race test can fail.

Runs on both databases. PostgreSQL (CI's second pass) is the real contest: 50 connections at once, READ COMMITTED
and SERIALIZABLE. On SQLite writers queue for the database's write lock, yet the naive run still fails there: it
reads the way a GET request does (`READ_FIRST`, a snapshot without the write lock; README rule 15), which is the
read-committed window a plain SELECT followed by an UPDATE leaves open on PostgreSQL."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from softdukan.config import Settings
from softdukan.kit.db import READ_FIRST, make_engine, make_sessionmaker
from softdukan.ledger import service as ledger
from softdukan.ledger.check import findings
from softdukan.ledger.models import (
    CREDIT,
    DEBIT,
    HOLD_PENDING,
    HOLD_POSTED,
    WCC,
    LedgerAccount,
    LedgerHold,
    LedgerTransaction,
)
from softdukan.platform.runtime import Runtime
from tests.support.factories import make_org

RUPEE = 10_000  # in INR/4 wallet units
WORKERS = 200
CONNECTIONS = 50  # PostgreSQL: 25 pooled + 25 overflow (make_engine); SQLite's default pool gives 15
WAVE = 10  # naive run: this many workers read before any of them writes (fewer than either pool's connections)
RETRYABLE = {"40001", "40P01"}  # serialization failure, deadlock: the unit of work is retried whole
A = LedgerAccount.__table__.c
Maker = async_sessionmaker[AsyncSession]


@pytest.fixture
async def engine(runtime: Runtime, settings: Settings) -> AsyncIterator[AsyncEngine]:
    """The workers' own engine, its pool big enough for the race (the runtime's is for setup and reading)."""
    engine = make_engine(settings.database_url, pool_size=CONNECTIONS // 2)
    yield engine
    await engine.dispose()


@dataclass(frozen=True)
class Wallet:
    org_id: int
    id: int
    usage_id: int
    conversion_id: int


async def _funded_wallet(runtime: Runtime, amount: int) -> Wallet:
    org = await make_org(runtime)
    now = runtime.clock.now()
    async with runtime.sessionmaker() as session:
        wallet = await ledger.account(session, f"wallet:{org.org.id}:purchased", asset=WCC, kind="wallet",
                                      organization_id=org.org.id, no_overdraft=True, now=now)
        usage = await ledger.account(session, "usage_clearing", asset=WCC, kind="clearing", now=now)
        conversion = await ledger.account(session, "conversion:wcc", asset=WCC, kind="clearing", now=now)
        await ledger.post(session, key=f"test:opening:{org.org.id}", kind="top_up", effective_at=now,
                          legs=[ledger.Leg(conversion.id, DEBIT, amount), ledger.Leg(wallet.id, CREDIT, amount)])
        await session.commit()
        return Wallet(org.org.id, wallet.id, usage.id, conversion.id)


async def _account(runtime: Runtime, account_id: int) -> LedgerAccount:
    async with runtime.sessionmaker() as session:
        found = await session.get(LedgerAccount, account_id)
        assert found is not None
        return found


async def _clean(runtime: Runtime) -> list[str]:
    async with runtime.sessionmaker() as session:
        return await findings(session, runtime.clock.now())


async def _count(runtime: Runtime, model: type, *where: ColumnElement[bool]) -> int:
    async with runtime.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def _reserve(maker: Maker, runtime: Runtime, wallet: Wallet, key: str, amount: int) -> int | None:
    """One send's hold in its own unit of work: the hold's id, or None when the wallet cannot cover it."""
    now = runtime.clock.now()
    async with maker() as session:
        try:
            account, usage = await session.get(LedgerAccount, wallet.id), await session.get(LedgerAccount,
                                                                                          wallet.usage_id)
            assert account is not None and usage is not None
            hold = await ledger.reserve(session, key=key, organization_id=wallet.org_id, wallet=account,
                                        counter=usage, amount=amount, expires_at=now + timedelta(days=1), now=now)
        except ledger.InsufficientCredits:
            await session.rollback()
            return None
        await session.commit()
        return hold.id


async def _retried(work: Callable[[], Awaitable[int | None]], retries: list[int]) -> int | None:
    """The unit of work again after a serialization failure or deadlock, as an edge that retries would."""
    while True:
        try:
            return await work()
        except DBAPIError as error:
            if getattr(error.orig, "sqlstate", None) not in RETRYABLE:
                raise
            retries.append(1)


async def _watch(runtime: Runtime, wallet_id: int, stop: asyncio.Event) -> list[int]:
    """The wallet's available balance, read over and over (like a dashboard) while the race runs."""
    seen: list[int] = []
    while not stop.is_set():
        async with runtime.sessionmaker() as session:
            await session.connection(execution_options={READ_FIRST: True})  # SQLite: read without the write lock
            seen.append(int(await session.scalar(
                select(A.credits_posted - A.debits_posted - A.debits_pending).where(A.id == wallet_id)) or 0))
        await asyncio.sleep(0)
    return seen


async def _race(maker: Maker, runtime: Runtime, wallet: Wallet, *, retries: list[int] | None = None) -> list[bool]:
    stop = asyncio.Event()
    watcher = asyncio.create_task(_watch(runtime, wallet.id, stop))

    async def one(n: int) -> bool:
        def attempt() -> Awaitable[int | None]:
            return _reserve(maker, runtime, wallet, f"hold:race-{n}", RUPEE)

        return (await (attempt() if retries is None else _retried(attempt, retries))) is not None

    try:
        taken = await asyncio.gather(*(one(n) for n in range(WORKERS)))
    finally:
        stop.set()
        seen = await watcher
    assert seen and min(seen) >= 0, f"the wallet's available balance went to {min(seen)}"
    return list(taken)


async def _assert_exactly_100_held(runtime: Runtime, wallet: Wallet, taken: list[bool]) -> None:
    assert sum(taken) == 100
    after = await _account(runtime, wallet.id)
    assert (after.debits_pending, after.debits_posted, after.available) == (100 * RUPEE, 0, 0)
    assert await _count(runtime, LedgerHold, LedgerHold.wallet_account_id == wallet.id,
                        LedgerHold.state == HOLD_PENDING) == 100  # refusals left no hold behind
    assert (await _account(runtime, wallet.usage_id)).credits_posted == 0  # held, not charged
    assert await _clean(runtime) == []


async def test_200_workers_holding_a_rupee_on_100_rupees_get_exactly_100_holds(runtime: Runtime,
                                                                              engine: AsyncEngine) -> None:
    wallet = await _funded_wallet(runtime, 100 * RUPEE)
    taken = await _race(make_sessionmaker(engine), runtime, wallet)
    await _assert_exactly_100_held(runtime, wallet, taken)


async def test_under_serializable_isolation_retries_still_give_exactly_100_holds(runtime: Runtime,
                                                                                settings: Settings) -> None:
    """PostgreSQL refuses some units with serialization failures; retried with the same key, exactly 100 still
    succeed (SQLite's transactions are serializable already: the same race as above). Ten connections: with
    fifty, nearly every attempt loses to another and the retries, not the race, take the time."""
    wallet = await _funded_wallet(runtime, 100 * RUPEE)
    engine = make_engine(settings.database_url, pool_size=5)
    try:
        serializable = engine.execution_options(isolation_level="SERIALIZABLE") \
            if engine.dialect.name == "postgresql" else engine
        retries: list[int] = []
        taken = await _race(make_sessionmaker(serializable), runtime, wallet, retries=retries)
    finally:
        await engine.dispose()
    await _assert_exactly_100_held(runtime, wallet, taken)


async def test_a_naive_read_check_write_loses_updates_in_the_same_race(runtime: Runtime,
                                                                      engine: AsyncEngine) -> None:
    """The proof the race can be lost: read the wallet with a plain SELECT, check in Python, write back
    `debits_pending = <read> + amount` without a lock or a guard. Each wave of workers reads before any of them
    writes (a barrier), so every wave loses all but its last write: every worker 'succeeds' while the wallet
    records a fraction of it. The CHECK constraint never fires (the lost writes keep the total low)."""
    wallet = await _funded_wallet(runtime, 100 * RUPEE)
    maker = make_sessionmaker(engine)
    barrier = asyncio.Barrier(WAVE)

    async def naive(n: int) -> bool:
        async with maker() as session:
            await session.connection(execution_options={READ_FIRST: True})  # as a GET reads (no-op on PostgreSQL)
            seen = (await session.execute(select(A.credits_posted, A.debits_posted, A.debits_pending)
                                          .where(A.id == wallet.id))).one()
            await barrier.wait()  # everyone in this wave has read
            if seen.credits_posted - seen.debits_posted - seen.debits_pending < RUPEE:
                await session.rollback()
                return False
            await session.execute(update(LedgerAccount).where(LedgerAccount.id == wallet.id)
                                  .values(debits_pending=seen.debits_pending + RUPEE)
                                  .execution_options(synchronize_session=False))
            await session.commit()
            return True

    taken = sum(await asyncio.gather(*(naive(n) for n in range(WORKERS))))
    after = await _account(runtime, wallet.id)
    assert taken > 100 or after.debits_pending != taken * RUPEE  # what the real race test would catch
    assert after.debits_pending < taken * RUPEE, "no update was lost: this run proves nothing"
    assert after.debits_pending <= WORKERS // WAVE * RUPEE  # one write survives per wave


async def test_concurrent_top_ups_and_holds_keep_balance_equal_to_top_ups_minus_posted(runtime: Runtime,
                                                                                       engine: AsyncEngine) -> None:
    """40 captured payments, each delivered twice, race 120 sends that hold ₹0.50 and then (a second unit of work)
    settle part of it or release it. Whichever holds were refused, the wallet ends at opening + Σ payments −
    Σ settled, nothing pending, every fact once, and the check clean."""
    opening = 10 * RUPEE
    wallet = await _funded_wallet(runtime, opening)
    maker = make_sessionmaker(engine)
    now = runtime.clock.now()
    payments = {f"rzp:pay:cc{n}:captured": 1_000 + 137 * n for n in range(40)}
    before = await _count(runtime, LedgerTransaction)  # the opening top-up, and what sign-up posted

    async def top_up(key: str, amount: int) -> None:
        async with maker() as session:
            await ledger.post(session, key=key, kind="top_up", effective_at=now, legs=[
                ledger.Leg(wallet.conversion_id, DEBIT, amount), ledger.Leg(wallet.id, CREDIT, amount)])
            await session.commit()

    async def send(n: int) -> int | None:
        """What the send was charged, or None if its hold was refused."""
        hold_id = await _reserve(maker, runtime, wallet, f"hold:mixed-{n}", 5_000)
        if hold_id is None:
            return None
        charge = 0 if n % 5 == 0 else (n * 731) % 5_001
        async with maker() as session:
            hold = await session.get(LedgerHold, hold_id)
            assert hold is not None
            if charge:
                assert await ledger.settle(session, hold, amount=charge, resolution_key=f"meta:w{n}:sent", now=now)
            else:
                assert await ledger.release(session, hold, resolution_key=f"meta:w{n}:failed", now=now)
            await session.commit()
        return charge

    work: list[Awaitable[int | None]] = [top_up(key, amount) for key, amount in payments.items() for _ in range(2)]
    work += [send(n) for n in range(120)]
    random.Random(20260115).shuffle(work)
    results = await asyncio.gather(*work)
    charged = [r for r in results if r is not None]

    after = await _account(runtime, wallet.id)
    assert after.credits_posted == opening + sum(payments.values())
    assert (after.debits_posted, after.debits_pending) == (sum(charged), 0)
    assert after.available == opening + sum(payments.values()) - sum(charged) >= 0
    assert await _count(runtime, LedgerTransaction, LedgerTransaction.idempotency_key.in_(payments)) == 40
    assert await _count(runtime, LedgerTransaction) == before + 40  # a posting each; charges post as their holds
    assert await _count(runtime, LedgerHold, LedgerHold.state == HOLD_POSTED, LedgerHold.posted_amount > 0
                        ) == sum(1 for c in charged if c)
    assert await _count(runtime, LedgerHold, LedgerHold.wallet_account_id == wallet.id) == len(charged)
    assert await _clean(runtime) == []
