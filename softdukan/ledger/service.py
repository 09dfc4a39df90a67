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

from sqlalchemy import String, bindparam, cast, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
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
from softdukan.platform.errors import Conflict, Invalid, PaymentRequired

A = LedgerAccount.__table__.c


class InsufficientCredits(PaymentRequired):
    def __init__(self, message: str = "The wallet's balance does not cover this. Add credits to continue.") -> None:
        super().__init__("insufficient_credits", message)


@dataclass(frozen=True)
class Leg:
    account_id: int
    direction: str  # DEBIT | CREDIT
    amount: int


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


async def _move(session: AsyncSession, legs: Sequence[Leg], *, pending: bool, sign: int = 1) -> None:
    """Applies legs to the cached balances; a debit of a no-overdraft account only if it stays covered."""
    for leg in legs:
        column = ("debits_" if leg.direction == DEBIT else "credits_") + ("pending" if pending else "posted")
        statement = update(LedgerAccount).where(A.id == leg.account_id).values(
            {column: A[column] + sign * leg.amount}).execution_options(synchronize_session=False)
        if leg.direction == DEBIT and sign > 0:
            statement = statement.where(~A.no_overdraft | (
                A.credits_posted - A.debits_posted - A.debits_pending >= leg.amount))
        if (await session.execute(statement)).rowcount != 1:  # type: ignore[attr-defined]
            raise InsufficientCredits()


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
    await _move(session, legs, pending=False)
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
    legs = [Leg(e.account_id, CREDIT if e.direction == DEBIT else DEBIT, e.amount) for e in entries]
    return await post(session, key=key, kind=f"reverse:{original.kind}"[:40], legs=legs, effective_at=now,
                      reverses_id=original.id, external_ref=original.external_ref)


async def reserve(session: AsyncSession, *, key: str, organization_id: int, wallet: LedgerAccount,
                  counter: LedgerAccount, amount: int, expires_at: datetime, now: datetime) -> LedgerHold:
    """Sets `amount` aside on the wallet (pending debit, pending credit to `counter`), or raises
    `InsufficientCredits` (402). The same key again returns the same hold without holding twice.

    The hot path of every send: three statements (the hold, the guarded wallet move, the counter). The hold row
    is the record of the pending transfer (TigerBeetle's pending transfer); entries are written when it posts."""
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise Invalid("invalid_amount", "A hold is a positive integer amount.")
    if wallet.asset != counter.asset:
        raise Invalid("unbalanced", "A hold moves one asset.")
    values = {"key": key, "organization_id": organization_id, "wallet_account_id": wallet.id,
              "counter_account_id": counter.id, "amount": amount, "state": HOLD_PENDING, "expires_at": expires_at,
              "created_at": now}
    hold_id = (await session.execute(insert_ignore(session, LedgerHold, ["key"]).returning(
        LedgerHold.__table__.c.id), [values])).scalar()
    if hold_id is None:  # held before (a retry of the same send)
        found = await session.scalar(select(LedgerHold).where(LedgerHold.key == key))
        assert found is not None
        if (found.wallet_account_id, found.counter_account_id, found.organization_id, found.amount) != (
                wallet.id, counter.id, organization_id, amount):
            raise Conflict("idempotency_key_reused", f"Hold {key!r} was taken with other terms.")
        return found
    hold = LedgerHold(id=hold_id, posted_amount=None, wamid=None, resolved_at=None, resolution_key=None, **values)
    make_transient_to_detached(hold)  # the row just inserted, as an object of this session, without reading it back
    session.add(hold)
    await _move(session, [Leg(wallet.id, DEBIT, amount), Leg(counter.id, CREDIT, amount)], pending=True)
    return hold


async def _record(session: AsyncSession, *, key: str, kind: str, legs: Sequence[Leg], status: str, now: datetime,
                  hold_id: int, external_ref: str | None = None) -> None:
    """A transaction and its entries whose legs this module built (balanced by construction) and whose key is
    new by construction (guarded by the hold's state): two statements, no checks."""
    transaction_id = (await session.execute(insert(LedgerTransaction.__table__).returning(
        LedgerTransaction.__table__.c.id), [{
            "idempotency_key": key, "fingerprint": _fingerprint(kind, legs, status), "kind": kind,
            "effective_at": now, "reverses_id": None, "external_ref": external_ref, "details": {},
            "created_at": now}])).scalar_one()
    await session.execute(insert(LedgerEntry.__table__), [
        {"transaction_id": transaction_id, "account_id": leg.account_id, "direction": leg.direction,
         "amount": leg.amount, "status": status, "hold_id": hold_id, "created_at": now} for leg in legs])


async def _resolve(session: AsyncSession, hold: LedgerHold, *, state: str, posted: int | None, resolution_key: str,
                   now: datetime) -> bool:
    """Moves the hold out of `pending` (a guarded UPDATE: once, whoever tries concurrently) and its money with it:
    one UPDATE per account takes the hold off the pending columns and posts `posted` of it, so a settlement is
    five statements and a release three."""
    h = LedgerHold.__table__.c
    row = (await session.execute(
        update(LedgerHold.__table__).where(h.id == hold.id, h.state == HOLD_PENDING)
        .values(state=state, posted_amount=posted, resolution_key=resolution_key, resolved_at=now)
        .returning(h.amount, h.wallet_account_id, h.counter_account_id, h.key))).first()
    if row is None:
        return False  # resolved already, by this fact or another
    charged = posted or 0
    for account_id, side in ((row.wallet_account_id, "debits"), (row.counter_account_id, "credits")):
        await session.execute(update(LedgerAccount.__table__).where(A.id == account_id).values({
            f"{side}_pending": A[f"{side}_pending"] - row.amount, f"{side}_posted": A[f"{side}_posted"] + charged}))
    for name, value in (("state", state), ("posted_amount", posted), ("resolution_key", resolution_key),
                        ("resolved_at", now)):
        set_committed_value(hold, name, value)  # the caller's object says what the row says, without a re-read
    if charged:
        await _record(session, key=f"{row.key}:settle", kind="charge", status=POSTED, now=now, hold_id=hold.id,
                      legs=[Leg(row.wallet_account_id, DEBIT, charged), Leg(row.counter_account_id, CREDIT, charged)])
    return True


async def settle(session: AsyncSession, hold: LedgerHold, *, amount: int, resolution_key: str,
                 now: datetime) -> bool:
    """Charges `amount` (≤ the hold) and releases the rest; False if the hold was resolved before."""
    if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0 or amount > hold.amount:
        raise Invalid("invalid_amount", f"A hold of {hold.amount} settles for 0 to {hold.amount}, not {amount!r}.")
    return await _resolve(session, hold, state=HOLD_POSTED, posted=amount, resolution_key=resolution_key, now=now)


async def release(session: AsyncSession, hold: LedgerHold, *, resolution_key: str, now: datetime,
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
             "credits_pending": 0, "created_at": now}])
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
    total = sum(amount for _, amount in fresh)
    legs = [Leg(wallet.id, DEBIT, total), Leg(counter.id, CREDIT, total)]
    await _move(session, legs, pending=True)
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
    totals: dict[tuple[int, int], int] = defaultdict(int)
    for row in rows:
        totals[(row.wallet_account_id, row.counter_account_id)] += row.amount
    for (wallet_id, counter_id), amount in totals.items():
        await _move(session, [Leg(wallet_id, DEBIT, amount), Leg(counter_id, CREDIT, amount)], pending=True,
                    sign=-1)
    return [row.id for row in rows]


async def settle_many(session: AsyncSession, items: Sequence[tuple[int, int]], *, resolution: str, now: datetime
                      ) -> dict[int, int]:
    """Settles a batch of holds, each `(hold id, amount ≤ its hold)`, in a fixed number of statements: the guarded
    claim of the still-pending ones, their posted amounts, one move per account for the sums, one transaction whose
    entries name each hold. Holds resolved before are skipped. Returns {hold id: amount} of those settled here."""
    asked = dict(items)
    if not asked:
        return {}
    h = LedgerHold.__table__.c
    rows = (await session.execute(
        update(LedgerHold.__table__).where(h.id.in_(list(asked)), h.state == HOLD_PENDING)
        .values(state=HOLD_POSTED, resolved_at=now, resolution_key=resolution + ":" + cast(h.id, String))
        .returning(h.id, h.amount, h.wallet_account_id, h.counter_account_id))).all()
    for row in rows:
        amount = asked[row.id]
        if isinstance(amount, bool) or not isinstance(amount, int) or not 0 <= amount <= row.amount:
            raise Invalid("invalid_amount", f"A hold of {row.amount} settles for 0 to {row.amount}, not {amount!r}.")
    if not rows:
        return {}
    await session.execute(update(LedgerHold.__table__).where(h.id == bindparam("h_id"))
                          .values(posted_amount=bindparam("h_posted")),
                          [{"h_id": row.id, "h_posted": asked[row.id]} for row in rows])
    moves: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0])  # (account, side) → [held, charged]
    for row in rows:
        for account_id, side in ((row.wallet_account_id, "debits"), (row.counter_account_id, "credits")):
            moves[(account_id, side)][0] += row.amount
            moves[(account_id, side)][1] += asked[row.id]
    for (account_id, side), (held, charged) in sorted(moves.items()):
        await session.execute(update(LedgerAccount.__table__).where(A.id == account_id).values({
            f"{side}_pending": A[f"{side}_pending"] - held, f"{side}_posted": A[f"{side}_posted"] + charged}))
    charged_rows = [row for row in rows if asked[row.id]]
    if charged_rows:
        legs = [Leg(r.wallet_account_id, DEBIT, asked[r.id]) for r in charged_rows] + [
            Leg(r.counter_account_id, CREDIT, asked[r.id]) for r in charged_rows]
        transaction_id = (await session.execute(insert(LedgerTransaction.__table__).returning(
            LedgerTransaction.__table__.c.id), [{
                "idempotency_key": f"{resolution}:batch:{min(r.id for r in charged_rows)}",
                "fingerprint": _fingerprint("charge", legs, POSTED), "kind": "charge", "effective_at": now,
                "reverses_id": None, "external_ref": None, "details": {"holds": len(charged_rows)},
                "created_at": now}])).scalar_one()
        await session.execute(insert(LedgerEntry.__table__), [
            {"transaction_id": transaction_id, "account_id": account_id, "direction": direction,
             "amount": asked[r.id], "status": POSTED, "hold_id": r.id, "created_at": now}
            for r in charged_rows
            for account_id, direction in ((r.wallet_account_id, DEBIT), (r.counter_account_id, CREDIT))])
    return {row.id: asked[row.id] for row in rows}
