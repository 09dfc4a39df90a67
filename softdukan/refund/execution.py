"""Paying an approved refund back to the original payment (billing reference §3, "Execution"; RBI: refunds go to
the source) and recording what Razorpay says of it.

`payout` asks Razorpay to refund the payment with `X-Refund-Idempotency: softdukan-refund-{id}-{attempt}`, with no
database transaction open during the call. It runs right after staff approve (the approval committed first) and
again from the `refund.execute` job, which the approval queued: after a crash between the call and the commit, the
retry gets the same refund back from Razorpay, never a second one.

Razorpay answers with the refund, and later with `refund.processed` or `refund.failed` webhooks (duplicated,
possibly before our own call returns). Whichever arrives first settles the request; each step is a guarded state
change plus keyed ledger postings and a credit note keyed by the request, so a second arrival changes nothing:
- processed: the request is refunded, the ledger moves clearing:refunds → clearing:razorpay, a GST credit note is
  issued against the payment's invoice, and the customer is e-mailed its number;
- failed (or refused by Razorpay): the request is failed with the reason, the approval posting is reversed (the
  wallet credit comes back), and staff may retry.
"""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy import select, update

from softdukan.billing.service import billing_service
from softdukan.kit.money import paise as rupees
from softdukan.payments.entities import RazorpayEvent, Refund
from softdukan.payments.errors import PaymentGatewayError, RazorpayError
from softdukan.payments.handlers import on_razorpay
from softdukan.platform.jobs.registry import task
from softdukan.platform.uow import UnitOfWork
from softdukan.refund.decision import EXECUTE_TASK
from softdukan.refund.models import APPROVED, FAILED, PROCESSING, REFUNDED, RefundRequest
from softdukan.refund.postings import post_processed, reverse_approval
from softdukan.refund.service import add_event, tell_requester, version_now

log = structlog.get_logger(__name__)
GATEWAY = "Razorpay"


def idempotency_key(request: RefundRequest) -> str:
    return f"softdukan-refund-{request.id}-{request.attempt}"


async def _request(uow: UnitOfWork, request_id: int) -> RefundRequest | None:
    return await uow.session.scalar(select(RefundRequest).where(RefundRequest.id == request_id)
                                    .execution_options(populate_existing=True))


async def payout(uow: UnitOfWork, request_id: int, *, app: Any | None = None, attempt: int | None = None) -> str:
    """Refunds an approved request's amount to its payment; what happened, in a word. Gateway trouble that a
    retry can cure propagates (the job retries); a refusal fails the request."""
    from softdukan.wallet.recharge import client_for

    request = await _request(uow, request_id)
    if request is None or request.state != APPROVED or (attempt is not None and attempt != request.attempt):
        return "nothing to do"
    payment_id, amount, key = request.payment_id, int(request.approved_paise or 0), idempotency_key(request)
    notes = {"refund_request_id": str(request.id), "attempt": str(request.attempt),
             "organization_id": str(request.organization_id)}
    await uow.release()  # no transaction open while Razorpay is asked
    try:
        async with client_for(uow.settings, app) as client:
            refund = await client.refund(payment_id, amount=amount, receipt=f"refund_{request_id}", notes=notes,
                                         idempotency_key=key)
    except RazorpayError as exc:
        if exc.retryable:
            raise
        await fail(uow, request_id, f"{GATEWAY} refused the refund: {exc.description}"[:500], key=f"{key}:refused")
        return "refused"
    await record(uow, request_id, refund)
    return refund.status


async def record(uow: UnitOfWork, request_id: int, refund: Refund) -> None:
    """What Razorpay says of the refund (from our call or a webhook), applied once."""
    request = await _request(uow, request_id)
    if request is None:
        return
    if refund.payment_id and refund.payment_id != request.payment_id:
        log.error("refund_payment_mismatch", request_id=request_id, refund=refund.id, payment=refund.payment_id)
        return
    attempt = (refund.notes or {}).get("attempt", "")
    if attempt.isdigit() and int(attempt) != request.attempt:
        log.info("refund_of_an_earlier_attempt", request_id=request_id, refund=refund.id, attempt=attempt)
        return  # e.g. a late duplicate of the failed first payout, after staff retried
    if request.razorpay_refund_id is None and request.state == APPROVED:
        claimed = await uow.session.execute(update(RefundRequest).where(
            RefundRequest.id == request_id, RefundRequest.state == APPROVED).values(
            state=PROCESSING, razorpay_refund_id=refund.id, updated_at=uow.clock.now())
            .execution_options(synchronize_session=False))
        request = await _request(uow, request_id)
        assert request is not None
        if claimed.rowcount == 1:  # type: ignore[attr-defined]  # (another arrival may have claimed it first)
            add_event(uow, request, PROCESSING, note=f"{GATEWAY} refund {refund.id} created.", actor=GATEWAY,
                      policy_version=request.decision_policy_version or request.policy_version)
    if request.razorpay_refund_id != refund.id:
        log.warning("refund_not_this_attempt", request_id=request_id, refund=refund.id,
                    expected=request.razorpay_refund_id)
        return
    if refund.status == "processed":
        await _processed(uow, request, refund)
    elif refund.status == "failed":
        await fail(uow, request.id, f"{GATEWAY} could not pay refund {refund.id} out.",
                   key=f"rzp:rfnd:{refund.id}:failed")
    await uow.flush()


async def _processed(uow: UnitOfWork, request: RefundRequest, refund: Refund) -> None:
    if refund.amount != request.approved_paise:
        raise RuntimeError(f"refund {refund.id} is for {refund.amount} paise; request {request.id} approved "
                           f"{request.approved_paise}")
    now = uow.clock.now()
    claimed = await uow.session.execute(update(RefundRequest).where(
        RefundRequest.id == request.id, RefundRequest.state.in_((APPROVED, PROCESSING))).values(
        state=REFUNDED, refunded_at=now, updated_at=now).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return  # settled by an earlier arrival
    await post_processed(uow, request, refund.id, refund.amount)
    from softdukan.refund.decision import invoice_of

    note = await billing_service.issue_credit_note(
        uow, await invoice_of(uow, request), taxable_paise=int(request.approved_taxable_paise or 0),
        reason=f"Refund {refund.id} (refund request {request.id})", source="refund_request",
        source_id=str(request.id))
    request.credit_note_id = note.id
    version = request.decision_policy_version or request.policy_version
    add_event(uow, request, REFUNDED, note=f"₹{rupees(refund.amount)} refunded to payment {request.payment_id} "
              f"({GATEWAY} refund {refund.id}); credit note {note.number}.", actor=GATEWAY,
              policy_version=version, amount_paise=refund.amount)
    await uow.flush()
    await tell_requester(uow, request, "refunded", f"₹{rupees(refund.amount)} was refunded to the payment "
                         f"{request.payment_id}; banks take 5–7 working days to show it. Credit note {note.number} "
                         "is in Billing → Invoices.")


async def fail(uow: UnitOfWork, request_id: int, reason: str, *, key: str) -> None:
    claimed = await uow.session.execute(update(RefundRequest).where(
        RefundRequest.id == request_id, RefundRequest.state.in_((APPROVED, PROCESSING))).values(
        state=FAILED, failure=reason[:500], updated_at=uow.clock.now()).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return
    request = await _request(uow, request_id)
    assert request is not None
    await reverse_approval(uow, request, key)
    add_event(uow, request, FAILED, note=f"{reason} Nothing was paid out; the ledger entry is reversed.",
              actor=GATEWAY, policy_version=await version_now(uow))
    await uow.flush()
    await tell_requester(uow, request, "refund failed", f"{reason} SoftDukan's staff will retry it.")


def _request_id(refund: Refund) -> int | None:
    value = (refund.notes or {}).get("refund_request_id", "")
    return int(value) if value.isdigit() else None


@on_razorpay("refund.processed")
@on_razorpay("refund.failed")
async def on_refund(uow: UnitOfWork, event: RazorpayEvent) -> None:
    """A refund we asked for (its notes name our request; refunds made elsewhere, and Razorpay's automatic refunds
    of uncaptured payments, are not ours)."""
    refund = event.refund
    if refund is None:
        return
    request_id = _request_id(refund)
    if request_id is None:
        request_id = await uow.session.scalar(select(RefundRequest.id).where(
            RefundRequest.razorpay_refund_id == refund.id))
    if request_id is None:
        log.info("razorpay_refund_ignored", event_id=event.event_id, refund=refund.id)
        return
    await record(uow, request_id, refund)


@task(EXECUTE_TASK, max_attempts=8)
async def execute(uow: UnitOfWork, request_id: int, attempt: int) -> None:
    """The approval's payout, if the staff page's own call did not get through (or the process died during it)."""
    try:
        await payout(uow, request_id, attempt=attempt)
    except PaymentGatewayError as exc:
        log.warning("refund_payout_retry", request_id=request_id, error=str(exc))
        raise
