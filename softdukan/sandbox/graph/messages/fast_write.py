"""The fast path's group commit: one writer at a time per database and event loop; whoever holds the lock writes
every send queued meanwhile in one transaction, with a handful of statements whatever the batch size.

Per batch: the customers and threads of its recipients are created if missing (`ON CONFLICT DO NOTHING`, as
`get_customer`/`get_thread` would create them) and read back; each send is then decided in arrival order exactly
as `send_message` decides it after the bucket (131026 / failure code / 131050 / messaging limit / injected
failure, the free entry point window, the pricing and conversation objects); the SandboxMessage rows go in one
INSERT, their `sent` status jobs in one more (`uow.enqueue_many`), and a limit review is considered once per
portfolio. The rows are those `send_message` writes: tests/sandbox/test_fast_send_rows.py compares them.

Through one request's ORM unit of work, the same send cost a dozen queries and a transaction each (SQLite takes
its write lock at BEGIN); bench/broadcast_sandbox.py measures the difference.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, bindparam, distinct, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from softdukan.platform.runtime import Runtime
from softdukan.platform.uow import UnitOfWork
from softdukan.sandbox.graph import counters
from softdukan.sandbox.graph.ids import conversation_id
from softdukan.sandbox.graph.limits import NEXT_TIER, consider_scaling
from softdukan.sandbox.graph.messages.fast_send import Send
from softdukan.sandbox.graph.messages.send import CSW, FEP, TIER_LIMITS, injected
from softdukan.sandbox.graph.messages.statuses import conversation_for, pricing_for
from softdukan.sandbox.models import SandboxBusiness, SandboxCustomer, SandboxMessage, SandboxPhoneNumber, SandboxThread

MAX_BATCH = 500
MESSAGES = SandboxMessage.__table__
THREADS = SandboxThread.__table__
CUSTOMERS = SandboxCustomer.__table__


class _Group:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.lock = asyncio.Lock()
        self.pending: list[tuple[Send, asyncio.Future[None]]] = []

    async def submit(self, send: Send) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.pending.append((send, future))
        async with self.lock:
            while not future.done():  # nobody wrote it yet: this request writes what is queued
                batch, self.pending = self.pending[:MAX_BATCH], self.pending[MAX_BATCH:]
                await self._flush(batch)
        await future

    async def _flush(self, batch: list[tuple[Send, asyncio.Future[None]]]) -> None:
        try:
            try:
                await write(self.runtime, [send for send, _ in batch])
            except Exception as exc:
                if len(batch) == 1:
                    batch[0][1].set_exception(exc)
                    return
                for send, future in batch:  # one bad send must not fail the others
                    try:
                        await write(self.runtime, [send])
                        future.set_result(None)
                    except Exception as one_exc:
                        future.set_exception(one_exc)
                return
            for _, future in batch:
                future.set_result(None)
        finally:
            # cancelled mid-write: the unanswered go back to the queue for the next writer
            self.pending[:0] = [(send, future) for send, future in batch if not future.done()]


_groups: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, weakref.WeakKeyDictionary[Engine, _Group]] = (
    weakref.WeakKeyDictionary())


async def submit(runtime: Runtime, send: Send) -> None:
    """Returns once the send is committed (or raises what its write raised)."""
    per_loop = _groups.setdefault(asyncio.get_running_loop(), weakref.WeakKeyDictionary())
    group = per_loop.get(runtime.engine.sync_engine)
    if group is None:
        group = per_loop[runtime.engine.sync_engine] = _Group(runtime)
    await group.submit(send)


def _insert(session: AsyncSession, table: Any) -> Any:
    dialect = session.get_bind().dialect.name
    return (pg_insert(table) if dialect == "postgresql" else sqlite_insert(table)).on_conflict_do_nothing()


async def _customers(session: AsyncSession, wa_ids: list[str]) -> dict[str, Any]:
    await session.execute(_insert(session, CUSTOMERS), [
        {"wa_id": w, "name": f"Customer {w[-4:]}", "on_whatsapp": True, "opted_out_marketing": False,
         "failure_code": None} for w in wa_ids])
    rows = await session.execute(select(CUSTOMERS.c.wa_id, CUSTOMERS.c.on_whatsapp, CUSTOMERS.c.opted_out_marketing,
                                        CUSTOMERS.c.failure_code).where(CUSTOMERS.c.wa_id.in_(wa_ids)))
    return {row.wa_id: row for row in rows}


async def _threads(session: AsyncSession, pairs: set[tuple[int, str]]) -> dict[tuple[int, str], dict[str, Any]]:
    await session.execute(_insert(session, THREADS), [
        {"phone_pk": p, "wa_id": w, "last_inbound_at": None, "referral_at": None, "fep_opened_at": None,
         "fep_expires_at": None, "fep_conversation_id": None} for p, w in sorted(pairs)])
    found: dict[tuple[int, str], dict[str, Any]] = {}
    for phone_pk in {p for p, _ in pairs}:
        wa_ids = [w for p, w in pairs if p == phone_pk]
        rows = await session.execute(select(THREADS).where(THREADS.c.phone_pk == phone_pk,
                                                           THREADS.c.wa_id.in_(wa_ids)))
        found.update({(phone_pk, row.wa_id): dict(row._mapping) for row in rows})
    return found


class _Limit:
    """The portfolio's messaging limit over the last 24 h, as `_over_messaging_limit` counts it, kept up to date
    across the batch."""

    def __init__(self, limit: int, used: int, already: set[str]) -> None:
        self.limit, self.used, self.already = limit, used, already

    @classmethod
    async def load(cls, session: AsyncSession, business_pk: int, limit: int, since: Any,
                   wa_ids: Iterable[str]) -> _Limit:
        counted = (SandboxMessage.business_pk == business_pk, SandboxMessage.counts_toward_limit.is_(True),
                   SandboxMessage.created_at >= since)
        already = set((await session.execute(select(SandboxMessage.wa_id).distinct().where(
            *counted, SandboxMessage.wa_id.in_(list(wa_ids))))).scalars())
        used = (await session.execute(select(func.count(distinct(SandboxMessage.wa_id))).where(*counted))).scalar_one()
        return cls(limit, int(used), already)

    def over(self, wa_id: str) -> bool:
        return wa_id not in self.already and self.used >= self.limit

    def count(self, wa_id: str) -> None:
        if wa_id not in self.already:
            self.already.add(wa_id)
            self.used += 1


def _decide(send: Send, thread: dict[str, Any], customer: Any, limit: _Limit | None,
            fep_updates: list[dict[str, Any]]) -> dict[str, Any]:
    """`send_message` after the bucket, for a template send: the SandboxMessage row's values."""
    out, now, category = send.out, send.now, send.category
    in_csw = thread["last_inbound_at"] is not None and now < thread["last_inbound_at"] + CSW
    error_code: int | None = None
    if not customer.on_whatsapp:
        error_code = 131026
    elif customer.failure_code:
        error_code = customer.failure_code
    elif category == "MARKETING" and customer.opted_out_marketing:
        error_code = 131050
    counts = not in_csw
    if error_code is None and counts and limit is not None and limit.over(out.wa_id):
        error_code = send.profile.messaging_limit_code
    if error_code is None:
        error_code = injected(send.profile, send.wamid, out.wa_id, category)
    in_fep = thread["fep_expires_at"] is not None and now < thread["fep_expires_at"]
    if (error_code is None and not in_fep and thread["referral_at"] is not None
            and now < thread["referral_at"] + CSW
            and (thread["fep_opened_at"] is None or thread["fep_opened_at"] < thread["referral_at"])):
        thread.update(fep_opened_at=now, fep_expires_at=now + FEP, fep_conversation_id=conversation_id())
        fep_updates.append({"thread_id": thread["id"], "opened": now, "expires": now + FEP,
                            "conversation": thread["fep_conversation_id"]})
        in_fep = True
    if counts and error_code is None and limit is not None:
        limit.count(out.wa_id)
    return {
        "wamid": send.wamid, "phone_pk": send.phone.id, "business_pk": send.business.id, "wa_id": out.wa_id,
        "direction": "out", "type": out.type, "payload": out.message, "status": "accepted",
        "error_code": error_code, "template_category": category,
        "pricing": pricing_for(is_template=True, category=category, in_csw=in_csw, in_fep=in_fep),
        "conversation": conversation_for(now, fep_id=thread["fep_conversation_id"] if in_fep else None,
                                         fep_expires=thread["fep_expires_at"] if in_fep else None),
        "pricing_sent_on": None, "biz_opaque_callback_data": out.biz_opaque_callback_data,
        "context_wamid": out.context_wamid, "counts_toward_limit": counts and error_code is None,
        "sent_at": None, "delivered_at": None, "read_at": None, "failed_at": None, "played_at": None,
        "flow_key": None, "created_at": now,
    }


async def write(runtime: Runtime, sends: list[Send]) -> None:
    """Decides and stores `sends` (in order) in one transaction, with their `sent` status jobs."""
    async with runtime.sessionmaker() as session:
        uow = UnitOfWork(runtime, session)
        try:
            await _write(uow, sends)
        except BaseException:
            await uow.rollback()
            raise
        await uow.commit()
    counters.batch(len(sends))


async def _write(uow: UnitOfWork, sends: list[Send]) -> None:
    session = uow.session
    customers = await _customers(session, sorted({s.out.wa_id for s in sends}))
    threads = await _threads(session, {(s.phone.id, s.out.wa_id) for s in sends})
    limits: dict[int, _Limit | None] = {}
    for send in sends:
        if send.business.id not in limits:
            size = TIER_LIMITS.get(send.business.messaging_limit_tier, 250)
            limits[send.business.id] = None if size is None else await _Limit.load(
                session, send.business.id, size, send.now - timedelta(hours=24),
                {s.out.wa_id for s in sends if s.business.id == send.business.id})
    fep_updates: list[dict[str, Any]] = []
    rows = [_decide(send, threads[(send.phone.id, send.out.wa_id)], customers[send.out.wa_id],
                    limits[send.business.id], fep_updates) for send in sends]
    if fep_updates:
        await session.execute(update(THREADS).where(THREADS.c.id == bindparam("thread_id")).values(
            fep_opened_at=bindparam("opened"), fep_expires_at=bindparam("expires"),
            fep_conversation_id=bindparam("conversation")), fep_updates)
    ids = (await session.execute(insert(MESSAGES).returning(MESSAGES.c.id, sort_by_parameter_order=True),
                                 rows)).scalars().all()
    await uow.enqueue_many("sandbox.message_status", [
        {"message_id": message_id, "status": "sent",
         "run_at": send.now + timedelta(seconds=send.profile.sent_after_seconds)}
        for message_id, send in zip(ids, sends, strict=True)])
    counted = {s.business.id: s for s, row in zip(sends, rows, strict=True) if row["counts_toward_limit"]}
    for business_pk, send in counted.items():
        if send.business.messaging_limit_tier in NEXT_TIER:  # elsewhere there is no tier to scale to
            business = await session.get(SandboxBusiness, business_pk)
            phone = await session.get(SandboxPhoneNumber, send.phone.id)
            if business is not None and phone is not None:
                await consider_scaling(uow, business, phone)
