"""Credits (issue 5): hold+settle pairs per second on ONE wallet, against a raw single-row guarded UPDATE on the same
database, measured in the same run; SQLite (WAL, as `kit/db.py` configures it) and PostgreSQL (a throwaway cluster
from `bench/postgres.py`, fsync on).

- **raw**: per pair, one transaction doing the guarded hold UPDATE of `ledger_accounts` (`debits_pending + a WHERE
  available >= a`) and a second undoing it (`debits_pending - a WHERE debits_pending >= a`): the minimum a hold and
  its settlement need, through the product's engine and sessions.
- **single**: per message, a unit of work holding its price (`accounts.hold`, as `charging.hold_for_message`
  does), then another settling it for less than the hold (`ledger.settle`, as a delivered status does in
  `charging._resolve`).
- **chunk**: broadcast chunks of 200 messages held in one unit of work each (`accounts.locked_wallet` as
  `charging.price_chunk` locks it, then `ledger.reserve_many`), then every message settled in its own unit of work
  (settlement is per status webhook). Holds and settlements are timed as two phases.

PostgreSQL runs 4 concurrent asyncio workers on the one wallet (their own session per transaction); SQLite one
writer: its transactions take the write lock at BEGIN IMMEDIATE, so more workers would only queue on it. At the
end `ledger.check.findings` must be empty and every hold settled (the run fails otherwise).
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import uvloop
from sqlalchemy import event, func, select, text

import softdukan.models  # every table
from bench.postgres import cluster, pg_bin
from softdukan.config import Settings
from softdukan.kit import migrate
from softdukan.ledger import service as ledger
from softdukan.ledger.check import findings
from softdukan.ledger.models import HOLD_PENDING, HOLD_POSTED, LedgerAccount, LedgerHold
from softdukan.platform.runtime import Runtime, build_runtime
from softdukan.platform.uow import unit_of_work
from softdukan.wallet import accounts
from softdukan.wallet.charging import HOLD_TTL
from softdukan.wallet.service import MAX_GRANT, grant
from tests.support.factories import make_org

TITLE = "Credits: hold+settle pairs per second on one wallet"
HOLD = 8_631  # ₹0.8631, a marketing message to India at the Basic plan's markup
CHARGE = 7_850  # what the delivered status charges (≤ the hold; the rest goes back)
CHUNK = 200
PG_WORKERS = 4
SECONDS, CHUNK_MESSAGES, ROUNDS = 2.5, 800, 3  # both databases in about two minutes
RAW_HOLD = text("UPDATE ledger_accounts SET debits_pending = debits_pending + :a "
                "WHERE id = :w AND credits_posted - debits_posted - debits_pending >= :a")
RAW_UNDO = text("UPDATE ledger_accounts SET debits_pending = debits_pending - :a "
                "WHERE id = :w AND debits_pending >= :a")
assert softdukan.models  # imported for its side effect


@dataclass
class Rounds:
    """Per round: operations (pairs or messages) and seconds."""

    ops: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    def add(self, ops: int, seconds: float) -> None:
        self.ops.append(ops)
        self.seconds.append(seconds)

    @property
    def rates(self) -> list[float]:
        return [o / s for o, s in zip(self.ops, self.seconds, strict=True)]

    @property
    def rate(self) -> float:
        return statistics.median(self.rates)

    def shown(self) -> str:
        return ", ".join(f"{r:,.0f}" for r in self.rates)


@dataclass
class Side:
    database: str
    workers: int
    raw: Rounds = field(default_factory=Rounds)  # pairs
    single: Rounds = field(default_factory=Rounds)  # pairs
    chunk_hold: Rounds = field(default_factory=Rounds)  # messages, hold phase alone
    chunk_settle: Rounds = field(default_factory=Rounds)  # messages, settle phase alone
    chunk_both: Rounds = field(default_factory=Rounds)  # messages over both phases
    batch_settle: Rounds = field(default_factory=Rounds)  # messages, settled in batches (the settlement job)
    batch_both: Rounds = field(default_factory=Rounds)  # messages, chunk holds + batched settlements
    sanity: str = ""
    statements: dict[str, float] = field(default_factory=dict)  # per pair or message, BEGIN and COMMIT included

    @property
    def raw_updates(self) -> float:
        """Guarded single-row UPDATE transactions per second (two per raw pair)."""
        return 2 * self.raw.rate


@dataclass
class Result:
    seconds: float
    chunk_messages: int
    rounds: int
    sides: list[Side]

    def markdown(self) -> str:
        ratios, absolute, statements = [], [], []
        for s in self.sides:
            statements.append(f"{s.database}: raw pair {s.statements['raw']:g}, single hold+settle "
                              f"{s.statements['single']:g}, chunk hold {s.statements['chunk hold']:g} + settle "
                              f"{s.statements['chunk settle']:g} per message")
            ratios.append(
                f"| {s.database} | {s.workers} | **{s.single.rate / s.raw.rate:.2f}** | "
                f"**{s.chunk_hold.rate / s.raw_updates:.2f}** | **{s.chunk_both.rate / s.raw.rate:.2f}** | "
                f"**{s.chunk_both.rate:,.0f}** | **{s.batch_both.rate:,.0f}** |")
            absolute += [
                f"| {s.database} | raw: guarded UPDATE + commit, undo UPDATE + commit | pairs | "
                f"{sum(s.raw.ops):,} | {s.raw.rate:,.0f} | {s.raw.shown()} |",
                f"| {s.database} | single: `reserve` unit of work, `settle` unit of work | pairs | "
                f"{sum(s.single.ops):,} | {s.single.rate:,.0f} | {s.single.shown()} |",
                f"| {s.database} | chunk: `reserve_many` ×{CHUNK} per unit of work (holds alone) | messages | "
                f"{sum(s.chunk_hold.ops):,} | {s.chunk_hold.rate:,.0f} | {s.chunk_hold.shown()} |",
                f"| {s.database} | chunk: `settle` per message, one unit of work each (settlements alone) | "
                f"messages | {sum(s.chunk_settle.ops):,} | {s.chunk_settle.rate:,.0f} | {s.chunk_settle.shown()} |",
                f"| {s.database} | chunk: holds + settlements | messages | {sum(s.chunk_both.ops):,} | "
                f"{s.chunk_both.rate:,.0f} | {s.chunk_both.shown()} |",
                f"| {s.database} | batch: `settle_many` ×{CHUNK} per unit of work (settlements alone) | messages | "
                f"{sum(s.batch_settle.ops):,} | {s.batch_settle.rate:,.0f} | {s.batch_settle.shown()} |",
                f"| {s.database} | batch: chunk holds + batched settlements | messages | {sum(s.batch_both.ops):,} | "
                f"{s.batch_both.rate:,.0f} | {s.batch_both.shown()} |",
            ]
        return "\n".join([
            f"## {TITLE}",
            "",
            "One organization's wallet (funded by `wallet.service.grant`) on a fresh migrated database per side: "
            "SQLite file in WAL (synchronous=NORMAL, BEGIN IMMEDIATE, as `kit/db.py` configures it) with **one "
            "writer**, since SQLite serializes writers anyway; PostgreSQL (throwaway cluster, fsync on) with "
            f"**{PG_WORKERS} concurrent workers** on the same wallet. Every transaction opens its own session "
            f"(`unit_of_work` for the product). Hold ₹{HOLD / 10_000:.4f}, settled for ₹{CHARGE / 10_000:.4f}. "
            f"{self.rounds} rounds interleaved (median shown): raw and single for {self.seconds:g} s each, "
            f"chunk {self.chunk_messages:,} messages (holds in chunks of {CHUNK}, then each settled).",
            "",
            "| database | workers | single pair / raw pair (goal ≥ 0.5) | chunk hold per message / raw UPDATE "
            "| chunk hold+settle msg/s / raw pairs/s | effective msg/s, chunk holds + one settlement per message "
            "| effective msg/s, chunk holds + batched settlement (goal ≥ 2,000) |",
            "|---|---:|---:|---:|---:|---:|---:|",
            *ratios,
            "",
            "| database | path | unit | total | per second (median) | rounds |",
            "|---|---|---|---:|---:|---|",
            *absolute,
            "",
            "Statements sent to the database (BEGIN and COMMIT included), counted on one more of each: "
            + "; ".join(statements) + ".",
            "",
            "Sanity (`ledger.check.findings` empty, every hold settled once): "
            + "; ".join(f"{s.database}: {s.sanity}" for s in self.sides) + ".",
            "",
        ])


async def _concurrently(workers: int, work: Callable[[int], Awaitable[int]]) -> tuple[int, float]:
    started = time.perf_counter()
    done = await asyncio.gather(*(work(w) for w in range(workers)))
    return sum(done), time.perf_counter() - started


async def raw(runtime: Runtime, wallet_id: int, workers: int, seconds: float) -> tuple[int, float]:
    """Two guarded single-row UPDATE transactions per pair, nothing else."""
    stop = time.perf_counter() + seconds
    params = {"a": HOLD, "w": wallet_id}

    async def work(_: int) -> int:
        pairs = 0
        while not pairs or time.perf_counter() < stop:  # at least one
            for statement in (RAW_HOLD, RAW_UNDO):
                async with runtime.sessionmaker() as session:
                    if (await session.execute(statement, params)).rowcount != 1:  # type: ignore[attr-defined]
                        raise RuntimeError("raw guarded UPDATE matched no row")
                    await session.commit()
            pairs += 1
        return pairs

    return await _concurrently(workers, work)


async def _hold(runtime: Runtime, org_id: int, key: str) -> int:
    """`charging.hold_for_message`'s ledger half: `accounts.hold` (`ledger.reserve` by account code)."""
    async with unit_of_work(runtime) as uow:
        now = uow.clock.now()
        hold = await accounts.hold(uow.session, org_id, key=key, amount=HOLD, expires_at=now + HOLD_TTL, now=now)
        return hold.id


async def _settle(runtime: Runtime, hold_id: int) -> None:
    """`charging._resolve`'s ledger half for a delivered, billable message (by the hold's id)."""
    async with unit_of_work(runtime) as uow:
        if not await ledger.settle(uow.session, hold_id, amount=CHARGE, resolution_key=f"meta:{hold_id}:charge",
                                   now=uow.clock.now()):
            raise RuntimeError(f"hold {hold_id} was resolved before")


async def single(runtime: Runtime, org_id: int, tag: str, workers: int, seconds: float) -> tuple[int, float]:
    stop = time.perf_counter() + seconds

    async def work(w: int) -> int:
        pairs = 0
        while not pairs or time.perf_counter() < stop:  # at least one
            await _settle(runtime, await _hold(runtime, org_id, f"hold:bench:{tag}:{w}:{pairs}"))
            pairs += 1
        return pairs

    return await _concurrently(workers, work)


async def chunk(runtime: Runtime, org_id: int, tag: str, workers: int, messages: int, *, batched: bool = False
                ) -> tuple[int, float, float]:
    """(messages, hold phase seconds, settle phase seconds). `batched`: settled as the product's settlement job
    does (`wallet.settle` → `ledger.settle_many`, up to a chunk of decided charges per unit of work) instead of one
    unit of work per message."""
    chunks = [[f"hold:bench:{tag}:{c}:{i}" for i in range(CHUNK)] for c in range(max(1, messages // CHUNK))]
    held: list[int] = []

    async def hold_chunks(w: int) -> int:
        count = 0
        for keys in chunks[w::workers]:
            async with unit_of_work(runtime) as uow:  # charging.price_chunk, then hold_for_chunk
                now, session = uow.clock.now(), uow.session
                wallet = await accounts.locked_wallet(session, org_id, now)
                if wallet.available < HOLD * len(keys):
                    raise RuntimeError("the benchmark wallet ran out of credits")
                ids = await ledger.reserve_many(session, organization_id=org_id, wallet=wallet,
                                                counter=await accounts.usage(session, org_id, now),
                                                holds=[(key, HOLD) for key in keys], expires_at=now + HOLD_TTL,
                                                now=now)
            held.extend(ids[key] for key in keys)
            count += len(keys)
        return count

    async def settle_all(w: int) -> int:
        mine = held[w::workers]
        if batched:
            for start in range(0, len(mine), CHUNK):
                async with unit_of_work(runtime) as uow:
                    done = await ledger.settle_many(uow.session, [(h, CHARGE) for h in mine[start:start + CHUNK]],
                                                    resolution=f"bench:{tag}", now=uow.clock.now())
                    assert len(done) == len(mine[start:start + CHUNK])
            return len(mine)
        for hold_id in mine:
            await _settle(runtime, hold_id)
        return len(mine)

    total, hold_seconds = await _concurrently(workers, hold_chunks)
    settled, settle_seconds = await _concurrently(workers, settle_all)
    if settled != total:
        raise RuntimeError(f"{total} messages held but {settled} settled")
    return total, hold_seconds, settle_seconds


async def _statements(runtime: Runtime, org_id: int, wallet_id: int) -> tuple[dict[str, float], int]:
    """Statements each path sends (the cursor executions SQLAlchemy makes, plus BEGIN and COMMIT), one worker."""
    sent = [0]

    def count(*_: object) -> None:
        sent[0] += 1

    engine = runtime.engine.sync_engine
    listeners = [(engine, "before_cursor_execute", count), (engine, "commit", count)]
    if runtime.engine.dialect.name != "sqlite":  # SQLite's BEGIN IMMEDIATE is issued by kit/db.py as a statement
        listeners.append((engine, "begin", count))
    for listener in listeners:
        event.listen(*listener)
    counted: dict[str, float] = {}
    try:
        for name, path in (("raw", lambda: raw(runtime, wallet_id, 1, 0)),
                           ("single", lambda: single(runtime, org_id, "count", 1, 0))):
            sent[0] = 0
            await path()
            counted[name] = sent[0]
        sent[0] = 0
        keys = [f"hold:bench:count-chunk:{i}" for i in range(CHUNK)]
        async with unit_of_work(runtime) as uow:
            now, session = uow.clock.now(), uow.session
            wallet = await accounts.locked_wallet(session, org_id, now)
            ids = await ledger.reserve_many(session, organization_id=org_id, wallet=wallet,
                                            counter=await accounts.usage(session, org_id, now),
                                            holds=[(key, HOLD) for key in keys], expires_at=now + HOLD_TTL,
                                            now=now)
        counted["chunk hold"] = sent[0] / CHUNK
        sent[0] = 0
        for key in keys:
            await _settle(runtime, ids[key])
        counted["chunk settle"] = sent[0] / CHUNK
    finally:
        for listener in listeners:
            event.remove(*listener)
    return counted, 1 + CHUNK


async def _sanity(runtime: Runtime, wallet_id: int, expected_settled: int, funded: int) -> str:
    async with runtime.sessionmaker() as session:
        found = await findings(session, runtime.clock.now())
        if found:
            raise RuntimeError("ledger check found:\n" + "\n".join(found))
        states = dict((await session.execute(select(LedgerHold.state, func.count()).group_by(LedgerHold.state)))
                      .all())
        wallet = await session.get(LedgerAccount, wallet_id)
        assert wallet is not None
    if states.get(HOLD_PENDING) or states.get(HOLD_POSTED, 0) != expected_settled:
        raise RuntimeError(f"holds by state {states}, expected {expected_settled} posted and none pending")
    charged = expected_settled * CHARGE
    if (wallet.debits_pending, wallet.debits_posted, wallet.credits_posted) != (0, charged, funded):
        raise RuntimeError(f"wallet pending {wallet.debits_pending}, charged {wallet.debits_posted} (expected "
                           f"{charged}), credited {wallet.credits_posted} (expected {funded})")
    return (f"no findings, {expected_settled:,} holds settled and none pending, wallet charged "
            f"{charged:,} units = {expected_settled:,} × {CHARGE:,}")


async def _measure(database: str, url: str, workers: int, seconds: float, chunk_messages: int,
                   rounds: int) -> Side:
    side = Side(database, workers)
    runtime = build_runtime(Settings(database_url=url, run_jobs_in_process=False, scheduler_in_process=False,
                                     log_level="WARNING"))
    try:
        org = await make_org(runtime, "Credits Bench")
        org_id = org.org.id
        async with unit_of_work(runtime) as uow:
            await grant(uow, org_id, units=MAX_GRANT, key=f"bench:credits:{org_id}", reason="benchmark")
            wallet_id = (await accounts.wallet(uow.session, org_id, uow.clock.now())).id
        funded = MAX_GRANT + runtime.settings.signup_credit_units
        settled = 0
        # warm-up: connections, statement caches, the first pages of each table
        await raw(runtime, wallet_id, workers, min(seconds, 0.5))
        settled += (await single(runtime, org_id, "warm", workers, min(seconds, 0.5)))[0]
        settled += (await chunk(runtime, org_id, "warm-chunk", workers, CHUNK))[0]
        for r in range(rounds):  # interleaved, so drift on the machine hits every path alike
            side.raw.add(*await raw(runtime, wallet_id, workers, seconds))
            pairs, elapsed = await single(runtime, org_id, f"r{r}", workers, seconds)
            side.single.add(pairs, elapsed)
            messages, hold_seconds, settle_seconds = await chunk(runtime, org_id, f"r{r}-chunk", workers,
                                                                 chunk_messages)
            side.chunk_hold.add(messages, hold_seconds)
            side.chunk_settle.add(messages, settle_seconds)
            side.chunk_both.add(messages, hold_seconds + settle_seconds)
            batch, batch_hold, batch_settle = await chunk(runtime, org_id, f"r{r}-batch", workers, chunk_messages,
                                                          batched=True)
            side.batch_settle.add(batch, batch_settle)
            side.batch_both.add(batch, batch_hold + batch_settle)
            settled += pairs + messages + batch
        side.statements, counted = await _statements(runtime, org_id, wallet_id)
        settled += counted
        side.sanity = await _sanity(runtime, wallet_id, settled, funded)
        return side
    finally:
        await runtime.close()


def run(*, seconds: float = SECONDS, chunk_messages: int = CHUNK_MESSAGES, rounds: int = ROUNDS,
        postgres: bool = True) -> Result:
    sides = []
    with tempfile.TemporaryDirectory(prefix="softdukan-bench-") as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'credits.db'}"
        migrate.upgrade(url)  # outside any event loop: Alembic's env runs its own
        # uvloop, as the product runs under `softdukan serve` (uvicorn) and `softdukan worker`
        sides.append(uvloop.run(_measure("SQLite", url, 1, seconds, chunk_messages, rounds)))
    if postgres and pg_bin() is not None:
        with cluster() as pg_url:
            time.sleep(0.5)
            migrate.upgrade(pg_url)
            sides.append(uvloop.run(_measure("PostgreSQL", pg_url, PG_WORKERS, seconds, chunk_messages, rounds)))
    return Result(seconds, chunk_messages, rounds, sides)


if __name__ == "__main__":
    import argparse

    from bench.run import machine

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=SECONDS, help="per round of the raw and single paths")
    parser.add_argument("--chunk-messages", type=int, default=CHUNK_MESSAGES,
                        help="messages per round of the chunk path")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="measured rounds; the median is reported")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    result = run(seconds=args.seconds, chunk_messages=args.chunk_messages, rounds=args.rounds,
                 postgres=not args.no_postgres)
    print(machine(), "", result.markdown(), sep="\n")
