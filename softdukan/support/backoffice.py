"""Staff pages for support tickets (under /backoffice/tickets, staff sign-in): the queue with filters, each ticket
with its organization and conversation, replying, changing the status, and verifying a technical issue with its
period and impact (refund policy clause 4). Each staff action is in the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from softdukan.backoffice.models import StaffUser
from softdukan.backoffice.views import RowId, Staff, Text, current_staff
from softdukan.dashboard.render import render
from softdukan.platform.deps import UoW, client_ip
from softdukan.platform.errors import DomainError, Invalid, NotFound
from softdukan.platform.uow import UnitOfWork
from softdukan.support.models import BODY_MAX, CATEGORIES, IMPACT_MAX, STATUSES
from softdukan.support.repository import RecipientRepository
from softdukan.support.service import ticket_service

router = APIRouter(prefix="/backoffice/tickets", include_in_schema=False)
BACK = "/backoffice/tickets"
DONE = {"replied": "Your reply is sent; the customer is told by e-mail.", "status": "The status is changed.",
        "verified": "The technical issue is verified; the customer is told by e-mail."}
Filter = Annotated[str, Query(max_length=100)]
DATETIME_FORMAT = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends


def parse_local(name: str, text: str, timezone: str) -> datetime | None:
    """'2026-11-20T09:30' in the organization's timezone → an aware UTC datetime; '' → None."""
    text = text.strip()
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text[:25])
    except ValueError:
        raise Invalid("invalid_date", f"'{text[:25]}' is not a date and time (YYYY-MM-DD HH:MM).",
                      {name: "A date and time, e.g. 2026-11-20 09:30."}) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(timezone))
    return value.astimezone(ZoneInfo("UTC"))


@router.get("", response_class=HTMLResponse)
async def queue(request: Request, uow: UoW, staff: Staff, status: Filter = "", category: Filter = "",
                organization: Filter = "") -> Response:
    rows = await ticket_service.queue(uow, staff, status=status, category=category, organization=organization)
    return render(request, "support/backoffice_queue.html",
                  {"staff_name": staff.name, "rows": rows, "statuses": STATUSES, "categories": CATEGORIES,
                   "filters": {"status": status, "category": category, "organization": organization}})


async def _ticket_page(request: Request, uow: UnitOfWork, staff_name: str, ticket_id: int, *,
                       status_code: int = 200, **context: Any) -> Response:
    staff = await _staff_again(request, uow)
    try:
        ticket = await ticket_service.for_staff(uow, staff, ticket_id)
    except NotFound as exc:
        return render(request, "backoffice/error.html", {"staff_name": staff_name, "status": exc.status,
                                                         "message": exc.message, "back": BACK},
                      status_code=exc.status)
    recipients = RecipientRepository(uow.session)
    organization = await recipients.organization(ticket.organization_id)
    timezone = organization.timezone if organization else "Asia/Kolkata"
    verified_by = await recipients.staff_name(ticket.verified_by_staff_id) if ticket.verified_by_staff_id else None
    ctx: dict[str, Any] = {
        "staff_name": staff_name, "ticket": ticket, "organization": organization, "tz": timezone,
        "messages": await ticket_service.staff_messages(uow, staff, ticket), "statuses": STATUSES,
        "categories": CATEGORIES, "body_max": BODY_MAX, "impact_max": IMPACT_MAX, "verified_by": verified_by,
        "errors": {}, "reply": "", "flash": None,
        "verification": {"issue_started_at": _local_input(ticket.issue_started_at, timezone),
                         "issue_ended_at": _local_input(ticket.issue_ended_at, timezone),
                         "impact": ticket.impact or ""}}
    ctx.update(context)
    return render(request, "support/backoffice_ticket.html", ctx, status_code=status_code)


def _local_input(value: datetime | None, timezone: str) -> str:
    return value.astimezone(ZoneInfo(timezone)).strftime(DATETIME_FORMAT) if value else ""


async def _staff_again(request: Request, uow: UnitOfWork) -> StaffUser:
    """The signed-in staff member, reloaded (a rollback expires the row the dependency loaded)."""
    return await current_staff(request, uow)


@router.get("/{ticket_id}", response_class=HTMLResponse)
async def ticket_page(request: Request, uow: UoW, staff: Staff, ticket_id: RowId, done: str = "") -> Response:
    return await _ticket_page(request, uow, staff.name, ticket_id, flash=DONE.get(done))


@router.post("/{ticket_id}/reply", response_class=HTMLResponse)
async def reply(request: Request, uow: UoW, staff: Staff, ticket_id: RowId, body: Text = "") -> Response:
    staff_name = staff.name  # read now: a rollback expires every loaded row
    try:
        await ticket_service.staff_reply(uow, staff, ticket_id, body, ip=client_ip(request))
    except DomainError as exc:
        await uow.rollback()
        details = exc.details if isinstance(exc.details, dict) else {}
        return await _ticket_page(request, uow, staff_name, ticket_id, status_code=exc.status, error=exc.message,
                                  errors={k: str(v) for k, v in details.items()}, reply=body[:BODY_MAX * 2])
    return RedirectResponse(f"{BACK}/{ticket_id}?done=replied", status_code=303)


@router.post("/{ticket_id}/status", response_class=HTMLResponse)
async def set_status(request: Request, uow: UoW, staff: Staff, ticket_id: RowId, status: Text = "") -> Response:
    staff_name = staff.name
    try:
        await ticket_service.set_status(uow, staff, ticket_id, status[:40], ip=client_ip(request))
    except DomainError as exc:
        await uow.rollback()
        return await _ticket_page(request, uow, staff_name, ticket_id, status_code=exc.status, error=exc.message)
    return RedirectResponse(f"{BACK}/{ticket_id}?done=status", status_code=303)


@router.post("/{ticket_id}/verify", response_class=HTMLResponse)
async def verify(request: Request, uow: UoW, staff: Staff, ticket_id: RowId, issue_started_at: Text = "",
                 issue_ended_at: Text = "", impact: Text = "") -> Response:
    staff_name = staff.name
    values = {"issue_started_at": issue_started_at[:40], "issue_ended_at": issue_ended_at[:40],
              "impact": impact[:IMPACT_MAX * 2]}
    try:
        ticket = await ticket_service.for_staff(uow, staff, ticket_id)
        organization = await RecipientRepository(uow.session).organization(ticket.organization_id)
        timezone = organization.timezone if organization else "Asia/Kolkata"
        await ticket_service.verify(uow, staff, ticket_id,
                                    started_at=parse_local("issue_started_at", issue_started_at, timezone),
                                    ended_at=parse_local("issue_ended_at", issue_ended_at, timezone),
                                    impact=impact, ip=client_ip(request))
    except DomainError as exc:
        await uow.rollback()
        details = exc.details if isinstance(exc.details, dict) else {}
        return await _ticket_page(request, uow, staff_name, ticket_id, status_code=exc.status, error=exc.message,
                                  errors={k: str(v) for k, v in details.items()}, verification=values)
    return RedirectResponse(f"{BACK}/{ticket_id}?done=verified", status_code=303)
