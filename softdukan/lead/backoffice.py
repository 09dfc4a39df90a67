"""Staff pages for demo requests and contact messages: the list (new ones first), one request with its notes,
marking it contacted / scheduled (with a date and time, India time) / done / spam. Each change is audited."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from softdukan.auth.views import form_errors
from softdukan.backoffice.views import RowId, Staff, Text
from softdukan.dashboard.render import render
from softdukan.lead.models import STATUSES
from softdukan.lead.service import lead_service
from softdukan.platform.deps import UoW, client_ip
from softdukan.platform.errors import DomainError, Invalid, NotFound
from softdukan.platform.uow import UnitOfWork

router = APIRouter(prefix="/backoffice/leads", include_in_schema=False)
BACK = "/backoffice/leads"
INDIA = ZoneInfo("Asia/Kolkata")
DONE = {"status": "The request is updated.", "note": "The note is added."}


def _when(text: str) -> datetime | None:
    """'2026-12-05T15:30' (a datetime-local field, India time) → UTC."""
    if not text.strip():
        return None
    try:
        value = datetime.fromisoformat(text.strip()[:19])
        return (value if value.tzinfo else value.replace(tzinfo=INDIA)).astimezone(UTC)
    except (ValueError, OverflowError):  # not a date, or year 1 in India is before UTC's year 1
        raise Invalid("invalid_time", f"'{text[:20]}' is not a date and time (YYYY-MM-DDTHH:MM).",
                      {"scheduled_for": "Date and time."}) from None


async def _lead_page(request: Request, uow: UnitOfWork, staff_name: str, lead_id: int, *, status_code: int = 200,
                     **context: Any) -> Response:
    try:
        lead = await lead_service.get(uow, lead_id)
    except NotFound as exc:
        return render(request, "backoffice/error.html", {"staff_name": staff_name, "status": exc.status,
                                                         "message": exc.message, "back": BACK}, status_code=404)
    ctx: dict[str, Any] = {"staff_name": staff_name, "lead": lead, "notes": await lead_service.notes(uow, lead_id),
                           "statuses": STATUSES, "errors": {}, "values": {}}
    ctx.update(context)
    return render(request, "lead/backoffice_lead.html", ctx, status_code=status_code)


@router.get("", response_class=HTMLResponse)
async def leads(request: Request, uow: UoW, staff: Staff,
                status: str = Query(default="", max_length=12)) -> Response:
    return render(request, "lead/backoffice_list.html", {
        "staff_name": staff.name, "rows": await lead_service.listing(uow, status or None),
        "counts": await lead_service.counts(uow), "status": status if status in STATUSES else "",
        "statuses": STATUSES})


@router.get("/{lead_id}", response_class=HTMLResponse)
async def lead_page(request: Request, uow: UoW, staff: Staff, lead_id: RowId, done: str = "") -> Response:
    return await _lead_page(request, uow, staff.name, lead_id, flash=DONE.get(done))


@router.post("/{lead_id}/status", response_class=HTMLResponse)
async def set_status(request: Request, uow: UoW, staff: Staff, lead_id: RowId, status: Text = "",
                     scheduled_for: Text = "") -> Response:
    staff_name = staff.name  # read now: a rollback expires loaded rows
    try:
        await lead_service.set_status(uow, staff, lead_id, status[:20], scheduled_for=_when(scheduled_for[:40]),
                                      ip=client_ip(request))
    except DomainError as exc:
        await uow.rollback()
        error, errors = form_errors(exc)
        return await _lead_page(request, uow, staff_name, lead_id, status_code=exc.status, error=error,
                                errors=errors, values={"status": status[:20], "scheduled_for": scheduled_for[:40]})
    return RedirectResponse(f"{BACK}/{lead_id}?done=status", status_code=303)


@router.post("/{lead_id}/notes", response_class=HTMLResponse)
async def add_note(request: Request, uow: UoW, staff: Staff, lead_id: RowId, text: Text = "") -> Response:
    staff_name = staff.name
    try:
        await lead_service.add_note(uow, staff, lead_id, text, ip=client_ip(request))
    except DomainError as exc:
        await uow.rollback()
        error, errors = form_errors(exc)
        return await _lead_page(request, uow, staff_name, lead_id, status_code=exc.status, error=error,
                                errors=errors, values={"text": text[:5000]})
    return RedirectResponse(f"{BACK}/{lead_id}?done=note", status_code=303)
