"""`softdukan ledger check`: the invariants the database cannot enforce by itself (reference §1.5), as queries.

Each finding is a line a person can act on; an empty list means the ledger holds:
1. every transaction balances per asset, posted and pending entries alike (a hold balances by construction: one
   amount, debited and credited, of accounts of one asset, which `reserve` checks);
2. each account's cached balances equal the fold of its entries and posted holds (posted), and of the pending
   holds debiting it (`debits_pending`: a hold is a transfer, as in TigerBeetle; see models.py);
3. the signed posted balances of all accounts sum to zero per asset;
4. no hold is still pending past its expiry plus the sweeper's grace.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from softdukan.ledger.models import (
    DEBIT,
    HOLD_PENDING,
    HOLD_POSTED,
    POSTED,
    LedgerAccount,
    LedgerEntry,
    LedgerHold,
)

ENTRIES, ACCOUNTS, HOLDS = LedgerEntry.__table__, LedgerAccount.__table__, LedgerHold.__table__
E, A, H = ENTRIES.c, ACCOUNTS.c, HOLDS.c
SWEEP_GRACE = timedelta(hours=1)


async def findings(session: AsyncSession, now: datetime) -> list[str]:
    found: list[str] = []
    rows = await session.execute(
        select(E.transaction_id, A.asset, E.status, E.direction, func.sum(E.amount))
        .join(ACCOUNTS, A.id == E.account_id).group_by(E.transaction_id, A.asset, E.status, E.direction))
    totals: dict[tuple[int, str, str], int] = {}
    for transaction_id, asset, status, direction, amount in rows:
        key = (transaction_id, asset, status)
        totals[key] = totals.get(key, 0) + (int(amount) if direction == DEBIT else -int(amount))
    found += [f"transaction {t} is unbalanced in {asset} ({status}): debits - credits = {total}"
              for (t, asset, status), total in sorted(totals.items()) if total]

    folds: dict[int, dict[str, int]] = {}
    posted = await session.execute(select(E.account_id, E.direction, func.sum(E.amount))
                                   .where(E.status == POSTED).group_by(E.account_id, E.direction))
    for account_id, direction, amount in posted:
        folds.setdefault(account_id, {})[f"{direction}s_posted"] = int(amount)
    pending = await session.execute(select(H.wallet_account_id, func.sum(H.amount)).where(H.state == HOLD_PENDING)
                                    .group_by(H.wallet_account_id))
    for account_id, amount in pending:
        folds.setdefault(account_id, {})["debits_pending"] = int(amount)
    for column, side in ((H.wallet_account_id, "debits_posted"), (H.counter_account_id, "credits_posted")):
        charged = await session.execute(select(column, func.sum(H.posted_amount))
                                        .where(H.state == HOLD_POSTED, H.posted_amount > 0).group_by(column))
        for account_id, amount in charged:
            fold = folds.setdefault(account_id, {})
            fold[side] = fold.get(side, 0) + int(amount)
    net: dict[str, int] = {}
    for account in (await session.execute(select(LedgerAccount).order_by(LedgerAccount.id))).scalars():
        fold = folds.get(account.id, {})
        for column in ("debits_posted", "credits_posted", "debits_pending"):
            cached, folded = getattr(account, column), fold.get(column, 0)
            if cached != folded:
                found.append(f"account {account.code}: cached {column} {cached} but its entries and holds say "
                             f"{folded}")
        net[account.asset] = net.get(account.asset, 0) + account.debits_posted - account.credits_posted
    found += [f"posted balances of {asset} sum to {total}, not 0" for asset, total in sorted(net.items()) if total]

    stale = await session.scalar(select(func.count()).select_from(LedgerHold).where(
        H.state == HOLD_PENDING, H.expires_at < now - SWEEP_GRACE))
    if stale:
        found.append(f"{stale} hold(s) still pending more than {SWEEP_GRACE} past their expiry")
    return found
