"""The ledger against an oracle (reference §1.6.1): a Hypothesis state machine opens wallets, tops them up (with
duplicate and conflicting webhook deliveries), holds, settles, releases, expires and refunds on the suite's real
database, one committed unit of work per rule (a refused rule rolls back, as at the edge). A plain-Python model
predicts every answer, InsufficientCredits included; after every step the database must equal the model and the
§1.5 invariants must hold, by our own queries and by `ledger.check`.

Hypothesis state machines are synchronous: the test owns one event loop and runs each unit of work to completion
on it, with a fresh engine for the run and the ledger tables emptied before each example. A failure prints the
steps and a `@reproduce_failure` blob to replay them."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, event
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import case, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from softdukan.config import Settings
from softdukan.kit.db import make_engine, make_sessionmaker
from softdukan.ledger import service as ledger
from softdukan.ledger.check import findings
from softdukan.ledger.models import (
    CREDIT,
    DEBIT,
    HOLD_EXPIRED,
    HOLD_PENDING,
    HOLD_POSTED,
    HOLD_VOIDED,
    WCC,
    LedgerAccount,
    LedgerEntry,
    LedgerHold,
    LedgerTransaction,
)
from softdukan.models import Base
from softdukan.platform.errors import Conflict, DomainError, Invalid
from softdukan.platform.runtime import Runtime, build_runtime
from tests.support.databases import delete_sqlite_rows, wipe
from tests.support.factories import make_org

T = TypeVar("T")
NOW = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)  # holds expire a day later: none goes stale during a run
ORGS = 3
CONVERSION, USAGE = "conversion:wcc", "usage_clearing"  # top-ups come through the bridge; holds go to usage
BALANCES = ("debits_posted", "credits_posted", "debits_pending")
LEDGER_TABLES = ("ledger_entries", "ledger_holds", "ledger_transactions", "ledger_accounts")


def wallet_code(org_id: int) -> str:
    return f"wallet:{org_id}:purchased"


@dataclass
class Balances:
    debits_posted: int = 0
    credits_posted: int = 0
    debits_pending: int = 0  # only debited accounts cache pending: the usage side's is the sum of its holds

    @property
    def available(self) -> int:
        return self.credits_posted - self.debits_posted - self.debits_pending

    def as_tuple(self) -> tuple[int, int, int]:
        return self.debits_posted, self.credits_posted, self.debits_pending


@dataclass
class Recharge:
    org: int
    amount: int
    transaction_id: int
    refund_key: str | None = None
    refund_id: int | None = None


@dataclass
class Hold:
    org: int
    amount: int
    hold_id: int
    state: str = HOLD_PENDING
    posted: int | None = None
    resolution_key: str | None = None


@dataclass(frozen=True)
class World:
    """What every example of one run shares: the loop the machine runs on, a fresh engine of its own (made and
    disposed of by the test, on that loop) and the organizations' ids."""

    loop: asyncio.AbstractEventLoop
    engine: AsyncEngine
    org_ids: tuple[int, ...]


def ledger_and_dependents() -> list[str]:
    """The ledger's tables and every table that points into them (a wallet's message charges name their hold),
    children first: emptied before each example, the organizations kept."""
    names = set(LEDGER_TABLES)
    grown = True
    while grown:
        found = {t.name for t in Base.metadata.sorted_tables
                 if any(fk.column.table.name in names for fk in t.foreign_keys)} - names
        names |= found
        grown = bool(found)
    return [t.name for t in reversed(Base.metadata.sorted_tables) if t.name in names]


async def wipe_ledger(engine: AsyncEngine) -> None:
    tables = ledger_and_dependents()
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            await conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY"))
        else:
            await delete_sqlite_rows(conn, tables)


class LedgerMachine(RuleBasedStateMachine):
    wallets = Bundle("wallets")  # org index (0..ORGS-1) of an opened wallet
    recharges = Bundle("recharges")  # idempotency key of a committed top-up
    holds = Bundle("holds")  # key of a committed hold

    def __init__(self, world: World) -> None:
        super().__init__()
        self.world = world
        self.sessionmaker = make_sessionmaker(world.engine)
        self.run(wipe_ledger(world.engine))  # each example starts from an empty ledger
        self.accounts: dict[str, Balances] = {}  # the oracle: code -> balances
        self.ids: dict[str, int] = {}  # code -> account id
        self.recharge_of: dict[str, Recharge] = {}
        self.hold_of: dict[str, Hold] = {}
        self.transactions = 0  # facts the ledger must have recorded, once each
        self.usage_pending = 0  # Σ pending holds for usage
        self.attempts = 0  # numbers resolution keys: each settle/release attempt is its own fact

    # -- plumbing ---------------------------------------------------------------------------------------------

    def run(self, awaitable: Awaitable[T]) -> T:
        return self.world.loop.run_until_complete(awaitable)

    def unit(self, work: Callable[[AsyncSession], Awaitable[T]]) -> tuple[T | None, DomainError | None]:
        """One unit of work, committed; a refusal rolls it back and is returned instead of the result."""

        async def go() -> tuple[T | None, DomainError | None]:
            async with self.sessionmaker() as session:
                try:
                    result = await work(session)
                except DomainError as error:
                    await session.rollback()
                    return None, error
                await session.commit()
                return result, None

        return self.run(go())

    def wallet(self, org: int) -> Balances:
        return self.accounts[wallet_code(self.world.org_ids[org])]

    def refused(self, error: DomainError | None, kind: type[DomainError], code: str) -> None:
        assert error is not None, f"the ledger accepted what the model refuses ({kind.__name__} {code})"
        assert type(error) is kind and error.code == code, f"expected {kind.__name__} {code}, got {error!r}"

    # -- rules ------------------------------------------------------------------------------------------------

    @initialize()
    def platform_accounts(self) -> None:
        async def work(session: AsyncSession) -> dict[str, int]:
            conversion = await ledger.account(session, CONVERSION, asset=WCC, kind="clearing", now=NOW)
            usage = await ledger.account(session, USAGE, asset=WCC, kind="clearing", now=NOW)
            return {CONVERSION: conversion.id, USAGE: usage.id}

        ids, error = self.unit(work)
        assert error is None and ids is not None
        self.ids.update(ids)
        self.accounts.update({CONVERSION: Balances(), USAGE: Balances()})

    @rule(target=wallets, org=st.integers(0, ORGS - 1))
    def open_wallet(self, org: int) -> int:
        code, org_id = wallet_code(self.world.org_ids[org]), self.world.org_ids[org]

        async def work(session: AsyncSession) -> int:
            found = await ledger.account(session, code, asset=WCC, kind="wallet", organization_id=org_id,
                                         no_overdraft=True, now=NOW)
            return found.id

        account_id, error = self.unit(work)
        assert error is None and account_id is not None
        assert self.ids.setdefault(code, account_id) == account_id  # opening twice finds the same account
        self.accounts.setdefault(code, Balances())
        return org

    @rule(target=recharges, org=wallets, payment=st.integers(0, 7), amount=st.integers(1, 20_000))
    def recharge(self, org: int, payment: int, amount: int) -> Any:
        """A captured payment credits the wallet from the bridge; payments are drawn from a few ids so the same
        webhook arrives again (nothing moves) or its id comes with other terms (refused)."""
        return self._recharge(org, f"rzp:pay:pay_{payment}:captured", amount)

    def _recharge(self, org: int, key: str, amount: int) -> Any:
        wallet = wallet_code(self.world.org_ids[org])
        legs = [ledger.Leg(self.ids[CONVERSION], DEBIT, amount), ledger.Leg(self.ids[wallet], CREDIT, amount)]

        async def work(session: AsyncSession) -> int:
            return (await ledger.post(session, key=key, kind="top_up", legs=legs, effective_at=NOW)).id

        transaction_id, error = self.unit(work)
        known = self.recharge_of.get(key)
        if known is not None and (known.org, known.amount) != (org, amount):
            self.refused(error, Conflict, "idempotency_key_reused")
            event("recharge: same key, other terms")
            return multiple()
        assert error is None, error
        if known is not None:  # a duplicate delivery: the same transaction, nothing moved
            assert transaction_id == known.transaction_id
            event("recharge: duplicate")
            return multiple()
        assert transaction_id is not None
        event("recharge: new")
        self.recharge_of[key] = Recharge(org, amount, transaction_id)
        self.accounts[CONVERSION].debits_posted += amount
        self.accounts[wallet].credits_posted += amount
        self.transactions += 1
        return key

    @rule(key=recharges)
    def redeliver(self, key: str) -> None:
        """The same captured-payment webhook again, at any point later: the same transaction, nothing moves."""
        known = self.recharge_of[key]
        self._recharge(known.org, key, known.amount)

    @rule(key=recharges, extra=st.integers(1, 1_000), swap_wallet=st.booleans())
    def replay_with_other_legs(self, key: str, extra: int, swap_wallet: bool) -> None:
        """A transaction key again with other entries (another amount, or to another org's wallet): a 409."""
        known = self.recharge_of[key]
        org = (known.org + 1) % ORGS if swap_wallet else known.org
        wallet = self.ids.get(wallet_code(self.world.org_ids[org]), self.ids[USAGE])  # any other account will do
        amount = known.amount if swap_wallet else known.amount + extra
        legs = [ledger.Leg(self.ids[CONVERSION], DEBIT, amount), ledger.Leg(wallet, CREDIT, amount)]

        async def work(session: AsyncSession) -> int:
            return (await ledger.post(session, key=key, kind="top_up", legs=legs, effective_at=NOW)).id

        _, error = self.unit(work)
        self.refused(error, Conflict, "idempotency_key_reused")

    @rule(target=holds, org=wallets, send=st.integers(0, 4), amount=st.integers(1, 5_000))
    def hold(self, org: int, send: int, amount: int) -> Any:
        """A send sets money aside; a retried send (same key, same terms) gets the same hold back."""
        return self._hold(org, f"hold:send-{send}", amount)

    def _hold(self, org: int, key: str, amount: int) -> Any:
        org_id = self.world.org_ids[org]
        wallet_id, usage_id = self.ids[wallet_code(org_id)], self.ids[USAGE]

        async def work(session: AsyncSession) -> int:
            wallet, usage = await session.get(LedgerAccount, wallet_id), await session.get(LedgerAccount, usage_id)
            assert wallet is not None and usage is not None
            hold = await ledger.reserve(session, key=key, organization_id=org_id, wallet=wallet, counter=usage,
                                        amount=amount, expires_at=NOW + timedelta(days=1), now=NOW)
            return hold.id

        hold_id, error = self.unit(work)
        known = self.hold_of.get(key)
        if known is not None:
            if (known.org, known.amount) != (org, amount):
                self.refused(error, Conflict, "idempotency_key_reused")
                event("hold: same key, other terms")
            else:
                assert error is None and hold_id == known.hold_id, error
                event(f"hold: retried ({known.state})")
            return multiple()
        if self.wallet(org).available < amount:  # the model says exactly when the wallet cannot cover it
            self.refused(error, ledger.InsufficientCredits, "insufficient_credits")
            event("hold: insufficient")
            return multiple()
        assert error is None and hold_id is not None, error
        event("hold: new")
        self.hold_of[key] = Hold(org, amount, hold_id)
        self.wallet(org).debits_pending += amount
        self.usage_pending += amount  # a hold writes no transaction until it posts
        return key

    @rule(key=holds)
    def retry_hold(self, key: str) -> None:
        """A retried send reserves under its key again, pending or resolved: the same hold, nothing moves."""
        known = self.hold_of[key]
        self._hold(known.org, key, known.amount)

    def _resolve(self, key: str, outcome: Callable[[AsyncSession, LedgerHold, str], Awaitable[bool]]
                 ) -> tuple[Hold, str, bool | None, DomainError | None]:
        self.attempts += 1
        resolution_key = f"meta:{key}:{self.attempts}"

        async def work(session: AsyncSession) -> bool:
            hold = await session.scalar(select(LedgerHold).where(LedgerHold.key == key))
            assert hold is not None
            return await outcome(session, hold, resolution_key)

        done, error = self.unit(work)
        return self.hold_of[key], resolution_key, done, error

    @rule(key=holds, percent=st.one_of(st.just(0), st.just(100), st.integers(1, 99)), over=st.integers(0, 9))
    def settle(self, key: str, percent: int, over: int) -> None:
        """Posts 0..hold (the rest goes back) once; a resolved hold answers False; above the hold is refused."""
        amount = self.hold_of[key].amount + 1 if over == 0 else self.hold_of[key].amount * percent // 100

        async def outcome(session: AsyncSession, hold: LedgerHold, resolution_key: str) -> bool:
            return await ledger.settle(session, hold, amount=amount, resolution_key=resolution_key, now=NOW)

        hold, resolution_key, done, error = self._resolve(key, outcome)
        if amount > hold.amount:
            self.refused(error, Invalid, "invalid_amount")
            event("settle: above the hold")
            return
        assert error is None, error
        if hold.state != HOLD_PENDING:
            assert done is False
            event(f"settle: {hold.state} already")
            return
        assert done is True
        event("settle: " + ("0" if amount == 0 else "all" if amount == hold.amount else "part"))
        hold.state, hold.posted, hold.resolution_key = HOLD_POSTED, amount, resolution_key
        wallet, usage = self.wallet(hold.org), self.accounts[USAGE]
        wallet.debits_pending -= hold.amount
        self.usage_pending -= hold.amount
        wallet.debits_posted += amount
        usage.credits_posted += amount  # the posted hold is the journal line: no transaction, no entries

    @rule(key=holds, expired=st.booleans())
    def release(self, key: str, expired: bool) -> None:
        """Gives the whole hold back (voided, or expired by the sweeper) once; a resolved hold answers False."""

        async def outcome(session: AsyncSession, hold: LedgerHold, resolution_key: str) -> bool:
            return await ledger.release(session, hold, resolution_key=resolution_key, now=NOW, expired=expired)

        hold, resolution_key, done, error = self._resolve(key, outcome)
        assert error is None, error
        if hold.state != HOLD_PENDING:
            assert done is False
            event(f"release: {hold.state} already")
            return
        assert done is True
        event(f"release: expired={expired}")
        hold.state, hold.resolution_key = (HOLD_EXPIRED if expired else HOLD_VOIDED), resolution_key
        self.wallet(hold.org).debits_pending -= hold.amount
        self.usage_pending -= hold.amount

    @rule(key=recharges, refund=st.integers(0, 1))
    def refund(self, key: str, refund: int) -> None:
        """Reverses a top-up, only if what is still available covers it (a spent or held credit cannot be
        refunded: InsufficientCredits); once, whatever the key of a later attempt."""
        refund_key = f"rzp:rfnd:{key}:{refund}"  # one fact per (payment, refund): no key spans two payments

        async def work(session: AsyncSession) -> int:
            original = await session.scalar(select(LedgerTransaction).where(LedgerTransaction.idempotency_key == key))
            assert original is not None
            return (await ledger.reverse(session, original, key=refund_key, now=NOW)).id

        reversal_id, error = self.unit(work)
        recharge = self.recharge_of[key]
        if recharge.refund_key is not None:
            if recharge.refund_key != refund_key:
                self.refused(error, Conflict, "already_reversed")
                event("refund: another key after a refund")
            else:
                assert error is None and reversal_id == recharge.refund_id, error
                event("refund: retried")
            return
        if self.wallet(recharge.org).available < recharge.amount:
            self.refused(error, ledger.InsufficientCredits, "insufficient_credits")
            event("refund: insufficient")
            return
        event("refund: done")
        assert error is None and reversal_id is not None, error
        recharge.refund_key, recharge.refund_id = refund_key, reversal_id
        self.wallet(recharge.org).debits_posted += recharge.amount
        self.accounts[CONVERSION].credits_posted += recharge.amount
        self.transactions += 1

    # -- invariants -------------------------------------------------------------------------------------------

    @invariant()
    def database_equals_the_model_and_the_ledger_holds(self) -> None:
        self.run(self._check())

    async def _check(self) -> None:
        async with self.sessionmaker() as session:
            accounts = {a.code: a for a in (await session.execute(select(LedgerAccount))).scalars()}
            assert set(accounts) == set(self.accounts)
            for code, expected in self.accounts.items():
                found = accounts[code]
                assert tuple(getattr(found, column) for column in BALANCES) == expected.as_tuple(), code
                if found.kind == "wallet":  # no wallet below zero, posted or available
                    assert found.available == expected.available >= 0, code
                    assert found.credits_posted - found.debits_posted >= 0, code

            assert await findings(session, NOW) == []

            signed = case((LedgerEntry.direction == DEBIT, LedgerEntry.amount), else_=-LedgerEntry.amount)
            unbalanced = (await session.execute(
                select(LedgerEntry.transaction_id, LedgerAccount.asset, LedgerEntry.status, func.sum(signed))
                .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
                .group_by(LedgerEntry.transaction_id, LedgerAccount.asset, LedgerEntry.status)
                .having(func.sum(signed) != 0))).all()
            assert unbalanced == []  # every transaction balanced per asset (a hold is, by construction)
            for asset, posted, pending in (await session.execute(
                    select(LedgerAccount.asset, func.sum(LedgerAccount.debits_posted - LedgerAccount.credits_posted),
                           func.sum(LedgerAccount.debits_pending))
                    .group_by(LedgerAccount.asset))).all():
                assert (int(posted), int(pending)) == (0, self.usage_pending), asset  # conservation

            assert await session.scalar(select(func.count()).select_from(LedgerTransaction)) == self.transactions

            holds = {h.key: h for h in (await session.execute(select(LedgerHold))).scalars()}
            assert set(holds) == set(self.hold_of)
            copied = await session.scalar(select(func.count()).select_from(LedgerEntry).where(
                LedgerEntry.hold_id.is_not(None)))
            assert copied == 0  # a hold is its own journal line, pending or posted: no entries are copied from it
            held: dict[int, int] = {}
            for key, expected_hold in self.hold_of.items():
                hold = holds[key]
                assert (hold.id, hold.amount, hold.state, hold.posted_amount, hold.resolution_key) == (
                    expected_hold.hold_id, expected_hold.amount, expected_hold.state, expected_hold.posted,
                    expected_hold.resolution_key), key  # resolved at most once: by its first resolution
                assert hold.posted_amount is None or 0 <= hold.posted_amount <= hold.amount
                if hold.state == HOLD_PENDING:
                    held[hold.wallet_account_id] = held.get(hold.wallet_account_id, 0) + hold.amount
            for code, found in accounts.items():
                if found.kind == "wallet":  # Σ pending holds of a wallet = its debits_pending
                    assert held.get(found.id, 0) == found.debits_pending, code
            assert sum(held.values()) == self.usage_pending  # the usage side's pending: its pending holds


async def _organizations(settings: Settings) -> tuple[int, ...]:
    runtime = build_runtime(settings)
    try:
        await wipe(runtime.engine)
        return tuple([(await make_org(runtime)).org.id for _ in range(ORGS)])
    finally:
        await runtime.close()


MACHINE_SETTINGS = hypothesis_settings(max_examples=20, stateful_step_count=30, deadline=None, print_blob=True,
                                       suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def test_the_ledger_agrees_with_its_model_after_every_step(settings: Settings) -> None:
    loop = asyncio.new_event_loop()
    try:
        org_ids = loop.run_until_complete(_organizations(settings))
        engine = make_engine(settings.database_url)
        try:
            world = World(loop, engine, org_ids)

            class LedgerOnThisDatabase(LedgerMachine):
                def __init__(self) -> None:
                    super().__init__(world)

            run_state_machine_as_test(LedgerOnThisDatabase, settings=MACHINE_SETTINGS)
        finally:
            loop.run_until_complete(engine.dispose())
    finally:
        loop.close()


async def test_a_reversal_key_reused_for_another_payment_is_refused(runtime: Runtime) -> None:
    """The machine derives refund keys from their payment, so it never sends this: two equal top-ups, and the
    refund key of the first used to reverse the second. Found by this suite: the ledger answered with the first
    reversal (no error, the second payment still credited) until `reverses_id` joined the key's fingerprint."""
    org = (await make_org(runtime)).org.id
    async with runtime.sessionmaker() as session:
        wallet = await ledger.account(session, wallet_code(org), asset=WCC, kind="wallet", organization_id=org,
                                      no_overdraft=True, now=NOW)
        bridge = await ledger.account(session, CONVERSION, asset=WCC, kind="clearing", now=NOW)
        legs = [ledger.Leg(bridge.id, DEBIT, 5_000), ledger.Leg(wallet.id, CREDIT, 5_000)]
        first = await ledger.post(session, key="rzp:pay:P1:captured", kind="top_up", legs=legs, effective_at=NOW)
        second = await ledger.post(session, key="rzp:pay:P2:captured", kind="top_up", legs=legs, effective_at=NOW)
        await ledger.reverse(session, first, key="rzp:rfnd:R1:processed", now=NOW)
        with pytest.raises(Conflict):
            await ledger.reverse(session, second, key="rzp:rfnd:R1:processed", now=NOW)
