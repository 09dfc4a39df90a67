"""Staff decide a request under review (policy clause 4): approve all or part of it, reject it with a note, or ask
the customer for more information; and retry a payout Razorpay failed.

An approval is bounded twice (billing reference §3, "Caps"):
- never more than was paid and not yet refunded — what other requests on the same payment approved, are paying
  out or refunded counts against it;
- for WhatsApp credits, never more than the unused purchased credit: promotional credit the organization was
  granted counts as unused first, so a refund never takes back credit nobody paid for.

The amount staff enter includes GST. The credit note carries the taxable part and the invoice's tax heads in
proportion (the exact remainder when it credits the rest), so the refund is the largest amount a credit note can
carry that is not above what staff entered: a few paise under it at most (each tax head rounds).

Approving claims the request with a guarded UPDATE (under_review → approved), so two staff approving at once
refund once: the second is told it was decided already. The claim, the ledger's approval posting and the payout
job commit together; the payout itself is `execution.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select, update

from softdukan.audit.service import audit_service
from softdukan.backoffice.models import StaffUser
from softdukan.billing.models import BillingDocument
from softdukan.billing.repository import BillingDocumentRepository
from softdukan.billing.tax import TaxSplit, credit_split
from softdukan.kit.money import paise as rupees
from softdukan.ledger.models import LedgerEntry, LedgerTransaction
from softdukan.platform.errors import Conflict, Invalid, NotFound
from softdukan.platform.uow import UnitOfWork
from softdukan.refund.models import (
    APPROVED,
    FAILED,
    NEEDS_INFO,
    PAYING_OUT,
    REJECTED,
    UNDER_REVIEW,
    RefundRequest,
)
from softdukan.refund.service import add_event, tell_requester, version_now
from softdukan.subscription.models import PlanOrder
from softdukan.wallet import accounts
from softdukan.wallet.models import Topup
from softdukan.wallet.recharge import WCC_PER_PAISA

MIN_REFUND_PAISE = 100  # Razorpay refunds at least ₹1
NOTE_MAX = 2000
EXECUTE_TASK = "refund.execute"
PAYOUT_RETRY = timedelta(minutes=2)


@dataclass(frozen=True)
class Refundable:
    """What staff may still refund of a request's payment, and the invoice the credit note goes against."""

    paid_paise: int
    paid_out_paise: int  # approved, paying out or refunded by other requests on this payment
    invoice: BillingDocument
    credited: TaxSplit  # what earlier credit notes took off the invoice
    unused_purchased_units: int | None  # top-ups only: the wallet credit that may be taken back

    @property
    def left_paise(self) -> int:
        remaining = _snapshot(self.invoice) - self.credited
        return max(0, min(self.paid_paise - self.paid_out_paise, remaining.total))

    @property
    def credit_cap_paise(self) -> int | None:
        """Top-ups: the most a refund may be, with its GST, so its taxable part stays within unused credit."""
        if self.unused_purchased_units is None:
            return None
        taxable = self.unused_purchased_units // WCC_PER_PAISA
        remaining = _snapshot(self.invoice) - self.credited
        if taxable >= remaining.taxable:
            return remaining.total
        return split_for_taxable(self, taxable).total if taxable > 0 else 0

    @property
    def cap_paise(self) -> int:
        cap = self.credit_cap_paise
        return self.left_paise if cap is None else min(self.left_paise, cap)


def _snapshot(document: BillingDocument) -> TaxSplit:
    return TaxSplit(document.taxable_paise, document.cgst_paise, document.sgst_paise, document.igst_paise)


def split_for_taxable(refundable: Refundable, taxable: int) -> TaxSplit:
    return credit_split(_snapshot(refundable.invoice), refundable.credited, taxable)


def split_for_total(refundable: Refundable, total_paise: int) -> TaxSplit:
    """The credit note's split whose total is the largest not above `total_paise`."""
    invoice, remaining = _snapshot(refundable.invoice), _snapshot(refundable.invoice) - refundable.credited
    if total_paise >= remaining.total:
        return remaining
    guess = total_paise * invoice.taxable // max(invoice.total, 1)
    for taxable in range(min(guess + 3, remaining.taxable - 1), max(guess - 4, 0), -1):
        split = split_for_taxable(refundable, taxable)
        if split.total <= total_paise:
            return split
    raise Invalid("refund_too_small", "The amount is too small to refund.", {"amount": "too small"})


async def _unused_purchased_units(uow: UnitOfWork, organization_id: int) -> int:
    wallet = await accounts.peek_wallet(uow.session, organization_id)
    if wallet is None:
        return 0
    available = wallet.credits_posted - wallet.debits_posted - wallet.debits_pending
    granted = await uow.session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount), 0)).join(
            LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id).where(
            LedgerEntry.account_id == wallet.id, LedgerEntry.direction == "credit",
            LedgerTransaction.kind == "grant"))
    return max(0, available - int(granted or 0))


async def invoice_of(uow: UnitOfWork, request: RefundRequest) -> BillingDocument:
    """The tax invoice of the request's payment: what the credit note goes against."""
    org = request.organization_id
    model = Topup if request.source == "topup" else PlanOrder
    invoice_id = await uow.session.scalar(select(model.invoice_id).where(model.organization_id == org,
                                                                        model.id == request.source_id))
    invoice = await uow.session.get(BillingDocument, invoice_id) if invoice_id else None
    if invoice is None or invoice.organization_id != org:
        raise Conflict("invoice_missing", "The payment has no invoice to issue a credit note against.")
    return invoice


async def refundable(uow: UnitOfWork, request: RefundRequest) -> Refundable:
    org = request.organization_id
    invoice = await invoice_of(uow, request)
    paid_out = await uow.session.scalar(select(func.coalesce(func.sum(RefundRequest.approved_paise), 0)).where(
        RefundRequest.organization_id == org, RefundRequest.payment_id == request.payment_id,
        RefundRequest.id != request.id, RefundRequest.state.in_(PAYING_OUT)))
    credited = await BillingDocumentRepository(uow.session).credited(org, invoice.id)
    unused = await _unused_purchased_units(uow, org) if request.source == "topup" else None
    return Refundable(request.paid_paise, int(paid_out or 0), invoice, credited, unused)


async def for_staff(uow: UnitOfWork, request_id: int) -> RefundRequest:
    found = await uow.session.scalar(select(RefundRequest).where(RefundRequest.id == request_id)
                                     .execution_options(populate_existing=True))
    if found is None:
        raise NotFound("refund_request_not_found", "No such refund request.")
    return found


def _note(note: str | None, *, required: bool) -> str:
    text = " ".join((note or "").replace("\x00", "").split())
    if required and len(text) < 10:
        raise Invalid("note_required", "Write the reason for the decision (10 characters or more); the customer "
                                       "reads it.", {"note": "required"})
    if len(text) > NOTE_MAX:
        raise Invalid("note_too_long", f"The note is at most {NOTE_MAX:,} characters.", {"note": "too long"})
    return text


def parse_rupees(text: str | int | None) -> int:
    """'1,234.50' or '1234.5' rupees → paise; paise ints pass through."""
    if isinstance(text, int) and not isinstance(text, bool):
        return text
    raw = (text or "").replace(",", "").replace("₹", "").strip()
    whole, _, fraction = raw.partition(".")
    if not whole.isdigit() or (fraction and (not fraction.isdigit() or len(fraction) > 2)):
        raise Invalid("invalid_amount", "Enter the amount in rupees, e.g. 1500 or 1,499.50.", {"amount": "invalid"})
    return int(whole) * 100 + int((fraction or "0").ljust(2, "0"))


async def _claim(uow: UnitOfWork, request_id: int, *, from_states: tuple[str, ...], to_state: str,
                 **values: object) -> RefundRequest:
    """Moves the request out of `from_states`, or says who got there first (409)."""
    claimed = await uow.session.execute(
        update(RefundRequest).where(RefundRequest.id == request_id, RefundRequest.state.in_(from_states))
        .values(state=to_state, updated_at=uow.clock.now(), **values).execution_options(synchronize_session=False))
    request = await for_staff(uow, request_id)
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise _decided_already(request)
    return request


def _decided_already(request: RefundRequest) -> Conflict:
    by = f" by {request.decided_by}" if request.decided_by else ""
    return Conflict("refund_already_decided", f"Refund request {request.id} is "
                    f"{request.state.replace('_', ' ')} already{by}; nothing was changed.")


def _queue_payout(uow: UnitOfWork, request: RefundRequest) -> None:
    """The payout's safety net: the staff page pays out at once; this job does it if that call did not get
    through or the process died during it (the same idempotency key, so never twice)."""
    uow.enqueue(EXECUTE_TASK, request_id=request.id, attempt=request.attempt, run_at=uow.clock.now() + PAYOUT_RETRY,
                unique_key=f"refund:{request.id}:{request.attempt}", organization_id=request.organization_id)


def _audit(uow: UnitOfWork, action: str, staff: StaffUser, request: RefundRequest, ip: str | None,
           **details: object) -> None:
    audit_service.record(uow, action, organization_id=request.organization_id, actor_type="staff",
                         actor_id=staff.id, actor_label=staff.email, target=request,
                         target_label=f"refund request {request.id}", ip=ip, **details)


async def approve(uow: UnitOfWork, staff: StaffUser, request_id: int, amount: str | int | None, note: str | None,
                  *, ip: str | None = None) -> RefundRequest:
    """Approves `amount` (paise, or rupees as typed) of a request under review; 409 if someone decided it first."""
    text = _note(note, required=True)
    asked = parse_rupees(amount)
    request = await for_staff(uow, request_id)
    if request.state != UNDER_REVIEW:  # the claim below re-checks it, for a decision made meanwhile
        raise _decided_already(request)
    if asked < MIN_REFUND_PAISE:
        raise Invalid("refund_too_small", "A refund is at least ₹1.00.", {"amount": "at least ₹1.00"})
    limits = await refundable(uow, request)
    if asked > limits.left_paise:
        raise Invalid("refund_above_refundable", f"At most ₹{rupees(limits.left_paise)} of this payment can be "
                      f"refunded (₹{rupees(request.paid_paise)} paid, ₹{rupees(request.paid_paise - limits.left_paise)}"
                      " refunded or being refunded already).", {"amount": f"at most ₹{rupees(limits.left_paise)}"})
    credit_cap = limits.credit_cap_paise
    if credit_cap is not None and asked > credit_cap:
        raise Invalid("refund_above_unused_credit", f"Only ₹{rupees(credit_cap)} (with GST) of purchased credit is "
                      "unused in the wallet; credit already spent on messages cannot be refunded.",
                      {"amount": f"at most ₹{rupees(credit_cap)}"})
    split = split_for_total(limits, asked)
    units = split.taxable * WCC_PER_PAISA if request.source == "topup" else None
    version = await version_now(uow)
    request = await _claim(
        uow, request_id, from_states=(UNDER_REVIEW,), to_state=APPROVED, decided_by=staff.name,
        decided_at=uow.clock.now(), decision_note=text, decision_policy_version=version,
        approved_paise=split.total, approved_taxable_paise=split.taxable,
        approved_tax={"cgst": split.cgst, "sgst": split.sgst, "igst": split.igst}, credits_units=units,
        attempt=RefundRequest.attempt + 1, failure=None)
    from softdukan.refund.postings import post_approval

    posting = await post_approval(uow, request)
    request.approval_transaction_id = posting.id
    words = (f"₹{rupees(split.total)} (₹{rupees(split.taxable)} + GST ₹{rupees(split.tax)}) goes back to the "
             f"original payment {request.payment_id}")
    add_event(uow, request, APPROVED, note=f"{words}. {text}", actor=staff.name, policy_version=version,
              amount_paise=split.total)
    _audit(uow, "refund_request.approved", staff, request, ip, amount_paise=split.total, policy_version=version)
    _queue_payout(uow, request)
    await uow.flush()
    await tell_requester(uow, request, "approved", f"{staff.name} approved a refund: {words}.\n\n{text}\n\n"
                         f"Decided under policy version {version}.")
    return request


async def reject(uow: UnitOfWork, staff: StaffUser, request_id: int, note: str | None, *,
                 ip: str | None = None) -> RefundRequest:
    text = _note(note, required=True)
    version = await version_now(uow)
    request = await _claim(uow, request_id, from_states=(UNDER_REVIEW, NEEDS_INFO), to_state=REJECTED,
                           decided_by=staff.name, decided_at=uow.clock.now(), decision_note=text,
                           decision_policy_version=version)
    add_event(uow, request, REJECTED, note=text, actor=staff.name, policy_version=version)
    _audit(uow, "refund_request.rejected", staff, request, ip, policy_version=version)
    await uow.flush()
    await tell_requester(uow, request, "rejected", f"{staff.name} rejected the request: {text}\n\n"
                         f"Decided under policy version {version}.")
    return request


async def ask_information(uow: UnitOfWork, staff: StaffUser, request_id: int, note: str | None, *,
                          ip: str | None = None) -> RefundRequest:
    text = _note(note, required=True)
    version = await version_now(uow)
    request = await _claim(uow, request_id, from_states=(UNDER_REVIEW,), to_state=NEEDS_INFO)
    add_event(uow, request, NEEDS_INFO, note=text, actor=staff.name, policy_version=version)
    _audit(uow, "refund_request.information_asked", staff, request, ip)
    await uow.flush()
    await tell_requester(uow, request, "more information needed", f"{staff.name} asks: {text}\n\nAnswer on the "
                         "request's page in the dashboard.")
    return request


async def retry(uow: UnitOfWork, staff: StaffUser, request_id: int, *, ip: str | None = None) -> RefundRequest:
    """A payout Razorpay failed goes out again as a new refund (a new attempt, a new idempotency key), for the
    amount approved, after checking it is still refundable."""
    request = await for_staff(uow, request_id)
    if request.state != FAILED or request.approved_paise is None:
        raise Conflict("refund_not_failed", f"Refund request {request.id} is {request.state.replace('_', ' ')}; "
                                            "only a failed payout is retried.")
    limits = await refundable(uow, request)
    if request.approved_paise > limits.cap_paise:
        raise Invalid("refund_above_refundable", f"Only ₹{rupees(limits.cap_paise)} can be refunded now; reject "
                      "the request or ask the customer to submit a new one.")
    version = await version_now(uow)
    request = await _claim(uow, request_id, from_states=(FAILED,), to_state=APPROVED,
                           attempt=RefundRequest.attempt + 1, failure=None, razorpay_refund_id=None)
    from softdukan.refund.postings import post_approval

    request.approval_transaction_id = (await post_approval(uow, request)).id
    add_event(uow, request, APPROVED, note=f"Payout retried (attempt {request.attempt}).", actor=staff.name,
              policy_version=version, amount_paise=request.approved_paise)
    _audit(uow, "refund_request.retried", staff, request, ip, attempt=request.attempt)
    _queue_payout(uow, request)
    await uow.flush()
    return request
