"""The routing job: one per stored inbound event."""

from __future__ import annotations

import traceback

import structlog

from softdukan.inbound import models as m
from softdukan.inbound.repository import InboundEventRepository
from softdukan.inbound.routing import route_event
from softdukan.platform.jobs.registry import task
from softdukan.platform.uow import UnitOfWork

log = structlog.get_logger(__name__)


@task("inbound.route", max_attempts=8)
async def route(uow: UnitOfWork, event_id: int) -> None:
    events = InboundEventRepository(uow.session)
    event = await events.by_id(event_id)
    if event is None or event.state == m.ROUTED:
        return  # routed by an earlier attempt (or a staff retry of the same event)
    try:
        note = await route_event(uow, event)
    except Exception as exc:
        # the routing's partial work rolls back; the failure is kept on the event, then the job system retries
        await uow.rollback()
        await events.record_failure(event_id, "".join(traceback.format_exception(exc)), uow.clock.now())
        await uow.commit()
        log.warning("inbound_route_failed", event_id=event_id, error=repr(exc))
        raise
    event.state, event.routed_at, event.note = m.ROUTED, uow.clock.now(), note[:300]
    event.attempts += 1
    event.last_error = None
