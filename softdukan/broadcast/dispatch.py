"""The broadcast dispatcher: one job per broadcast at a time sends its recipients chunk by chunk.

A run takes the broadcast's dispatch lease (a guarded UPDATE; a second dispatcher leaves at once), finishes the
audience snapshot if needed, then loops for at most RUN_SECONDS: recover lapsed claims → respect the messaging
limit → claim a chunk → write its messages (commit) → send at the number's pace → record the answers (commit).
It then enqueues its successor (or marks the broadcast completed); when its time is up with recipients still due,
it hands the broadcast over to the successor first and records its last chunks' answers meanwhile. A dispatcher
killed at any point leaves its job to be taken over when the job's lease lapses, and its `sending` recipients to
`recover`.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from datetime import datetime, timedelta

import structlog
from sqlalchemy import select, update

from softdukan.broadcast import audience, claims
from softdukan.broadcast import states as s
from softdukan.broadcast.attempts import Answer, Attempt, Pace, Run, prepare, send_all
from softdukan.broadcast.events import progressed
from softdukan.broadcast.models import Broadcast, BroadcastRecipient
from softdukan.broadcast.pausing import pause_broadcast
from softdukan.broadcast.results import async_failure, fail_messages, record_answers
from softdukan.broadcast.tier import allowance
from softdukan.config import Settings
from softdukan.conversation import status as st
from softdukan.inbound.unrouted import status_waiting_for
from softdukan.kit.db import refresh_statistics
from softdukan.number.graph import account_lanes
from softdukan.number.models import CONNECTED, PhoneNumber, WhatsAppAccount
from softdukan.organization.models import Organization
from softdukan.platform.jobs.registry import task
from softdukan.platform.uow import UnitOfWork
from softdukan.template.models import APPROVED, MessageTemplate
from softdukan.template.sending import parse_spec
from softdukan.template.variables import AnyTemplate, FrozenTemplate
from softdukan.wallet.service import check_low_balance

log = structlog.get_logger(__name__)
DISPATCH_TASK = "broadcast.dispatch"
LANES = 1  # connection pools (whatsapp/client/wire.py) per dispatcher
DEPTH = 3  # chunks on the wire at once: two keep the bucket busy while the third is claimed and written
RUN_SECONDS = 20.0  # at most; a third of the job lease when that is shorter (see `timing`)
HOLD_SECONDS = RUN_SECONDS + 15  # the run's hold on the broadcast, at most
CLAIM_LEASE = timedelta(seconds=120)  # at most
STATISTICS_AFTER = 10_000  # recipients snapshotted: refresh the planner's statistics (kit/db.py)


def timing(settings: Settings) -> tuple[float, float, timedelta]:
    """(seconds a run sends, its hold on the broadcast, its claims' lease), scaled down to a short job lease: a run
    must end well inside its job's lease (one outliving it is taken over, its final commit, the successor, rolled
    back), and a killed run's hold must have lapsed by the time its job is taken over. 20 s, 35 s and 120 s with
    the default 60 s job lease."""
    job = float(settings.job_lease_seconds)
    return (min(RUN_SECONDS, job / 3), min(HOLD_SECONDS, job * 0.6),
            min(CLAIM_LEASE, timedelta(seconds=job * 2)))


def chunk_size(mps: int) -> int:
    return max(50, min(500, mps // 2))


def enqueue_dispatch(uow: UnitOfWork, broadcast: Broadcast, at: datetime | None = None) -> None:
    uow.enqueue(DISPATCH_TASK, run_at=at, organization_id=broadcast.organization_id,
                org_id=broadcast.organization_id, broadcast_id=broadcast.id)


async def _take_lease(uow: UnitOfWork, broadcast: Broadcast, seconds: float) -> bool:
    now = uow.clock.now()
    result = await uow.session.execute(
        update(Broadcast).where(Broadcast.id == broadcast.id, Broadcast.status == s.SENDING,
                                (Broadcast.dispatch_lease_until.is_(None)) | (Broadcast.dispatch_lease_until < now))
        .values(dispatch_lease_until=now + timedelta(seconds=seconds)).execution_options(synchronize_session=False))
    await uow.release()
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def _snapshot(uow: UnitOfWork, broadcast: Broadcast, template: AnyTemplate) -> None:
    """Recipients written in batches, one transaction each; resumes from the cursor after a crash."""
    org = await uow.session.get(Organization, broadcast.organization_id)
    region = (org.country_code if org else None) or "IN"
    spec = parse_spec({"id": template.id, **(broadcast.variables or {})})
    if broadcast.audience.get("kind") == "list":
        entries = audience.parse_list(broadcast.audience.get("numbers", []), region)
        await audience.ensure_list_contacts(uow, broadcast.organization_id, entries.valid, uow.clock.now())
        await audience.write_invalid_entries(uow.session, broadcast, entries, uow.clock.now())
    condition = await audience.contact_condition(uow, broadcast, region)
    classified = audience.classify(template, spec)
    written = 0
    while covered := await audience.snapshot_batch(uow.session, broadcast, condition, classified, uow.clock.now()):
        written += covered
        await uow.release()
    broadcast.snapshot_at = uow.clock.now()
    broadcast.breakdown = await audience.snapshot_counts(uow.session, broadcast)
    await uow.release()
    if written >= STATISTICS_AFTER:  # PostgreSQL: a new broadcast's rows are unknown to the planner until analysed
        await refresh_statistics(uow.session, BroadcastRecipient)
        await uow.release()


async def recover(uow: UnitOfWork, run: Run, now: datetime) -> None:
    """Claims whose lease lapsed: resolved from their message (a status webhook may have told us), else resent
    once the confirm time passed with no word from WhatsApp, else left waiting for the webhook."""
    for recipient, message in await claims.lapsed(uow.session, run.broadcast, now):
        if message is None:
            await claims.back_to_pending(uow.session, [(recipient.id, now, None)], now)
        elif message.wamid is not None and message.status != st.FAILED:
            await claims.mark_sent(uow.session, [(recipient.id, message.id, message.wamid)], now)
        elif message.status == st.FAILED:
            stop = await async_failure(uow, run.broadcast, recipient, message, now)
            if stop is not None:
                await pause_broadcast(uow, run.broadcast, stop.reason, stop.detail)
        elif (recipient.claimed_at is None or recipient.claimed_at + run.confirm_after <= now) and not (
                message.biz_opaque_callback_data
                and await status_waiting_for(uow, run.account.id, message.biz_opaque_callback_data)):
            await fail_messages(uow, [{"m_id": message.id, "m_code": None, "m_title": "Not confirmed by WhatsApp",
                                       "m_details": "No answer or status came for this attempt; sent again.",
                                       "m_at": now}], run.broadcast.organization_id)
            await claims.back_to_pending(uow.session, [(recipient.id, now, s.UNCONFIRMED)], now)
        else:  # a status may still come (or is stored and not routed yet): look again later
            again = max(now + timedelta(seconds=5), (recipient.claimed_at or now) + run.confirm_after)
            await claims.extend_lease(uow.session, [recipient.id], again)


async def _load_run(uow: UnitOfWork, broadcast: Broadcast) -> Run | str:
    """What the run needs, or why the broadcast can't go on (it is paused with that reason)."""
    phone = await uow.session.get(PhoneNumber, broadcast.phone_number_id)
    account = await uow.session.get(WhatsAppAccount, phone.account_id) if phone else None
    template = await uow.session.get(MessageTemplate, broadcast.template_id) if broadcast.template_id else None
    if phone is None or account is None or phone.status != CONNECTED:
        return s.NUMBER_DISCONNECTED
    if template is None or template.status not in (APPROVED,):
        return {"PAUSED": s.TEMPLATE_PAUSED, "DISABLED": s.TEMPLATE_DISABLED}.get(
            template.status if template else "", s.TEMPLATE_GONE)
    if template.category != broadcast.template_category:
        return s.TEMPLATE_RECATEGORIZED
    spec = parse_spec({"id": template.id, **(broadcast.variables or {})})
    confirm = timedelta(seconds=uow.settings.broadcast_confirm_seconds)
    return Run(broadcast, phone, account, FrozenTemplate.of(template), spec, confirm)


@task(DISPATCH_TASK, max_attempts=1000)
async def dispatch(uow: UnitOfWork, org_id: int, broadcast_id: int) -> None:
    broadcast = await uow.session.scalar(select(Broadcast).where(Broadcast.organization_id == org_id,
                                                                 Broadcast.id == broadcast_id))
    if broadcast is None or broadcast.status != s.SENDING:
        return
    if not await _take_lease(uow, broadcast, timing(uow.settings)[1]):
        return  # another dispatcher runs it
    run = await _load_run(uow, broadcast)
    if isinstance(run, str):
        await pause_broadcast(uow, broadcast, run, None)
        return
    if broadcast.snapshot_at is None:
        await _snapshot(uow, broadcast, run.template)
    if not await _send_for_a_while(uow, run):  # else the successor holds the broadcast now
        await _finish_run(uow, broadcast)


async def _next_chunk(uow: UnitOfWork, run: Run, size: int, claim_lease: timedelta) -> list[Attempt] | None:
    """Claims and prepares the next chunk (committed); None when there is nothing to send now (or may not be)."""
    broadcast = run.broadcast
    await uow.session.refresh(broadcast, ["status"])
    if broadcast.status != s.SENDING:
        return None
    now = uow.clock.now()
    await recover(uow, run, now)
    limit = size
    left = await _allowance_left(uow, run, now)
    if left is not None and left < limit:
        if left <= 0:
            frees_at = run.allowance.frees_at if run.allowance else None
            await claims.defer_all_due(uow.session, broadcast, now, frees_at or now + timedelta(hours=1))
            await uow.release()
            return None
        limit = left
    claimed = await claims.claim(uow.session, broadcast, await claims.due_ids(uow.session, broadcast, now, limit),
                                 now, claim_lease)
    run.claimed += len(claimed)
    if not claimed:
        await uow.release()
        return None
    attempts = await prepare(uow, run, claimed, now)
    if run.short_of_credits is not None:
        await pause_broadcast(uow, broadcast, s.INSUFFICIENT_CREDITS, run.short_of_credits)
    if attempts:
        await check_low_balance(uow, broadcast.organization_id)
    await uow.release()  # messages and claims are durable before any request leaves
    return attempts


async def _allowance_left(uow: UnitOfWork, run: Run, now: datetime) -> int | None:
    """The messaging limit's allowance left (None: unlimited). Counted in the database (distinct users over 24 h
    of messages, a scan that grows with the broadcast) at the run's first chunk and again whenever it reaches
    zero; in between counted down by what the run claimed, each claimed recipient as a new user, so it never
    overestimates. A run lasts RUN_SECONDS at most: other senders' use is seen by the next one at the latest."""
    used_up = run.allowance is not None and run.allowance.remaining is not None and (
        run.allowance.remaining - run.claimed <= 0)
    if run.allowance is None or used_up:
        run.allowance, run.claimed = await allowance(uow.session, run.account, now), 0
    remaining = run.allowance.remaining
    return None if remaining is None else remaining - run.claimed


async def _send_for_a_while(uow: UnitOfWork, run: Run) -> bool:
    """Pipelined: up to DEPTH chunks are on the wire at once, so while the oldest one's last answers come back and
    are recorded and the next chunk is claimed and written, the number's bucket always has prepared messages to
    take. Neither the database work nor a chunk's slowest answers leave it idle. True if it handed over."""
    broadcast, pace = run.broadcast, Pace(uow, run.phone)
    run_seconds, _, claim_lease = timing(uow.settings)
    size, deadline = chunk_size(run.phone.throughput_mps), time.monotonic() + run_seconds
    async with account_lanes(uow.runtime, run.account, LANES) as clients:
        on_the_wire: deque[asyncio.Task[list[Answer]]] = deque()
        stopped = False
        attempts = await _next_chunk(uow, run, size, claim_lease)
        while attempts is not None:
            on_the_wire.append(asyncio.create_task(send_all(clients, run, pace, attempts)))
            if len(on_the_wire) >= DEPTH:
                stopped = await _record(uow, broadcast, await on_the_wire.popleft(), run)
            attempts = (await _next_chunk(uow, run, size, claim_lease)
                        if not stopped and time.monotonic() < deadline else None)
        handed_over = not stopped and bool(on_the_wire) and await _hand_over(uow, broadcast)
        while on_the_wire:
            await _record(uow, broadcast, await on_the_wire.popleft(), run)
    return handed_over


async def _hand_over(uow: UnitOfWork, broadcast: Broadcast) -> bool:
    """The run's time is up and recipients are still due: release the broadcast and enqueue the successor now, so
    it claims and sends while this run records its last chunks' answers, and the number's bucket is not left idle
    between runs. (With nothing due, the run ends as usual and `_finish_run` decides.) True if handed over."""
    await uow.session.refresh(broadcast, ["status"])
    if broadcast.status != s.SENDING or not await claims.due_ids(uow.session, broadcast, uow.clock.now(), 1):
        await uow.release()  # no transaction (on SQLite, the write lock) held while the last answers come back
        return False
    await uow.session.execute(update(Broadcast).where(Broadcast.id == broadcast.id)  # the attribute may be stale:
                              .values(dispatch_lease_until=None)  # _take_lease set the lease without the ORM
                              .execution_options(synchronize_session=False))
    enqueue_dispatch(uow, broadcast)
    await uow.release()
    return True


async def _record(uow: UnitOfWork, broadcast: Broadcast, answers: list[Answer], run: Run) -> bool:
    """Records a chunk's answers (committed); True if the broadcast must stop (paused by an answer)."""
    if not answers:
        return False
    stop = await record_answers(uow, broadcast, answers, uow.clock.now(), run.confirm_after)
    if stop is not None:
        await pause_broadcast(uow, broadcast, stop.reason, stop.detail)
    progressed(uow, broadcast.organization_id, broadcast.id, broadcast.status)
    await uow.release()
    return stop is not None


async def _finish_run(uow: UnitOfWork, broadcast: Broadcast) -> None:
    now = uow.clock.now()
    await uow.session.refresh(broadcast)
    broadcast.dispatch_lease_until = None
    if broadcast.status != s.SENDING:
        return
    left, earliest = await claims.open_count(uow.session, broadcast)
    if left == 0:
        broadcast.status, broadcast.finished_at = s.COMPLETED, now
        progressed(uow, broadcast.organization_id, broadcast.id, broadcast.status, force=True)
        return
    enqueue_dispatch(uow, broadcast, max(now, earliest) if earliest else now + timedelta(seconds=5))
