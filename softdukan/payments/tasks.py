"""The processing job: one per stored Razorpay event. Parses it, runs its handlers, marks it processed."""

from __future__ import annotations

import traceback

import orjson
import structlog
from sqlalchemy import update

from softdukan.payments.entities import EntityError, RazorpayEvent
from softdukan.payments.handlers import handlers_for
from softdukan.payments.intake import PROCESS_TASK
from softdukan.payments.models import PaymentEvent
from softdukan.platform.jobs.registry import task
from softdukan.platform.uow import UnitOfWork

log = structlog.get_logger(__name__)


@task(PROCESS_TASK, max_attempts=8)
async def process_razorpay_event(uow: UnitOfWork, event_pk: int) -> None:
    row = await uow.session.get(PaymentEvent, event_pk)
    if row is None or row.processed_at is not None:
        return  # processed by an earlier attempt
    try:
        event = RazorpayEvent.parse(row.event_id, orjson.loads(row.raw_body))
    except (EntityError, orjson.JSONDecodeError) as exc:
        # signed by Razorpay but not shaped as we know it: retrying cannot help; kept for staff with the reason
        row.processed_at, row.error, row.attempts = uow.clock.now(), f"unparsable: {exc}"[:2000], row.attempts + 1
        log.warning("razorpay_event_unparsable", event_id=row.event_id, error=str(exc))
        return
    try:
        for handler in handlers_for(event.event):
            await handler(uow, event)
    except Exception as exc:
        # the handlers' partial work rolls back; the failure is kept on the event, then the job system retries
        await uow.rollback()
        await uow.session.execute(update(PaymentEvent).where(PaymentEvent.id == event_pk).values(
            attempts=PaymentEvent.attempts + 1, error="".join(traceback.format_exception(exc))[-4000:]))
        await uow.commit()
        log.warning("razorpay_event_failed", event_id=event.event_id, event=event.event, error=repr(exc))
        raise
    row.processed_at, row.error, row.attempts = uow.clock.now(), None, row.attempts + 1
