"""Staff page: inbound events that failed routing, with a retry button (under /backoffice, staff sign-in)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from softdukan.audit.service import audit_service
from softdukan.backoffice.views import RowId, Staff, _error_page
from softdukan.dashboard.render import render
from softdukan.inbound.ingest import ROUTE_TASK
from softdukan.inbound.repository import InboundEventRepository
from softdukan.platform.deps import UoW, client_ip
from softdukan.platform.errors import DomainError, NotFound

router = APIRouter(prefix="/backoffice/inbound", include_in_schema=False)
BACK = "/backoffice/inbound"


@router.get("", response_class=HTMLResponse)
async def failed_events(request: Request, uow: UoW, staff: Staff, done: str = "") -> Response:
    rows = await InboundEventRepository(uow.session).failed()
    return render(request, "inbound/failed_events.html",
                  {"staff_name": staff.name, "rows": rows,
                   "flash": "The event is queued for routing again." if done == "retried" else None})


@router.post("/{event_id}/retry", response_class=HTMLResponse)
async def retry_event(request: Request, uow: UoW, staff: Staff, event_id: RowId) -> Response:
    staff_name, staff_id, staff_email = staff.name, staff.id, staff.email
    events = InboundEventRepository(uow.session)
    try:
        event = await events.by_id(event_id)
        if event is None or not await events.reset_for_retry(event_id):  # the guarded UPDATE decides
            raise NotFound("inbound_event_not_failed", "This event is not in the failed list any more.")
        uow.enqueue(ROUTE_TASK, organization_id=event.organization_id, event_id=event_id)
        audit_service.record(uow, "inbound_event.retried", organization_id=event.organization_id,
                             actor_type="staff", actor_id=staff_id, actor_label=staff_email, target=event,
                             target_label=event.dedupe_key[:100], ip=client_ip(request))
    except DomainError as exc:
        await uow.rollback()
        return _error_page(request, staff_name, exc, BACK)
    return RedirectResponse(f"{BACK}?done=retried", status_code=303)
