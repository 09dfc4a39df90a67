"""The ledger core on the suite's database: balanced, idempotent, append-only postings; holds that never overdraw
a wallet and resolve exactly once; `ledger.check` finding what the database can't refuse by itself."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from softdukan.ledger import service as ledger
from softdukan.ledger.check import findings
from softdukan.ledger.models import (
    CREDIT,
    DEBIT,
    PAISE,
    WCC,
    LedgerAccount,
    LedgerEntry,
    LedgerHold,
    LedgerTransaction,
)
from softdukan.platform.errors import Conflict, Invalid
from softdukan.platform.runtime import Runtime
from tests.support.factories import make_org


async def _accounts(runtime: Runtime, org_id: int, top_up: int = 0) -> tuple[int, int, int]:
    """(wallet, usage clearing, world) ids; the wallet credited `top_up` from the world."""
    now = runtime.clock.now()
    async with runtime.sessionmaker() as session:
        wallet = await ledger.account(session, f"wallet:{org_id}:purchased", asset=WCC, kind="wallet",
                                      organization_id=org_id, no_overdraft=True, now=now)
        clearing = await ledger.account(session, "usage_clearing", asset=WCC, kind="clearing", now=now)
        world = await ledger.account(session, "external:world:wcc", asset=WCC, kind="external", now=now)
        if top_up:
            await ledger.post(session, key=f"test:top-up:{org_id}:{top_up}", kind="top_up", effective_at=now,
                              legs=[ledger.Leg(world.id, DEBIT, top_up), ledger.Leg(wallet.id, CREDIT, top_up)])
        await session.commit()
        return wallet.id, clearing.id, world.id


async def _hold(session: AsyncSession, org_id: int, wallet_id: int, clearing_id: int, key: str,
                amount: int) -> LedgerHold:
    """`ledger.reserve` for a day, with the two accounts loaded in this session."""
    wallet, clearing = await session.get(LedgerAccount, wallet_id), await session.get(LedgerAccount, clearing_id)
    assert wallet and clearing
    now = datetime.now(UTC)
    return await ledger.reserve(session, key=key, organization_id=org_id, wallet=wallet, counter=clearing,
                                amount=amount, expires_at=now + timedelta(days=1), now=now)


async def _wallet(runtime: Runtime, wallet_id: int) -> LedgerAccount:
    async with runtime.sessionmaker() as session:
        found = await session.get(LedgerAccount, wallet_id)
        assert found is not None
        return found


async def test_a_posting_must_balance_per_asset_and_have_positive_integer_amounts(runtime) -> None:
    org = await make_org(runtime)
    wallet, _, world = await _accounts(runtime, org.org.id)
    before = await _count(runtime, LedgerTransaction)  # the welcome credit of sign-up
    now = runtime.clock.now()
    async with runtime.sessionmaker() as session:
        money = await ledger.account(session, "clearing:razorpay", asset=PAISE, kind="clearing", now=now)
        for legs, code in [
            ([ledger.Leg(world, DEBIT, 100), ledger.Leg(wallet, CREDIT, 99)], "unbalanced"),
            ([ledger.Leg(money.id, DEBIT, 100), ledger.Leg(wallet, CREDIT, 100)], "unbalanced"),  # paise ≠ wcc
            ([ledger.Leg(world, DEBIT, 0), ledger.Leg(wallet, CREDIT, 0)], "invalid_amount"),
            ([ledger.Leg(world, DEBIT, 1.5), ledger.Leg(wallet, CREDIT, 1.5)], "invalid_amount"),  # type: ignore[arg-type]
            ([], "empty_transaction"),
        ]:
            with pytest.raises(Invalid) as refused:
                await ledger.post(session, key=f"bad:{code}:{len(legs)}", kind="test", legs=legs, effective_at=now)
            assert refused.value.code == code
        with pytest.raises(Invalid) as refused:  # pending entries only come with a hold, which resolves them
            await ledger.post(session, key="bad:pending", kind="test", status="pending", effective_at=now,
                              legs=[ledger.Leg(world, DEBIT, 100), ledger.Leg(wallet, CREDIT, 100)])
        assert refused.value.code == "invalid_status"
    assert await _count(runtime, LedgerTransaction) == before


async def _count(runtime: Runtime, model: type) -> int:
    async with runtime.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_the_same_key_posts_once_and_refuses_other_entries(runtime) -> None:
    org = await make_org(runtime)
    wallet, _, world = await _accounts(runtime, org.org.id)
    before = await _count(runtime, LedgerEntry)
    now = runtime.clock.now()
    legs = [ledger.Leg(world, DEBIT, 5_000), ledger.Leg(wallet, CREDIT, 5_000)]
    async with runtime.sessionmaker() as session:
        first = await ledger.post(session, key="rzp:pay:P1:captured", kind="top_up", legs=legs, effective_at=now)
        again = await ledger.post(session, key="rzp:pay:P1:captured", kind="top_up", legs=legs, effective_at=now)
        assert again.id == first.id
        with pytest.raises(Conflict) as refused:
            await ledger.post(session, key="rzp:pay:P1:captured", kind="top_up", effective_at=now,
                              legs=[ledger.Leg(world, DEBIT, 6_000), ledger.Leg(wallet, CREDIT, 6_000)])
        assert refused.value.code == "idempotency_key_reused"
        await session.commit()
    assert (await _wallet(runtime, wallet)).credits_posted == 5_000
    assert await _count(runtime, LedgerEntry) == before + 2


async def test_a_wallet_is_never_overdrawn_and_a_refusal_writes_nothing(runtime) -> None:
    org = await make_org(runtime)
    wallet, clearing, _ = await _accounts(runtime, org.org.id, top_up=1_000)
    before = await _count(runtime, LedgerTransaction)
    now = runtime.clock.now()
    async with runtime.sessionmaker() as session:
        with pytest.raises(ledger.InsufficientCredits) as refused:
            await ledger.post(session, key="spend:too-much", kind="charge", effective_at=now,
                              legs=[ledger.Leg(wallet, DEBIT, 1_001), ledger.Leg(clearing, CREDIT, 1_001)])
        assert (refused.value.status, refused.value.code) == (402, "insufficient_credits")
        await session.rollback()
    async with runtime.sessionmaker() as session:  # the database refuses it too, whatever the code does
        with pytest.raises(IntegrityError):
            await session.execute(update(LedgerAccount).where(LedgerAccount.id == wallet)
                                  .values(debits_posted=1_001))
    assert (await _wallet(runtime, wallet)).available == 1_000
    assert await _count(runtime, LedgerTransaction) == before  # nothing added by the refusals


async def test_a_hold_settles_at_most_its_amount_once_and_releases_the_rest(runtime) -> None:
    org = await make_org(runtime)
    wallet_id, clearing_id, _ = await _accounts(runtime, org.org.id, top_up=10_000)
    now = runtime.clock.now()
    async with runtime.sessionmaker() as session:
        hold = await _hold(session, org.org.id, wallet_id, clearing_id, "hold:send-1", 7_850)
        same = await _hold(session, org.org.id, wallet_id, clearing_id, "hold:send-1", 7_850)
        assert same.id == hold.id
        await session.commit()
        assert (await _wallet(runtime, wallet_id)).available == 10_000 - 7_850
        with pytest.raises(Invalid):
            await ledger.settle(session, hold, amount=7_851, resolution_key="meta:wamid.1:sent:regular", now=now)
        assert await ledger.settle(session, hold, amount=7_800, resolution_key="meta:wamid.1:sent:regular", now=now)
        assert not await ledger.settle(session, hold, amount=7_800, resolution_key="meta:wamid.1:delivered", now=now)
        assert not await ledger.release(session, hold, resolution_key="meta:wamid.1:failed", now=now)
        await session.commit()
    after = await _wallet(runtime, wallet_id)
    assert (after.debits_posted, after.debits_pending, after.available) == (7_800, 0, 2_200)
    async with runtime.sessionmaker() as session:
        assert await findings(session, now) == []


async def test_a_released_hold_gives_everything_back(runtime) -> None:
    org = await make_org(runtime)
    wallet_id, clearing_id, _ = await _accounts(runtime, org.org.id, top_up=500)
    now = runtime.clock.now()
    async with runtime.sessionmaker() as session:
        await _hold(session, org.org.id, wallet_id, clearing_id, "hold:send-2", 500)
        with pytest.raises(ledger.InsufficientCredits):  # the wallet is fully held
            await _hold(session, org.org.id, wallet_id, clearing_id, "hold:send-3", 1)
        await session.rollback()
    async with runtime.sessionmaker() as session:
        hold = await _hold(session, org.org.id, wallet_id, clearing_id, "hold:send-2", 500)
        assert await ledger.release(session, hold, resolution_key="meta:wamid.2:sent:free_customer_service", now=now)
        await session.commit()
        assert await findings(session, now) == []
    assert (await _wallet(runtime, wallet_id)).available == 500


async def test_concurrent_holds_never_take_more_than_the_balance(runtime) -> None:
    org = await make_org(runtime)
    wallet_id, clearing_id, _ = await _accounts(runtime, org.org.id, top_up=20)
    now = runtime.clock.now()

    async def one(n: int) -> bool:
        async with runtime.sessionmaker() as session:
            try:
                await _hold(session, org.org.id, wallet_id, clearing_id, f"hold:race-{n}", 1)
            except ledger.InsufficientCredits:
                await session.rollback()
                return False
            await session.commit()
            return True

    taken = await asyncio.gather(*(one(n) for n in range(40)))
    assert sum(taken) == 20
    wallet = await _wallet(runtime, wallet_id)
    assert (wallet.debits_pending, wallet.available) == (20, 0)
    async with runtime.sessionmaker() as session:
        assert await findings(session, now) == []


async def test_check_reports_a_cached_balance_that_drifted_from_its_entries(runtime) -> None:
    org = await make_org(runtime)
    wallet, _, _ = await _accounts(runtime, org.org.id, top_up=1_000)
    now = runtime.clock.now()
    async with runtime.sessionmaker() as session:
        assert await findings(session, now) == []
        if runtime.engine.dialect.name == "postgresql":  # past the database's own guards (0002), as a superuser
            await session.execute(text("SET LOCAL session_replication_role = replica"))  # could: check finds it
        await session.execute(text("UPDATE ledger_accounts SET credits_posted = credits_posted + 1 WHERE id = :id"),
                              {"id": wallet})
        await session.execute(text("INSERT INTO ledger_entries (transaction_id, account_id, direction, amount, "
                                   "status, created_at) SELECT id, :a, 'debit', 7, 'posted', created_at "
                                   "FROM ledger_transactions"), {"a": wallet})
        await session.commit()
        found = await findings(session, now)
    assert any("unbalanced" in line for line in found)
    assert any(f"wallet:{org.org.id}:purchased: cached credits_posted 1001" in line for line in found)
    assert any("sum to" in line for line in found)


def _check_command(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "softdukan.cli", "ledger", "check"], env=env, capture_output=True,
                          text=True, check=False)


async def test_the_cli_exits_non_zero_on_a_finding(runtime, settings) -> None:
    org = await make_org(runtime)
    wallet, _, _ = await _accounts(runtime, org.org.id, top_up=1_000)
    env = {"DATABASE_URL": settings.database_url, "SOFTDUKAN_SECRET_KEY": settings.softdukan_secret_key}
    clean = await asyncio.to_thread(_check_command, env)
    assert (clean.returncode, clean.stdout.strip()) == (0, "ledger: every invariant holds"), clean.stderr
    async with runtime.sessionmaker() as session:
        await session.execute(text("UPDATE ledger_accounts SET credits_posted = 999 WHERE id = :id"), {"id": wallet})
        await session.commit()
    drifted = await asyncio.to_thread(_check_command, env)
    assert drifted.returncode == 1 and "cached credits_posted 999" in drifted.stderr


async def test_holds_settle_in_batches_once_each_and_never_above_their_amount(runtime) -> None:
    org = await make_org(runtime)
    wallet_id, clearing_id, _ = await _accounts(runtime, org.org.id, top_up=10_000)
    now = runtime.clock.now()
    async with runtime.sessionmaker() as session:
        wallet = await session.get(LedgerAccount, wallet_id)
        clearing = await session.get(LedgerAccount, clearing_id)
        assert wallet and clearing
        ids = await ledger.reserve_many(session, organization_id=org.org.id, wallet=wallet, counter=clearing,
                                        holds=[(f"hold:b{i}", 1_000) for i in range(5)],
                                        expires_at=now + timedelta(days=1), now=now)
        await session.commit()
    held = [ids[f"hold:b{i}"] for i in range(5)]
    async with runtime.sessionmaker() as session:
        with pytest.raises(Invalid):  # above its hold: nothing of the batch is settled
            await ledger.settle_many(session, [(held[0], 900), (held[1], 1_001)], resolution="meta", now=now)
        await session.rollback()
    async with runtime.sessionmaker() as session:
        assert await ledger.settle_many(session, [(held[0], 900), (held[1], 0), (held[2], 1_000)],
                                        resolution="meta", now=now) == {held[0]: 900, held[1]: 0, held[2]: 1_000}
        again = await ledger.settle_many(session, [(held[0], 900), (held[3], 500)], resolution="meta", now=now)
        assert again == {held[3]: 500}  # the first was settled before: skipped, not charged twice
        await session.commit()
    after = await _wallet(runtime, wallet_id)
    assert (after.debits_posted, after.debits_pending, after.available) == (2_400, 1_000, 10_000 - 3_400)
    async with runtime.sessionmaker() as session:
        assert await findings(session, now + timedelta(hours=1)) == []
