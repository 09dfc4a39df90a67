"""Refund requests, submitted (policy clause 7) and weighed by the policy engine (clauses 3 and 4).

A request names its transaction — a Razorpay payment id (`pay_…`) or an invoice number of the organization — and
gives a clear written reason; without them it is refused at submission and nothing is stored. The engine then
classifies the charge (plan, credits, add-on, integration, setup fee: all non-refundable under clause 3) and
looks for technical issues support verified (clause 4) that overlap the time since the payment:
- none: the request is refused at once, citing clause 3 and the policy version in force;
- some: it goes to staff for review, with the issues it weighed; staff may refund part or all (never more than
  was paid and not yet refunded).
Every step is a `RefundEvent` with its reason and the policy version; the requester is e-mailed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from softdukan.auth.subject import Subject
from softdukan.billing.models import BillingDocument
from softdukan.platform.errors import Conflict, Invalid, NotFound
from softdukan.platform.uow import UnitOfWork
from softdukan.refund.models import CHANNELS, OPEN, REFUSED, UNDER_REVIEW, RefundEvent, RefundRequest
from softdukan.subscription.models import ORDER_PAID, PlanOrder
from softdukan.wallet.models import CREDITED, Topup

MIN_REASON, MAX_REASON = 20, 2000
PAYMENT_ID = re.compile(r"^pay_[A-Za-z0-9]{6,30}$")
CLASS_WORDS = {"plan": "Plan charges", "credits": "WhatsApp Conversation Credits (wallet top-ups)",
               "addon": "Add-ons", "integration": "Third-party integrations", "setup_fee": "One-time setup payments"}


@dataclass(frozen=True)
class Charge:
    source: str  # plan_order | topup
    source_id: int
    payment_id: str
    paid_at: datetime | None
    paid_paise: int
    charge_class: str


def _classify(order: PlanOrder) -> str:
    kinds = {line.get("kind") for line in order.lines}
    if kinds & {"plan", "upgrade"}:
        return "plan"
    for kind in ("addon", "integration", "setup_fee"):
        if kind in kinds:
            return kind
    return "plan"


async def _charge(uow: UnitOfWork, organization_id: int, ref: str) -> Charge:
    """The organization's paid transaction that `ref` names; 404 for anything else (another organization's
    included: it does not exist here)."""
    session = uow.session
    payment_id: str | None = ref if PAYMENT_ID.match(ref) else None
    if payment_id is None:
        document = await session.scalar(select(BillingDocument).where(
            BillingDocument.organization_id == organization_id, BillingDocument.number == ref.upper(),
            BillingDocument.doc_type == "invoice"))
        if document is not None and document.source == "wallet_recharge":
            topup = await session.scalar(select(Topup).where(Topup.organization_id == organization_id,
                                                             Topup.invoice_id == document.id))
            payment_id = topup.razorpay_payment_id if topup else None
        elif document is not None and document.source == "plan_order":
            order = await session.scalar(select(PlanOrder).where(PlanOrder.organization_id == organization_id,
                                                                 PlanOrder.invoice_id == document.id))
            payment_id = order.razorpay_payment_id if order else None
    if payment_id:
        topup = await session.scalar(select(Topup).where(Topup.organization_id == organization_id,
                                                         Topup.razorpay_payment_id == payment_id,
                                                         Topup.state == CREDITED))
        if topup is not None:
            return Charge("topup", topup.id, payment_id, topup.credited_at, topup.total_paise, "credits")
        order = await session.scalar(select(PlanOrder).where(PlanOrder.organization_id == organization_id,
                                                             PlanOrder.razorpay_payment_id == payment_id,
                                                             PlanOrder.state == ORDER_PAID))
        if order is not None:
            return Charge("plan_order", order.id, payment_id, order.paid_at, order.total_paise, _classify(order))
    raise NotFound("transaction_not_found", f"No payment or invoice '{ref[:40]}' of this organization was found. "
                                            "Give the Razorpay payment id (pay_…) or the invoice number.",
                   {"transaction_ref": "not found"})


def _clean_ref(ref: str | None) -> str:
    ref = (ref or "").strip()
    if not ref:
        raise Invalid("transaction_required", "Name the transaction: its Razorpay payment id (pay_…) or its "
                                              "invoice number (policy clause 7).", {"transaction_ref": "required"})
    if len(ref) > 40:
        raise Invalid("transaction_required", "A payment id or invoice number is at most 40 characters.",
                      {"transaction_ref": "too long"})
    return ref


def _clean_reason(reason: str | None) -> str:
    text = " ".join((reason or "").replace("\x00", "").split())
    if len(text) < MIN_REASON:
        raise Invalid("reason_required", f"Explain the reason for the refund in a few words (at least {MIN_REASON} "
                                         "characters; policy clause 7).", {"reason": "required"})
    if len(text) > MAX_REASON:
        raise Invalid("reason_too_long", f"The reason is at most {MAX_REASON:,} characters.", {"reason": "too long"})
    return text


async def submit(uow: UnitOfWork, subject: Subject, *, transaction_ref: str | None, reason: str | None,
                 ticket_ids: list[int] | None = None, channel: str = "dashboard") -> RefundRequest:
    subject.require("refunds:write")
    if channel not in CHANNELS:
        raise Invalid("invalid_channel", "A request comes from the dashboard, the API or e-mail.")
    ref, text = _clean_ref(transaction_ref), _clean_reason(reason)
    org, now = subject.organization_id, uow.clock.now()
    charge = await _charge(uow, org, ref)
    pending = await uow.session.scalar(select(RefundRequest.id).where(
        RefundRequest.organization_id == org, RefundRequest.payment_id == charge.payment_id,
        RefundRequest.state.in_(OPEN)))
    if pending is not None:
        raise Conflict("refund_request_open", f"Refund request {pending} for this payment is still open.")
    from softdukan.policy.service import policy_service
    from softdukan.support.service import verified_issues

    version = (await policy_service.in_force(uow, "refund_policy", now)).number
    since = charge.paid_at or now
    issues = [i for i in await verified_issues(uow, org) if i.ended_at is None or i.ended_at >= since]
    words = CLASS_WORDS[charge.charge_class]
    if issues:
        state, clause = UNDER_REVIEW, "4"
        reasoning = (f"{words} are non-refundable under clause 3, but support verified technical issues since the "
                     "payment (clause 4): " + "; ".join(
                         f"ticket #{i.ticket_number} from {i.started_at:%d %b %Y}"
                         f"{' (ongoing)' if i.ended_at is None else f' to {i.ended_at:%d %b %Y}'}: {i.impact}"
                         for i in issues) + ". SoftDukan's staff decide on a full or partial refund.")
    else:
        state, clause = REFUSED, "3"
        reasoning = (f"{words} are non-refundable (clause 3 of the Cancellation & Refund Policy, version {version}), "
                     "and support has verified no continuous technical issue since the payment that would let "
                     "staff grant one (clause 4). If you have such an issue, open a support ticket (technical issue).")
    request = RefundRequest(
        organization_id=org, transaction_ref=ref, source=charge.source, source_id=charge.source_id,
        payment_id=charge.payment_id, paid_at=charge.paid_at, paid_paise=charge.paid_paise,
        charge_class=charge.charge_class, reason=text, ticket_ids=sorted(set(ticket_ids or []))[:20],
        channel=channel, submitted_by=str(subject.label or "")[:254], state=state, clause=clause,
        reasoning=reasoning, verified_issues=[{"ticket_id": i.ticket_id, "ticket_number": i.ticket_number,
                                               "impact": i.impact} for i in issues],
        policy_version=version, created_at=now, updated_at=now)
    uow.session.add(request)
    await uow.flush()
    uow.session.add(RefundEvent(organization_id=org, request_id=request.id, kind="submitted", note=text[:2000],
                                actor=request.submitted_by, policy_version=version, created_at=now))
    uow.session.add(RefundEvent(organization_id=org, request_id=request.id, kind=state, note=reasoning,
                                actor="policy engine", policy_version=version, created_at=now))
    await uow.flush()
    if subject.label and "@" in subject.label:
        from softdukan.notification.service import mail_service

        await mail_service.send(uow, to=subject.label, subject=f"Refund request {request.id}: "
                                + ("refused" if state == REFUSED else "under review"),
                                text=f"{reasoning}\n\nPolicy version {version}.\n")
    return request


async def get(uow: UnitOfWork, subject: Subject, request_id: int) -> RefundRequest:
    subject.require("refunds:read")
    found = await uow.session.scalar(select(RefundRequest).where(RefundRequest.organization_id ==
                                                                 subject.organization_id,
                                                                 RefundRequest.id == request_id))
    if found is None:
        raise NotFound("refund_request_not_found", "No such refund request in this organization.")
    return found


async def listed(uow: UnitOfWork, subject: Subject, limit: int = 100) -> list[RefundRequest]:
    subject.require("refunds:read")
    return list((await uow.session.execute(select(RefundRequest).where(
        RefundRequest.organization_id == subject.organization_id).order_by(RefundRequest.id.desc())
        .limit(limit))).scalars())


async def events(uow: UnitOfWork, subject: Subject, request_id: int) -> list[RefundEvent]:
    request = await get(uow, subject, request_id)
    return list((await uow.session.execute(select(RefundEvent).where(
        RefundEvent.organization_id == subject.organization_id, RefundEvent.request_id == request.id)
        .order_by(RefundEvent.id))).scalars())
