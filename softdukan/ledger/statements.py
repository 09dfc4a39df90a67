"""The hot path's statements (a hold, its claim, its money), built once at import.

SQLAlchemy caches a statement's compiled SQL under the statement's cache key, and computes that key once per
statement object. Built per call, a statement with aliases and comparisons cost more Python than the database
spent executing it; built once and executed with named parameters, it costs a dictionary. `service.py` runs them
on the session's connection, past the ORM's per-execution bookkeeping, which these Core statements don't need.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, String, bindparam, case, select, update
from sqlalchemy.dialects import postgresql, sqlite

from softdukan.kit.db import UTCDateTime
from softdukan.ledger.models import HOLD_PENDING, LedgerAccount, LedgerEntry, LedgerHold

ACCOUNTS, ENTRIES, HOLDS = LedgerAccount.__table__, LedgerEntry.__table__, LedgerHold.__table__
A, H = ACCOUNTS.c, HOLDS.c
_W, _C = ACCOUNTS.alias("w"), ACCOUNTS.alias("c")

# A hold row whose two accounts are found by code inside the statement; nothing if the key was held before or an
# account is missing (then `service._held_before` says which). Parameters: key, org, w_code, c_code, amount,
# expires_at, now.
_HOLD_SOURCE = select(
    bindparam("key", type_=String()), bindparam("org", type_=BigInteger()), _W.c.id, _C.c.id,
    bindparam("amount", type_=BigInteger()), bindparam("state", HOLD_PENDING, type_=String()),
    bindparam("expires_at", type_=UTCDateTime()), bindparam("now", type_=UTCDateTime()),
).where(_W.c.code == bindparam("w_code", type_=String()), _C.c.code == bindparam("c_code", type_=String()),
        _W.c.asset == _C.c.asset)
_HOLD_COLUMNS = ["key", "organization_id", "wallet_account_id", "counter_account_id", "amount", "state",
                 "expires_at", "created_at"]
HOLD_INSERT: dict[str, Any] = {
    name: dialect.insert(HOLDS).from_select(_HOLD_COLUMNS, _HOLD_SOURCE).on_conflict_do_nothing(
        index_elements=["key"]).returning(H.id, H.wallet_account_id, H.counter_account_id)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))}

# The guard: `amount` onto the wallet's pending debits only if it stays covered. Parameters: id, amount.
HOLD_WALLET = update(ACCOUNTS).where(
    A.id == bindparam("w_id", type_=BigInteger()),
    ~A.no_overdraft | (A.credits_posted - A.debits_posted - A.debits_pending >= bindparam("w_amount",
                                                                                          type_=BigInteger())),
).values(debits_pending=A.debits_pending + bindparam("w_amount"))

# A pending hold leaves `pending`, once. Parameters: h_id, h_state, h_posted, h_key, h_at (+ h_min: the posted
# amount, which the hold must cover, in CLAIM_COVERED).
_CLAIM = update(HOLDS).where(H.id == bindparam("h_id", type_=BigInteger()), H.state == HOLD_PENDING).values(
    state=bindparam("h_state", type_=String()), posted_amount=bindparam("h_posted", type_=BigInteger()),
    resolution_key=bindparam("h_key", type_=String()), resolved_at=bindparam("h_at", type_=UTCDateTime()))
CLAIM = _CLAIM.returning(H.amount, H.wallet_account_id, H.counter_account_id)
_COVERED = _CLAIM.where(H.amount >= bindparam("h_min", type_=BigInteger()))
CLAIM_COVERED = _COVERED.returning(H.amount, H.wallet_account_id, H.counter_account_id)
CLAIM_EACH = _COVERED  # executemany: a batch's claims, each with its own amount (settle_many)



# Locks account rows in id order, before one UPDATE changes several of them (PostgreSQL). Parameter: ids.
# An UPDATE … WHERE id IN (…) locks rows in the order its scan meets them, which on a small, often-updated
# table changes as row versions move: two transactions then take the same two rows in opposite orders and
# deadlock. NO KEY UPDATE is the lock the UPDATE itself takes, so a new hold's foreign-key KEY SHARE locks on
# the same rows don't wait. (Locking inside the UPDATE, through a sub-SELECT … FOR UPDATE joined back to the
# table, deadlocked too: the UPDATE's own scan could meet an older row version than the one it had locked.)
LOCK_IN_ORDER = (select(A.id).where(A.id.in_(bindparam("ids", expanding=True))).order_by(A.id)
                 .with_for_update(key_share=True))


# A settled hold's money, both accounts in one UPDATE: the wallet's hold off pending and the charge posted, the
# counter credited the charge. Parameters: w, c, held, charged.
_w, _c = bindparam("w", type_=BigInteger()), bindparam("c", type_=BigInteger())
_held, _charged = bindparam("held", type_=BigInteger()), bindparam("charged", type_=BigInteger())
SETTLE_ACCOUNTS = update(ACCOUNTS).where(A.id.in_([_w, _c])).values(
    debits_pending=A.debits_pending - case((A.id == _w, _held), else_=0),
    debits_posted=A.debits_posted + case((A.id == _w, _charged), else_=0),
    credits_posted=A.credits_posted + case((A.id == _c, _charged), else_=0))

# A released hold's money: off the wallet's pending debits. Parameters: w, held.
RELEASE_WALLET = update(ACCOUNTS).where(A.id == _w).values(debits_pending=A.debits_pending - _held)
