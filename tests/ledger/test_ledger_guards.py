"""The ledger's guards in the database itself (migration 0002): whatever code runs, entries and transactions are
never updated or deleted, a hold changes once (pending → resolved) and a resolved one stays, an account keeps its
identity. On PostgreSQL a transaction whose entries don't balance can't commit; on SQLite (no deferred triggers)
`ledger check` finds it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from softdukan.ledger import service as ledger
from softdukan.ledger.check import findings
from softdukan.ledger.models import CREDIT, DEBIT, POSTED, LedgerAccount, LedgerEntry, LedgerHold, LedgerTransaction
from softdukan.platform.runtime import Runtime
from tests.ledger.test_ledger import _accounts
from tests.support.factories import make_org


async def _refused(runtime: Runtime, statement: object, message: str) -> None:
    async with runtime.sessionmaker() as session:
        with pytest.raises(IntegrityError, match=message):
            await session.execute(statement)  # type: ignore[call-overload]
            await session.commit()


async def test_entries_and_transactions_are_never_updated_or_deleted(runtime: Runtime) -> None:
    org = await make_org(runtime, "Guards")
    wallet_id, _, _ = await _accounts(runtime, org.org.id, top_up=5_000)
    async with runtime.sessionmaker() as session:
        entry = (await session.execute(select(LedgerEntry).where(LedgerEntry.account_id == wallet_id))).scalar_one()
        transaction_id = entry.transaction_id
    await _refused(runtime, update(LedgerEntry).where(LedgerEntry.id == entry.id).values(amount=1), "append-only")
    await _refused(runtime, delete(LedgerEntry).where(LedgerEntry.id == entry.id), "append-only")
    await _refused(runtime, update(LedgerTransaction).where(LedgerTransaction.id == transaction_id)
                   .values(kind="other"), "append-only")
    await _refused(runtime, delete(LedgerTransaction).where(LedgerTransaction.id == transaction_id), "append-only")
    async with runtime.sessionmaker() as session:
        assert (await session.get(LedgerEntry, entry.id)).amount == 5_000  # type: ignore[union-attr]


async def test_a_hold_changes_once_and_a_resolved_hold_stays(runtime: Runtime) -> None:
    org = await make_org(runtime, "Guards")
    wallet_id, clearing_id, _ = await _accounts(runtime, org.org.id, top_up=5_000)
    now = runtime.clock.now()
    async with runtime.sessionmaker() as session:
        wallet, clearing = await session.get(LedgerAccount, wallet_id), await session.get(LedgerAccount, clearing_id)
        assert wallet and clearing
        holds = [await ledger.reserve(session, key=f"hold:g{n}", organization_id=org.org.id, wallet=wallet,
                                      counter=clearing, amount=1_000, expires_at=now + timedelta(days=1), now=now)
                 for n in range(2)]
        await session.commit()
    settled, pending = holds[0].id, holds[1].id
    await _refused(runtime, update(LedgerHold).where(LedgerHold.id == pending).values(amount=1),
                   "changes once")  # a pending hold's terms are fixed
    async with runtime.sessionmaker() as session:
        assert await ledger.settle(session, settled, amount=700, resolution_key="meta:g0:charge", now=now)
        await session.commit()
    await _refused(runtime, update(LedgerHold).where(LedgerHold.id == settled).values(posted_amount=1),
                   "changes once")
    await _refused(runtime, update(LedgerHold).where(LedgerHold.id == settled).values(state="pending"),
                   "changes once")
    await _refused(runtime, delete(LedgerHold).where(LedgerHold.id == settled), "never deleted")
    async with runtime.sessionmaker() as session:
        hold = await session.get(LedgerHold, settled)
        assert hold is not None and (hold.state, hold.posted_amount) == (POSTED, 700)
        assert await findings(session, now) == []


async def test_an_account_keeps_its_identity_and_is_never_deleted(runtime: Runtime) -> None:
    org = await make_org(runtime, "Guards")
    wallet_id, _, _ = await _accounts(runtime, org.org.id, top_up=5_000)
    await _refused(runtime, update(LedgerAccount).where(LedgerAccount.id == wallet_id).values(code="wallet:x"),
                   "identity")
    await _refused(runtime, update(LedgerAccount).where(LedgerAccount.id == wallet_id).values(no_overdraft=False),
                   "identity")
    await _refused(runtime, delete(LedgerAccount).where(LedgerAccount.id == wallet_id), "never deleted")


async def test_an_unbalanced_transaction_is_refused_by_postgresql_and_found_by_ledger_check(runtime: Runtime,
                                                                                         ) -> None:
    org = await make_org(runtime, "Guards")
    wallet_id, _, world_id = await _accounts(runtime, org.org.id)
    now = runtime.clock.now()
    postgres = runtime.engine.dialect.name == "postgresql"
    async with runtime.sessionmaker() as session:  # around ledger.post, straight into the tables
        transaction_id = (await session.execute(insert(LedgerTransaction).values(
            idempotency_key="forged", fingerprint="-", kind="forged", effective_at=now, details={}, created_at=now)
            .returning(LedgerTransaction.id))).scalar_one()
        await session.execute(insert(LedgerEntry).values(transaction_id=transaction_id, account_id=world_id,
                                                         direction=DEBIT, amount=300, status=POSTED, created_at=now))
        await session.execute(insert(LedgerEntry).values(transaction_id=transaction_id, account_id=wallet_id,
                                                         direction=CREDIT, amount=200, status=POSTED, created_at=now))
        if postgres:
            with pytest.raises(IntegrityError, match="unbalanced"):
                await session.commit()  # the deferred trigger runs at commit
        else:
            await session.commit()
    async with runtime.sessionmaker() as session:
        found = await findings(session, now)
        stored = await session.scalar(select(LedgerTransaction.id).where(LedgerTransaction.kind == "forged"))
    if postgres:
        assert stored is None and found == []  # nothing of it was committed
    else:
        assert stored is not None
        assert f"transaction {transaction_id} is unbalanced in INR/4 (posted): debits - credits = 100" in found
