"""The staff page of one organization (under /backoffice/organizations, staff sign-in): its basics and owners, its
subscription with its history, plan orders, wallet top-ups and balance, support tickets and refund requests; and
extending its free trial, with a reason, in the audit log."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from softdukan.backoffice.service import staff_service
from softdukan.backoffice.views import STATUS_LABELS, RowId, Staff, Text
from softdukan.dashboard.render import render
from softdukan.kit.money import credits as credit_rupees
from softdukan.kit.money import paise as rupees
from softdukan.platform.deps import UoW, client_ip
from softdukan.platform.errors import DomainError, Invalid
from softdukan.platform.uow import UnitOfWork
from softdukan.subscription import service as subscriptions
from softdukan.subscription.models import TRIAL_EXPIRED, TRIALING

router = APIRouter(prefix="/backoffice/organizations", include_in_schema=False)
DONE = {"extended": "The free trial is extended; the organization's owners are told by e-mail."}


def _days(text: str) -> int:
    """The form's day count; anything but a small whole number is 0, which the service refuses with its message."""
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 3 else 0


def _error(request: Request, staff_name: str, exc: DomainError, back: str) -> Response:
    return render(request, "backoffice/error.html",
                  {"staff_name": staff_name, "status": exc.status, "message": exc.message, "back": back},
                  status_code=exc.status, headers=exc.headers)


async def _page(request: Request, uow: UnitOfWork, staff_name: str, org_id: int, *, status_code: int = 200,
                **context: Any) -> Response:
    try:
        detail = await staff_service.organization_detail(uow, org_id)
    except DomainError as exc:
        return _error(request, staff_name, exc, "/backoffice")
    sub = detail.subscription
    return render(request, "backoffice/organization.html", {
        "staff_name": staff_name, "d": detail, "org": detail.organization, "sub": sub,
        "tz": detail.organization.timezone, "statuses": STATUS_LABELS, "rupees": rupees,
        "credit_rupees": credit_rupees, "can_extend": sub is not None and sub.status in (TRIALING, TRIAL_EXPIRED),
        "extend_days": (subscriptions.EXTEND_DAYS_MIN, subscriptions.EXTEND_DAYS_MAX),
        "errors": {}, "values": {}, **context}, status_code=status_code)


@router.get("/{org_id}", response_class=HTMLResponse)
async def organization(request: Request, uow: UoW, staff: Staff, org_id: RowId, done: str = "") -> Response:
    return await _page(request, uow, staff.name, org_id, flash=DONE.get(done))


@router.post("/{org_id}/extend-trial", response_class=HTMLResponse)
async def extend_trial(request: Request, uow: UoW, staff: Staff, org_id: RowId, days: Text = "",
                       reason: Text = "") -> Response:
    staff_name = staff.name  # read now: the rollback below expires every loaded row
    try:
        await subscriptions.extend_trial(uow, org_id, _days(days), reason, staff, client_ip(request))
    except DomainError as exc:
        await uow.rollback()
        if isinstance(exc, Invalid):  # the page again, with the message at the form and what was typed
            return await _page(request, uow, staff_name, org_id, status_code=exc.status, error=exc.message,
                               errors=exc.details or {}, values={"days": days[:10], "reason": reason[:300]})
        return _error(request, staff_name, exc, f"/backoffice/organizations/{org_id}")
    return RedirectResponse(f"/backoffice/organizations/{org_id}?done=extended", status_code=303)
