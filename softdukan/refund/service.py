"""Refund requests, submitted (policy clause 7) and weighed by the policy engine (clauses 3 and 4).

A request names its transaction — a Razorpay payment id (`pay_…`) or an invoice number of the organization — and
gives a clear written reason; without them it is refused at submission and nothing is stored. The engine then
classifies the charge (plan, credits, add-on, integration, setup fee: all non-refundable under clause 3) and
looks for technical issues support verified (clause 4) that overlap the time since the payment:
- none: the request is rejected at once, citing clause 3 and the policy version in force;
- some: it goes to staff for review, with the issues it weighed; staff may refund part or all (never more than
  was paid and not yet refunded; `decision.py`).
Requests e-mailed to support are recorded the same way (`record_emailed`, by staff or from an `.eml` file).
Every step is a `RefundEvent` with its reason and the policy version; the requester is e-mailed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from softdukan.auth.subject import Subject
from softdukan.billing.models import BillingDocument
from softdukan.organization.models import Organization
from softdukan.platform.errors import Conflict, Invalid, NotFound
from softdukan.platform.uow import UnitOfWork
from softdukan.refund.models import (
    CHANNELS,
    NEEDS_INFO,
    OPEN,
    REJECTED,
    SUBMITTED,
    UNDER_REVIEW,
    WITHDRAWN,
    RefundEvent,
    RefundRequest,
)
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
    label = str(subject.label or "")[:254]
    return await _submit(uow, subject.organization_id, transaction_ref=transaction_ref, reason=reason,
                         ticket_ids=ticket_ids, channel=channel, requester=label, actor=label)


async def record_emailed(uow: UnitOfWork, organization_id: int, *, requester_email: str, transaction_ref: str | None,
                         reason: str | None, recorded_by: str) -> RefundRequest:
    """A request e-mailed to support (clause 7), recorded by staff or read from the `.eml` file: weighed exactly as
    one made in the dashboard, and answered to the sender."""
    email = requester_email.strip().lower()[:254]
    if "@" not in email:
        raise Invalid("requester_required", "Give the e-mail address the request came from.",
                      {"requester_email": "required"})
    return await _submit(uow, organization_id, transaction_ref=transaction_ref, reason=reason, ticket_ids=None,
                         channel="email", requester=email, actor=f"{email} by e-mail, recorded by {recorded_by}")


async def _submit(uow: UnitOfWork, org: int, *, transaction_ref: str | None, reason: str | None,
                  ticket_ids: list[int] | None, channel: str, requester: str, actor: str) -> RefundRequest:
    ref, text = _clean_ref(transaction_ref), _clean_reason(reason)
    now = uow.clock.now()
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
    zone = ZoneInfo(await uow.session.scalar(select(Organization.timezone).where(Organization.id == org))
                    or "Asia/Kolkata")
    if issues:
        state, clause = UNDER_REVIEW, "4"
        reasoning = (f"{words} are non-refundable under clause 3, but support verified technical issues since the "
                     "payment (clause 4): " + "; ".join(
                         f"ticket #{i.ticket_number} from {i.started_at.astimezone(zone):%d %b %Y}"
                         f"{' (ongoing)' if i.ended_at is None else f' to {i.ended_at.astimezone(zone):%d %b %Y}'}"
                         f": {i.impact}"
                         for i in issues) + ". SoftDukan's staff decide on a full or partial refund.")
    else:
        state, clause = REJECTED, "3"
        reasoning = (f"{words} are non-refundable (clause 3 of the Cancellation & Refund Policy, version {version}), "
                     "and support has verified no continuous technical issue since the payment that would let "
                     "staff grant one (clause 4). If you have such an issue, open a support ticket (technical issue).")
    request = RefundRequest(
        organization_id=org, transaction_ref=ref, source=charge.source, source_id=charge.source_id,
        payment_id=charge.payment_id, paid_at=charge.paid_at, paid_paise=charge.paid_paise,
        charge_class=charge.charge_class, reason=text, ticket_ids=sorted(set(ticket_ids or []))[:20],
        channel=channel, submitted_by=requester, state=state, clause=clause,
        reasoning=reasoning, verified_issues=[{"ticket_id": i.ticket_id, "ticket_number": i.ticket_number,
                                               "impact": i.impact} for i in issues],
        policy_version=version, created_at=now, updated_at=now)
    uow.session.add(request)
    await uow.flush()
    add_event(uow, request, SUBMITTED, note=text, actor=actor[:254], policy_version=version)
    add_event(uow, request, state, note=reasoning, actor="policy engine", policy_version=version)
    await uow.flush()
    await tell_requester(uow, request, "rejected" if state == REJECTED else "under review",
                         f"{reasoning}\n\nPolicy version {version}.")
    return request


def add_event(uow: UnitOfWork, request: RefundRequest, kind: str, *, note: str = "", actor: str,
              policy_version: int, amount_paise: int | None = None) -> None:
    uow.session.add(RefundEvent(organization_id=request.organization_id, request_id=request.id, kind=kind,
                                note=note[:2000], actor=actor[:254], policy_version=policy_version,
                                amount_paise=amount_paise, created_at=uow.clock.now()))


async def tell_requester(uow: UnitOfWork, request: RefundRequest, what: str, text: str) -> None:
    """E-mails a step of the request to whoever asked (when they gave an address) and to the organization's people
    with refund rights (owners included): a request made with an API key has no address of its own."""
    from softdukan.notification.recipients import emails_with
    from softdukan.notification.service import mail_service

    recipients = set(await emails_with(uow, request.organization_id, "refunds:write"))
    if "@" in (request.submitted_by or ""):
        recipients.add(request.submitted_by)
    link = f"{uow.settings.base_url.rstrip('/')}/billing/refunds/{request.id}"
    for email in sorted(recipients):
        await mail_service.send(uow, to=email, subject=f"Refund request {request.id}: {what}",
                                text=f"{text}\n\nFollow the request: {link}\n")


async def _locked(uow: UnitOfWork, organization_id: int, request_id: int) -> RefundRequest:
    found = await uow.session.scalar(select(RefundRequest).where(
        RefundRequest.organization_id == organization_id, RefundRequest.id == request_id).with_for_update()
        .execution_options(populate_existing=True))
    if found is None:
        raise NotFound("refund_request_not_found", "No such refund request in this organization.")
    return found


async def answer(uow: UnitOfWork, subject: Subject, request_id: int, text: str | None) -> RefundRequest:
    """The customer gives the information staff asked for: back to review."""
    subject.require("refunds:write")
    request = await _locked(uow, subject.organization_id, request_id)
    info = _clean_reason(text)
    if request.state != NEEDS_INFO:
        raise Conflict("refund_not_waiting_for_information", f"Refund request {request.id} is "
                       f"{request.state.replace('_', ' ')}; staff have not asked for more information.")
    request.state, request.updated_at = UNDER_REVIEW, uow.clock.now()
    add_event(uow, request, UNDER_REVIEW, note=info, actor=str(subject.label or ""),
              policy_version=await version_now(uow))
    await uow.flush()
    return request


async def withdraw(uow: UnitOfWork, subject: Subject, request_id: int) -> RefundRequest:
    """The customer withdraws a request staff have not decided yet."""
    subject.require("refunds:write")
    request = await _locked(uow, subject.organization_id, request_id)
    if request.state not in (SUBMITTED, NEEDS_INFO, UNDER_REVIEW):
        raise Conflict("refund_not_withdrawable", f"Refund request {request.id} is "
                       f"{request.state.replace('_', ' ')}; only a request not yet decided can be withdrawn.")
    request.state, request.updated_at = WITHDRAWN, uow.clock.now()
    add_event(uow, request, WITHDRAWN, actor=str(subject.label or ""), policy_version=await version_now(uow))
    await uow.flush()
    return request


async def version_now(uow: UnitOfWork) -> int:
    from softdukan.policy.service import policy_service

    return (await policy_service.in_force(uow, "refund_policy", uow.clock.now())).number


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


async def credit_note(uow: UnitOfWork, subject: Subject, request: RefundRequest) -> BillingDocument | None:
    """The credit note a refunded request issued (the organization's own)."""
    subject.require("refunds:read")
    if request.credit_note_id is None:
        return None
    return await uow.session.scalar(select(BillingDocument).where(
        BillingDocument.organization_id == subject.organization_id, BillingDocument.id == request.credit_note_id))
