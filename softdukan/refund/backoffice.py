"""Staff pages for refund requests (under /backoffice/refunds, staff sign-in): the queue with the policy engine's
reasoning, each request with what is still refundable, and the decisions — approve all or part, reject with a
note, ask for information, retry a failed payout. Requests e-mailed to support are recorded here, typed in or
read from the `.eml` file. Every decision is audited and e-mailed to the requester."""

from __future__ import annotations

from typing import Annotated, Any

import structlog
from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from softdukan.backoffice.views import RowId, Staff, Text, current_staff
from softdukan.billing.models import BillingDocument
from softdukan.dashboard.render import render
from softdukan.kit.money import paise as rupees
from softdukan.organization.models import Organization
from softdukan.payments.errors import PaymentGatewayError
from softdukan.platform.deps import UoW, client_ip
from softdukan.platform.errors import DomainError
from softdukan.platform.uow import UnitOfWork
from softdukan.refund import decision, email_intake, execution
from softdukan.refund.models import OPEN, STATES, RefundEvent, RefundRequest
from softdukan.refund.service import record_emailed

log = structlog.get_logger(__name__)
router = APIRouter(prefix="/backoffice/refunds", include_in_schema=False)
BACK = "/backoffice/refunds"
DONE = {"approved": "Approved; the refund is on its way to the original payment.",
        "approved_later": "Approved. Razorpay did not answer just now; the payout is retried automatically.",
        "rejected": "Rejected; the customer is told by e-mail.", "asked": "The customer is asked by e-mail.",
        "retried": "The payout is sent again.", "recorded": "The e-mailed request is recorded."}
Filter = Annotated[str, Query(max_length=40)]


@router.get("", response_class=HTMLResponse)
async def queue(request: Request, uow: UoW, staff: Staff, state: Filter = "open") -> Response:
    states = OPEN if state == "open" else ((state,) if state in STATES else STATES)
    rows = (await uow.session.execute(
        select(RefundRequest, Organization.name).join(Organization, Organization.id == RefundRequest.organization_id)
        .where(RefundRequest.state.in_(states)).order_by(RefundRequest.id.desc()).limit(200))).all()
    return render(request, "refund/backoffice_queue.html", {"staff_name": staff.name, "rows": rows,
                                                            "state": state, "states": STATES, "rupees": rupees})


async def _page(request: Request, uow: UnitOfWork, request_id: int, *, status_code: int = 200,
                **context: Any) -> Response:
    staff = await current_staff(request, uow)
    found = await decision.for_staff(uow, request_id)
    organization = await uow.session.get(Organization, found.organization_id)
    events = list((await uow.session.execute(select(RefundEvent).where(RefundEvent.request_id == found.id)
                                             .order_by(RefundEvent.id))).scalars())
    limits, limits_error = None, None
    try:
        limits = await decision.refundable(uow, found)
    except DomainError as exc:
        limits_error = exc.message
    credit_note = await uow.session.get(BillingDocument, found.credit_note_id) if found.credit_note_id else None
    ctx = {"staff_name": staff.name, "r": found, "organization": organization, "events": events,
           "limits": limits, "limits_error": limits_error, "credit_note": credit_note, "rupees": rupees,
           "errors": {}, "values": {}}
    ctx.update(context)
    return render(request, "refund/backoffice_request.html", ctx, status_code=status_code)


@router.get("/record", response_class=HTMLResponse)
async def record_page(request: Request, staff: Staff) -> Response:
    return render(request, "refund/backoffice_record.html", {"staff_name": staff.name, "errors": {}, "values": {}})


def _record_error(request: Request, staff_name: str, exc: DomainError, values: dict[str, str]) -> Response:
    details = exc.details if isinstance(exc.details, dict) else {}
    return render(request, "refund/backoffice_record.html",
                  {"staff_name": staff_name, "error": exc.message, "values": values,
                   "errors": {k: str(v) for k, v in details.items()}}, status_code=exc.status)


@router.post("/record", response_class=HTMLResponse)
async def record(request: Request, uow: UoW, staff: Staff, organization_id: Text = "", requester_email: Text = "",
                 transaction_ref: Text = "", reason: Text = "") -> Response:
    staff_name = staff.name
    values = {"organization_id": organization_id[:20], "requester_email": requester_email[:254],
              "transaction_ref": transaction_ref[:40], "reason": reason[:2000]}
    try:
        org_id = email_intake.organization_id_of(values["organization_id"])
        created = await record_emailed(uow, org_id, requester_email=values["requester_email"],
                                       transaction_ref=values["transaction_ref"], reason=values["reason"],
                                       recorded_by=staff_name)
    except DomainError as exc:
        await uow.rollback()
        return _record_error(request, staff_name, exc, values)
    return RedirectResponse(f"{BACK}/{created.id}?done=recorded", status_code=303)


@router.post("/record-eml", response_class=HTMLResponse)
async def record_eml(request: Request, uow: UoW, staff: Staff,
                     eml: Annotated[UploadFile | None, File()] = None) -> Response:
    staff_name = staff.name
    data = await eml.read(email_intake.EML_MAX + 1) if eml is not None else b""
    try:
        created = await email_intake.ingest(uow, data, recorded_by=staff_name)
    except DomainError as exc:
        await uow.rollback()
        return _record_error(request, staff_name, exc, {})
    return RedirectResponse(f"{BACK}/{created.id}?done=recorded", status_code=303)


@router.get("/{request_id}", response_class=HTMLResponse)
async def request_page(request: Request, uow: UoW, staff: Staff, request_id: RowId, done: str = "") -> Response:
    return await _page(request, uow, request_id, flash=DONE.get(done))


async def _failed(request: Request, uow: UnitOfWork, request_id: int, exc: DomainError,
                  values: dict[str, str]) -> Response:
    await uow.rollback()
    details = exc.details if isinstance(exc.details, dict) else {}
    return await _page(request, uow, request_id, status_code=exc.status, error=exc.message, values=values,
                       errors={k: str(v) for k, v in details.items()})


async def _pay_out(request: Request, uow: UnitOfWork, request_id: int, done: str) -> Response:
    """Commits the decision, then asks Razorpay at once; if that does not get through, the queued job retries
    with the same idempotency key."""
    await uow.commit()
    try:
        await execution.payout(uow, request_id, app=request.app)
    except PaymentGatewayError as exc:
        log.warning("refund_payout_deferred", request_id=request_id, error=str(exc))
        done = "approved_later"
    return RedirectResponse(f"{BACK}/{request_id}?done={done}", status_code=303)


@router.post("/{request_id}/approve", response_class=HTMLResponse)
async def approve(request: Request, uow: UoW, staff: Staff, request_id: RowId, amount: Text = "",
                  note: Text = "") -> Response:
    values = {"amount": amount[:20], "note": note[:2000]}
    try:
        await decision.approve(uow, staff, request_id, values["amount"], values["note"], ip=client_ip(request))
    except DomainError as exc:
        return await _failed(request, uow, request_id, exc, values)
    return await _pay_out(request, uow, request_id, "approved")


@router.post("/{request_id}/reject", response_class=HTMLResponse)
async def reject(request: Request, uow: UoW, staff: Staff, request_id: RowId, note: Text = "") -> Response:
    try:
        await decision.reject(uow, staff, request_id, note, ip=client_ip(request))
    except DomainError as exc:
        return await _failed(request, uow, request_id, exc, {"reject_note": note[:2000]})
    return RedirectResponse(f"{BACK}/{request_id}?done=rejected", status_code=303)


@router.post("/{request_id}/ask", response_class=HTMLResponse)
async def ask(request: Request, uow: UoW, staff: Staff, request_id: RowId, note: Text = "") -> Response:
    try:
        await decision.ask_information(uow, staff, request_id, note, ip=client_ip(request))
    except DomainError as exc:
        return await _failed(request, uow, request_id, exc, {"ask_note": note[:2000]})
    return RedirectResponse(f"{BACK}/{request_id}?done=asked", status_code=303)


@router.post("/{request_id}/retry", response_class=HTMLResponse)
async def retry(request: Request, uow: UoW, staff: Staff, request_id: RowId) -> Response:
    try:
        await decision.retry(uow, staff, request_id, ip=client_ip(request))
    except DomainError as exc:
        return await _failed(request, uow, request_id, exc, {})
    return await _pay_out(request, uow, request_id, "retried")
