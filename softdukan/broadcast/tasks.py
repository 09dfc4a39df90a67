"""Broadcast jobs: the scheduled start, the dispatcher (broadcast/dispatch.py), and a watchdog that restarts a
sending broadcast whose dispatcher chain broke (its job died after all its attempts)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

import softdukan.broadcast.dispatch  # noqa: F401  registers broadcast.dispatch
from softdukan.broadcast import states as s
from softdukan.broadcast.dispatch import DISPATCH_TASK, enqueue_dispatch
from softdukan.broadcast.events import progressed
from softdukan.broadcast.models import Broadcast
from softdukan.broadcast.service import START_TASK
from softdukan.platform.jobs.models import QUEUED, RUNNING, Job
from softdukan.platform.jobs.registry import periodic, task
from softdukan.platform.uow import UnitOfWork


@task(START_TASK, max_attempts=10)
async def start(uow: UnitOfWork, org_id: int, broadcast_id: int) -> None:
    broadcast = await uow.session.scalar(select(Broadcast).where(Broadcast.organization_id == org_id,
                                                                 Broadcast.id == broadcast_id))
    now = uow.clock.now()
    if broadcast is None or broadcast.status != s.SCHEDULED or broadcast.scheduled_at is None:
        return  # paused, cancelled or sent meanwhile
    if broadcast.scheduled_at > now + timedelta(seconds=1):
        return  # rescheduled later: that time's own job starts it
    broadcast.status, broadcast.launched_at = s.SENDING, now
    enqueue_dispatch(uow, broadcast)
    progressed(uow, broadcast.organization_id, broadcast.id, broadcast.status, force=True)


@periodic("broadcast.watchdog", every=timedelta(minutes=1))
async def watchdog(uow: UnitOfWork) -> None:
    now = uow.clock.now()
    stale = (await uow.session.execute(select(Broadcast).where(
        Broadcast.status == s.SENDING,
        (Broadcast.dispatch_lease_until.is_(None)) | (Broadcast.dispatch_lease_until < now - timedelta(minutes=1)))
    )).scalars().all()
    for broadcast in stale:
        live = await uow.session.scalar(select(Job.id).where(
            Job.name == DISPATCH_TASK, Job.status.in_([QUEUED, RUNNING]),
            Job.organization_id == broadcast.organization_id,
            Job.args["broadcast_id"].as_integer() == broadcast.id).limit(1))
        if live is None:
            enqueue_dispatch(uow, broadcast)
