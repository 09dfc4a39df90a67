"""Backoffice pages for platform staff: separate sign-in, cookie and layout from the tenant dashboard.

Mounted under the CSRF-checked dashboard router (softdukan.web), so every POST here needs the form token.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from softdukan.backoffice.models import StaffUser
from softdukan.backoffice.service import STAFF_SESSION_TTL, STATUS_FILTERS, StaffSignedIn, staff_service
from softdukan.dashboard.context import RedirectTo
from softdukan.dashboard.render import render
from softdukan.platform.deps import UoW, client_ip
from softdukan.platform.errors import DomainError, Invalid

router = APIRouter(prefix="/backoffice", include_in_schema=False)

STAFF_COOKIE = "sd_staff"
# Only sent to /backoffice: the tenant dashboard and API never see the staff token.
COOKIE_PATH = "/backoffice"
SIGN_IN = "/backoffice/sign-in"
# ids above this overflow the database's integer; reject them as bad input rather than fail in the driver
RowId = Annotated[int, Path(ge=1, le=2**63 - 1)]
Text = Annotated[str, Form()]
DONE_MESSAGES = {"suspended": "The organization is suspended; its members were signed out.",
                 "unsuspended": "The organization is active again.",
                 "retried": "The job is queued again."}
STATUS_LABELS = {"trialing": "Trialing", "active": "Active", "past_due": "Past due", "canceled": "Canceled",
                 "trial_expired": "Trial expired", "trial_canceled": "Trial canceled", "no_trial": "No trial",
                 "none": "No subscription"}
assert set(STATUS_LABELS) == set(STATUS_FILTERS)


async def current_staff(request: Request, uow: UoW) -> StaffUser:
    """A tenant's sd_session cookie is never looked at here: only a staff session opens these pages."""
    token = request.cookies.get(STAFF_COOKIE)
    staff = await staff_service.session_for(uow, token) if token and len(token) <= 200 else None
    if staff is None:
        raise RedirectTo(SIGN_IN)
    return staff


Staff = Annotated[StaffUser, Depends(current_staff)]


def _start_staff_session(request: Request, response: Response, signed: StaffSignedIn) -> Response:
    response.set_cookie(STAFF_COOKIE, signed.token, httponly=True, samesite="strict",
                        secure=request.app.state.settings.cookie_secure,
                        max_age=int(STAFF_SESSION_TTL.total_seconds()), path=COOKIE_PATH)
    return response


def _error_page(request: Request, staff_name: str, exc: DomainError, back: str) -> Response:
    return render(request, "backoffice/error.html",
                  {"staff_name": staff_name, "status": exc.status, "message": exc.message, "back": back},
                  status_code=exc.status, headers=exc.headers)


@router.get("/sign-in", response_class=HTMLResponse)
async def sign_in_page(request: Request, uow: UoW) -> Response:
    token = request.cookies.get(STAFF_COOKIE)
    if token and len(token) <= 200 and await staff_service.session_for(uow, token):
        return RedirectResponse("/backoffice", status_code=303)
    return render(request, "backoffice/sign_in.html", {"values": {}})


@router.post("/sign-in", response_class=HTMLResponse)
async def sign_in(request: Request, uow: UoW, email: Text = "", password: Text = "") -> Response:
    try:
        signed = await staff_service.sign_in(uow, email=email, password=password, ip=client_ip(request),
                                             replaces=request.cookies.get(STAFF_COOKIE))
    except DomainError as exc:
        # nothing was written but the limiter's count, which must survive
        return render(request, "backoffice/sign_in.html", {"values": {"email": email}, "error": exc.message},
                      status_code=exc.status, headers=exc.headers)
    return _start_staff_session(request, RedirectResponse("/backoffice", status_code=303), signed)


@router.post("/sign-out")
async def sign_out(request: Request, uow: UoW) -> Response:
    token = request.cookies.get(STAFF_COOKIE)
    if token:
        await staff_service.sign_out(uow, token)
    response = RedirectResponse(SIGN_IN, status_code=303)
    response.delete_cookie(STAFF_COOKIE, path=COOKIE_PATH)
    return response


def _list_context(rows: list[Any], q: str = "", status: str = "") -> dict[str, Any]:
    return {"rows": rows, "q": q, "status": status if status in STATUS_LABELS else "", "statuses": STATUS_LABELS}


@router.get("", response_class=HTMLResponse)
async def organizations(request: Request, uow: UoW, staff: Staff, q: Annotated[str, Query(max_length=100)] = "",
                        status: Annotated[str, Query(max_length=30)] = "", done: str = "") -> Response:
    rows = await staff_service.list_organizations(uow, q, status)
    return render(request, "backoffice/organizations.html",
                  {"staff_name": staff.name, **_list_context(rows, q, status), "flash": DONE_MESSAGES.get(done)})


@router.post("/organizations/{org_id}/suspend", response_class=HTMLResponse)
async def suspend(request: Request, uow: UoW, staff: Staff, org_id: RowId, reason: Text = "") -> Response:
    staff_name = staff.name  # read now: the rollback below expires every loaded row
    try:
        await staff_service.suspend(uow, staff, org_id, reason=reason, ip=client_ip(request))
    except DomainError as exc:
        await uow.rollback()
        if isinstance(exc, Invalid):  # show the list again with the message where the form was
            rows = await staff_service.list_organizations(uow)
            return render(request, "backoffice/organizations.html",
                          {"staff_name": staff_name, **_list_context(rows), "error": exc.message,
                           "error_org_id": org_id}, status_code=exc.status)
        return _error_page(request, staff_name, exc, "/backoffice")
    return RedirectResponse("/backoffice?done=suspended", status_code=303)


@router.post("/organizations/{org_id}/unsuspend", response_class=HTMLResponse)
async def unsuspend(request: Request, uow: UoW, staff: Staff, org_id: RowId) -> Response:
    staff_name = staff.name
    try:
        await staff_service.unsuspend(uow, staff, org_id, ip=client_ip(request))
    except DomainError as exc:
        await uow.rollback()
        return _error_page(request, staff_name, exc, "/backoffice")
    return RedirectResponse("/backoffice?done=unsuspended", status_code=303)


@router.get("/jobs", response_class=HTMLResponse)
async def failed_jobs(request: Request, uow: UoW, staff: Staff, done: str = "") -> Response:
    rows = await staff_service.list_failed_jobs(uow)
    return render(request, "backoffice/jobs.html",
                  {"staff_name": staff.name, "rows": rows, "flash": DONE_MESSAGES.get(done)})


@router.post("/jobs/{job_id}/retry", response_class=HTMLResponse)
async def retry_job(request: Request, uow: UoW, staff: Staff, job_id: RowId) -> Response:
    staff_name = staff.name
    try:
        await staff_service.retry_job(uow, staff, job_id, ip=client_ip(request))
    except DomainError as exc:
        await uow.rollback()
        return _error_page(request, staff_name, exc, "/backoffice/jobs")
    return RedirectResponse("/backoffice/jobs?done=retried", status_code=303)
