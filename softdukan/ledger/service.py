"""Posting to the ledger and holding wallet money. Services never commit: a refusal raises and the edge rolls
the whole unit of work back, so nothing half-written survives (README rule 1).

Every balance change is a guarded UPDATE of the cached balances in the same transaction as its entries: a wallet
debit or hold only lands `WHERE credits_posted - debits_posted - debits_pending >= amount` (zero rows: refused
with `insufficient_credits`), and the CHECK constraint on the table backs the guard. A hold moves state only
from `pending` (a guarded UPDATE), so it settles or is released exactly once whoever tries concurrently.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, case, cast, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from softdukan.kit.upsert import insert_ignore
from softdukan.ledger.models import (
    CREDIT,
    DEBIT,
    HOLD_EXPIRED,
    HOLD_PENDING,
    HOLD_POSTED,
    HOLD_VOIDED,
    POSTED,
    LedgerAccount,
    LedgerEntry,
    LedgerHold,
    LedgerTransaction,
)
from softdukan.ledger.statements import (
    ACCOUNTS,
    CLAIM,
    CLAIM_COVERED,
    CLAIM_EACH,
    HOLD_INSERT,
    HOLD_WALLET,
    HOLDS,
    LOCK_IN_ORDER,
    RELEASE_WALLET,
    SETTLE_ACCOUNTS,
    A,
    H,
)
from softdukan.platform.errors import Conflict, Invalid, PaymentRequired

AccountRef = LedgerAccount | str  # an account, or its code: the hot path names accounts by code


class InsufficientCredits(PaymentRequired):
    def __init__(self, message: str = "The wallet's balance does not cover this. Add credits to continue.") -> None:
        super().__init__("insufficient_credits", message)


class UnknownAccount(Invalid):
    def __init__(self, codes: Sequence[str]) -> None:
        super().__init__("unknown_account", "No ledger account " + ", ".join(codes) + " exists yet.")
        self.codes = list(codes)


def _code(ref: AccountRef) -> str:
    return ref if isinstance(ref, str) else ref.code


@dataclass(frozen=True)
class Leg:
    account_id: int
    direction: str  # DEBIT | CREDIT
    amount: int


def flipped(legs: Sequence[Leg]) -> list[Leg]:
    """The same legs the other way round (what undoes them, e.g. a refund of a sale)."""
    return [Leg(leg.account_id, CREDIT if leg.direction == DEBIT else DEBIT, leg.amount) for leg in legs]


def _fingerprint(kind: str, legs: Sequence[Leg], status: str, reverses_id: int | None = None) -> str:
    """What a key stands for: a key reused for other entries, or to reverse another transaction, is refused."""
    parts = sorted(f"{leg.account_id}:{leg.direction}:{leg.amount}" for leg in legs)
    reverses = [f"reverses:{reverses_id}"] if reverses_id is not None else []
    return hashlib.sha256("|".join([kind, status, *parts, *reverses]).encode()).hexdigest()


async def _check_legs(session: AsyncSession, legs: Sequence[Leg]) -> None:
    if not legs:
        raise Invalid("empty_transaction", "A ledger transaction needs entries.")
    for leg in legs:
        if not isinstance(leg.amount, int) or isinstance(leg.amount, bool) or leg.amount <= 0:
            raise Invalid("invalid_amount", f"Entry amounts are positive integers, not {leg.amount!r}.")
        if leg.direction not in (DEBIT, CREDIT):
            raise Invalid("invalid_direction", f"An entry is a debit or a credit, not {leg.direction!r}.")
    ids = {leg.account_id for leg in legs}
    assets = dict((await session.execute(select(A.id, A.asset).where(A.id.in_(ids)))).all())
    if len(assets) != len(ids):
        raise Invalid("unknown_account", "An entry names an account that does not exist.")
    totals: dict[str, int] = defaultdict(int)
    for leg in legs:
        totals[assets[leg.account_id]] += leg.amount if leg.direction == DEBIT else -leg.amount
    if any(totals.values()):
        raise Invalid("unbalanced", "Debits and credits must be equal for each asset: "
                      + ", ".join(f"{asset} off by {total}" for asset, total in sorted(totals.items()) if total))


async def _move(session: AsyncSession, legs: Sequence[Leg]) -> None:
    """Posts legs to the cached balances, in account order (every multi-account update locks rows by ascending id,
    so two transactions never wait for each other crosswise); a debit of a no-overdraft account only if it stays
    covered."""
    for leg in sorted(legs, key=lambda leg: leg.account_id):
        column = "debits_posted" if leg.direction == DEBIT else "credits_posted"
        statement = update(ACCOUNTS).where(A.id == leg.account_id).values({column: A[column] + leg.amount})
        if leg.direction == DEBIT:
            statement = statement.where(~A.no_overdraft | (
                A.credits_posted - A.debits_posted - A.debits_pending >= leg.amount))
        if (await session.execute(statement)).rowcount != 1:  # type: ignore[attr-defined]
            raise InsufficientCredits()


async def _hold_wallet(connection: AsyncConnection, wallet_id: int, amount: int) -> bool:
    """Puts `amount` on the wallet's pending debits if it stays covered (no-overdraft accounts): the guard."""
    result = await connection.execute(HOLD_WALLET, {"w_id": wallet_id, "w_amount": amount})
    return result.rowcount == 1  # type: ignore[attr-defined,no-any-return]


async def lock_in_order(connection: AsyncConnection, ids: list[int]) -> None:
    """Before one UPDATE of several accounts on PostgreSQL: their rows locked in id order (`LOCK_IN_ORDER`).
    SQLite writes one transaction at a time."""
    if len(ids) > 1 and connection.dialect.name == "postgresql":
        await connection.execute(LOCK_IN_ORDER, {"ids": sorted(ids)})


async def _apply(session: AsyncSession, moves: dict[int, dict[str, int]]) -> None:
    """Adds each account's deltas to its cached balances in ONE UPDATE (settlements and releases: they only take
    held amounts off pending and post at most what was held, so no guard). Rows lock in id order first, as in
    `_move` (`lock_in_order`)."""
    moves = {i: {column: d for column, d in columns.items() if d} for i, columns in moves.items()}
    moves = {i: columns for i, columns in sorted(moves.items()) if columns}
    if not moves:
        return
    values: dict[str, Any] = {}
    for column in sorted({column for columns in moves.values() for column in columns}):
        deltas = [(i, columns[column]) for i, columns in moves.items() if column in columns]
        values[column] = A[column] + (deltas[0][1] if len(moves) == 1 else
                                      case(*((A.id == i, d) for i, d in deltas), else_=0))
    await lock_in_order(await session.connection(), list(moves))
    await session.execute(update(ACCOUNTS).where(A.id.in_(list(moves))).values(values))


async def post(session: AsyncSession, *, key: str, kind: str, legs: Sequence[Leg], effective_at: datetime,
               status: str = POSTED, external_ref: str | None = None, details: dict[str, Any] | None = None,
               reverses_id: int | None = None, hold_id: int | None = None) -> LedgerTransaction:
    """One balanced transaction under `key` (derived from the external fact). The same key again returns the
    transaction it made, without moving anything; the same key with other entries is a 409."""
    if status != POSTED:
        raise Invalid("invalid_status", "Pending amounts are holds (`reserve`); transactions are posted.")
    await _check_legs(session, legs)
    fingerprint = _fingerprint(kind, legs, status, reverses_id)
    inserted = (await session.execute(
        insert_ignore(session, LedgerTransaction, ["idempotency_key"]).returning(LedgerTransaction.__table__.c.id),
        [{"idempotency_key": key, "fingerprint": fingerprint, "kind": kind, "effective_at": effective_at,
          "reverses_id": reverses_id, "external_ref": external_ref, "details": details or {},
          "created_at": effective_at}])).scalar()
    existing = await session.scalar(select(LedgerTransaction).where(LedgerTransaction.idempotency_key == key))
    assert existing is not None
    if inserted is None:
        if existing.fingerprint != fingerprint:
            raise Conflict("idempotency_key_reused", f"Ledger key {key!r} was used for a different transaction.")
        return existing
    await _move(session, legs)
    await session.execute(insert(LedgerEntry.__table__), [
        {"transaction_id": existing.id, "account_id": leg.account_id, "direction": leg.direction,
         "amount": leg.amount, "status": status, "hold_id": hold_id, "created_at": effective_at} for leg in legs])
    return existing


async def reverse(session: AsyncSession, original: LedgerTransaction, *, key: str, now: datetime) -> LedgerTransaction:
    """The same entries the other way round, in a new transaction; a transaction is reversed at most once."""
    rows = (await session.execute(select(LedgerEntry).where(LedgerEntry.transaction_id == original.id))).scalars()
    entries = list(rows)
    if any(e.status != POSTED for e in entries):
        raise Invalid("not_reversible", "Only posted transactions are reversed; release a hold instead.")
    taken = await session.scalar(select(LedgerTransaction).where(LedgerTransaction.reverses_id == original.id))
    if taken is not None:
        if taken.idempotency_key != key:
            raise Conflict("already_reversed", "This transaction has been reversed already.")
        return taken
    legs = flipped([Leg(e.account_id, e.direction, e.amount) for e in entries])
    return await post(session, key=key, kind=f"reverse:{original.kind}"[:40], legs=legs, effective_at=now,
                      reverses_id=original.id, external_ref=original.external_ref)


async def reserve(session: AsyncSession, *, key: str, organization_id: int, wallet: AccountRef,
                  counter: AccountRef, amount: int, expires_at: datetime, now: datetime) -> LedgerHold:
    """Sets `amount` aside on the wallet for `counter` (a pending transfer), or raises `InsufficientCredits` (402).
    The same key again returns the same hold without holding twice. Accounts may be named by code.

    The hot path of every send, two statements and no lookups: the hold row, inserted with its accounts found by
    code inside the same statement, then the guarded move of the wallet's pending debits, last, so on PostgreSQL
    the contended wallet row stays locked only from there to the commit. `UnknownAccount` if an account does not
    exist yet (the caller creates it and tries again)."""
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise Invalid("invalid_amount", "A hold is a positive integer amount.")
    wallet_code, counter_code = _code(wallet), _code(counter)
    if wallet_code == counter_code:
        raise Invalid("unbalanced", "A hold moves money between two accounts.")
    connection = await session.connection()
    row = (await connection.execute(HOLD_INSERT[connection.dialect.name], {
        "key": key, "org": organization_id, "w_code": wallet_code, "c_code": counter_code, "amount": amount,
        "expires_at": expires_at, "now": now})).first()
    if row is None:
        return await _held_before(session, key, wallet_code, counter_code, organization_id, amount)
    if not await _hold_wallet(connection, row.wallet_account_id, amount):
        await connection.execute(delete(HOLDS).where(H.id == row.id))  # nothing of a refused hold stays
        raise InsufficientCredits()
    hold = LedgerHold(id=row.id, key=key, organization_id=organization_id, wallet_account_id=row.wallet_account_id,
                      counter_account_id=row.counter_account_id, amount=amount, state=HOLD_PENDING,
                      posted_amount=None, expires_at=expires_at, wamid=None, resolved_at=None, resolution_key=None,
                      created_at=now)
    make_transient_to_detached(hold)  # the row just inserted, as an object of this session, without reading it back
    session.add(hold)
    return hold


async def _held_before(session: AsyncSession, key: str, wallet_code: str, counter_code: str, organization_id: int,
                       amount: int) -> LedgerHold:
    """Why `reserve` inserted nothing: the key was held before (a retried send: that hold, if on the same terms),
    or an account is missing or of another asset."""
    accounts = {row.code: row for row in (await session.execute(
        select(A.code, A.id, A.asset).where(A.code.in_([wallet_code, counter_code])))).all()}
    missing = {wallet_code, counter_code} - set(accounts)
    found = await session.scalar(select(LedgerHold).where(LedgerHold.key == key))
    if found is None:
        if missing:
            raise UnknownAccount(sorted(missing))
        raise Invalid("unbalanced", "A hold moves one asset.")
    if missing or (found.wallet_account_id, found.counter_account_id, found.organization_id, found.amount) != (
            accounts[wallet_code].id, accounts[counter_code].id, organization_id, amount):
        raise Conflict("idempotency_key_reused", f"Hold {key!r} was taken with other terms.")
    return found


async def _resolve(session: AsyncSession, hold: LedgerHold | int, *, state: str, posted: int | None,
                   resolution_key: str, now: datetime) -> bool:
    """Moves the hold out of `pending` (a guarded UPDATE: once, whoever tries concurrently; the posted row is the
    journal line of the charge) and its money with it, in one UPDATE of both accounts (the wallet's lock, from
    there to the commit). Two statements."""
    hold_id = hold if isinstance(hold, int) else hold.id
    connection = await session.connection()
    row = (await connection.execute(CLAIM_COVERED if posted else CLAIM, {
        "h_id": hold_id, "h_state": state, "h_posted": posted, "h_key": resolution_key, "h_at": now,
        "h_min": posted})).first()
    if row is None:
        if posted and isinstance(hold, int):
            held = await session.scalar(select(H.amount).where(H.id == hold_id, H.state == HOLD_PENDING))
            if held is not None:
                raise Invalid("invalid_amount", f"A hold of {held} settles for 0 to {held}, not {posted}.")
        return False  # resolved already, by this fact or another
    if posted:
        await lock_in_order(connection, [row.wallet_account_id, row.counter_account_id])
        await connection.execute(SETTLE_ACCOUNTS, {"w": row.wallet_account_id, "c": row.counter_account_id,
                                                   "held": row.amount, "charged": posted})
    else:
        await connection.execute(RELEASE_WALLET, {"w": row.wallet_account_id, "held": row.amount})
    if not isinstance(hold, int):
        for name, value in (("state", state), ("posted_amount", posted), ("resolution_key", resolution_key),
                            ("resolved_at", now)):
            set_committed_value(hold, name, value)  # the caller's object says what the row says, without a re-read
    return True


async def settle(session: AsyncSession, hold: LedgerHold | int, *, amount: int, resolution_key: str,
                 now: datetime) -> bool:
    """Charges `amount` (≤ the hold) and releases the rest; False if the hold was resolved before. Given the hold's
    id alone, the bound is checked by the claiming UPDATE itself."""
    if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0 or (
            not isinstance(hold, int) and amount > hold.amount):
        bound = "its amount" if isinstance(hold, int) else hold.amount
        raise Invalid("invalid_amount", f"A hold of {bound} settles for 0 to {bound}, not {amount!r}.")
    return await _resolve(session, hold, state=HOLD_POSTED, posted=amount, resolution_key=resolution_key, now=now)


async def release(session: AsyncSession, hold: LedgerHold | int, *, resolution_key: str, now: datetime,
                  expired: bool = False) -> bool:
    """Gives the whole hold back (free message, failed send, or expired); False if it was resolved before."""
    return await _resolve(session, hold, state=HOLD_EXPIRED if expired else HOLD_VOIDED, posted=None,
                          resolution_key=resolution_key, now=now)


async def account(session: AsyncSession, code: str, *, asset: str, kind: str, organization_id: int | None = None,
                  no_overdraft: bool = False, now: datetime) -> LedgerAccount:
    """The account with this code, created on first use (concurrent first uses create it once). Looked up first:
    on PostgreSQL an insert-or-ignore of an existing code waits for any open transaction that updated that row."""
    lookup = select(LedgerAccount).where(LedgerAccount.code == code).execution_options(populate_existing=True)
    found = await session.scalar(lookup)
    if found is None:
        await session.execute(insert_ignore(session, LedgerAccount, ["code"]), [
            {"code": code, "asset": asset, "kind": kind, "organization_id": organization_id,
             "no_overdraft": no_overdraft, "debits_posted": 0, "credits_posted": 0, "debits_pending": 0,
             "created_at": now}])
        found = await session.scalar(lookup)
    assert found is not None
    if (found.asset, found.kind, found.organization_id) != (asset, kind, organization_id):
        raise Conflict("account_mismatch", f"Account {code!r} exists with other terms.")
    return found




async def reserve_many(session: AsyncSession, *, organization_id: int, wallet: LedgerAccount,
                       counter: LedgerAccount, holds: Sequence[tuple[str, int]], expires_at: datetime,
                       now: datetime) -> dict[str, int]:
    """Holds for a batch of sends (a broadcast chunk): all of them or none (`InsufficientCredits`). One guarded
    move of the wallet for the total and one insert of the holds. Keys held before (a retried chunk) are returned
    without holding again.
    Returns {key: hold id}."""
    if not holds:
        return {}
    if any(not isinstance(amount, int) or amount <= 0 for _, amount in holds):
        raise Invalid("invalid_amount", "A hold is a positive integer amount.")
    if wallet.asset != counter.asset:
        raise Invalid("unbalanced", "A hold moves one asset.")
    h = LedgerHold.__table__.c
    keys = [key for key, _ in holds]
    existing = {row.key: row for row in (await session.execute(
        select(h.key, h.id, h.amount, h.wallet_account_id, h.counter_account_id).where(h.key.in_(keys)))).all()}
    asked = dict(holds)
    for key, row in existing.items():
        if (row.amount, row.wallet_account_id, row.counter_account_id) != (asked[key], wallet.id, counter.id):
            raise Conflict("idempotency_key_reused", f"Hold {key!r} was taken with other terms.")
    found = {key: row.id for key, row in existing.items()}
    fresh = [(key, amount) for key, amount in holds if key not in found]
    if not fresh:
        return found
    if not await _hold_wallet(await session.connection(), wallet.id, sum(amount for _, amount in fresh)):
        raise InsufficientCredits()
    returning = insert(LedgerHold.__table__).returning(h.key, h.id, sort_by_parameter_order=True)
    inserted = await session.execute(returning, [
        {"key": key, "organization_id": organization_id, "wallet_account_id": wallet.id,
         "counter_account_id": counter.id, "amount": amount, "state": HOLD_PENDING, "expires_at": expires_at,
         "created_at": now} for key, amount in fresh])
    ids = dict(inserted.all())
    return found | ids


async def release_many(session: AsyncSession, hold_ids: Sequence[int], *, resolution: str, now: datetime,
                       expired: bool = False) -> list[int]:
    """Gives back every still-pending hold of `hold_ids` (sends that never left, failed chunks): one guarded
    UPDATE of the holds and one move per account for their sum. Returns the ids this call released."""
    if not hold_ids:
        return []
    h = LedgerHold.__table__.c
    rows = (await session.execute(
        update(LedgerHold.__table__).where(h.id.in_(list(hold_ids)), h.state == HOLD_PENDING)
        .values(state=HOLD_EXPIRED if expired else HOLD_VOIDED, resolved_at=now,
                resolution_key=resolution + ":" + cast(h.id, String))
        .returning(h.id, h.wallet_account_id, h.counter_account_id, h.amount))).all()
    moves: dict[int, dict[str, int]] = defaultdict(lambda: {"debits_pending": 0})
    for row in rows:
        moves[row.wallet_account_id]["debits_pending"] -= row.amount
    await _apply(session, moves)
    return [row.id for row in rows]


async def settle_many(session: AsyncSession, items: Sequence[tuple[int, int]], *, resolution: str, now: datetime
                      ) -> dict[int, int]:
    """Settles a batch of holds, each `(hold id, amount ≤ its hold)`, in three statements: the still-pending ones
    read and locked (`FOR UPDATE`; on SQLite the transaction has the write lock), their claims each with its
    posted amount (one executemany, still guarded by `pending`; each posted hold is the journal line of its
    charge), one UPDATE of the accounts for the sums. Holds resolved before are skipped; an amount above its hold
    refuses the batch before anything moves. Returns {hold id: amount} of those settled here."""
    asked = dict(items)
    if not asked:
        return {}
    connection = await session.connection()
    rows = (await connection.execute(select(H.id, H.amount, H.wallet_account_id, H.counter_account_id).where(
        H.id.in_(list(asked)), H.state == HOLD_PENDING).order_by(H.id).with_for_update())).all()
    for row in rows:
        amount = asked[row.id]
        if isinstance(amount, bool) or not isinstance(amount, int) or not 0 <= amount <= row.amount:
            raise Invalid("invalid_amount", f"A hold of {row.amount} settles for 0 to {row.amount}, not {amount!r}.")
    if not rows:
        return {}
    await connection.execute(CLAIM_EACH, [
        {"h_id": row.id, "h_state": HOLD_POSTED, "h_posted": asked[row.id], "h_key": f"{resolution}:{row.id}",
         "h_at": now, "h_min": asked[row.id]} for row in rows])
    moves: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        moves[row.wallet_account_id]["debits_pending"] -= row.amount
        moves[row.wallet_account_id]["debits_posted"] += asked[row.id]
        moves[row.counter_account_id]["credits_posted"] += asked[row.id]
    await _apply(session, moves)
    return {row.id: asked[row.id] for row in rows}
