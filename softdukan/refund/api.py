"""`/v1/refund-requests`: ask for a refund of a payment (clause 7), and see each request's state with the policy
engine's reasoning, the clause and the policy version."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field

from softdukan.kit.ids import PathId
from softdukan.platform.deps import Requires, UoW
from softdukan.platform.http import error_responses
from softdukan.refund import service
from softdukan.refund.models import RefundEvent, RefundRequest

router = APIRouter(tags=["refunds"])


class RefundIn(BaseModel):
    transaction_ref: Annotated[str, Field(max_length=40, description="a Razorpay payment id (pay_…) or an invoice "
                                                                     "number of this organization")] = ""
    reason: Annotated[str, Field(max_length=2000, description="a clear written reason (20 characters or more)")] = ""
    ticket_ids: list[Annotated[int, Field(ge=1, le=2**53)]] = Field(default_factory=list, max_length=20)


class EventOut(BaseModel):
    kind: str
    note: str
    actor: str
    policy_version: int
    amount_paise: int | None
    created_at: datetime

    @classmethod
    def of(cls, e: RefundEvent) -> EventOut:
        return cls(kind=e.kind, note=e.note, actor=e.actor, policy_version=e.policy_version,
                   amount_paise=e.amount_paise, created_at=e.created_at)


class RefundOut(BaseModel):
    id: int
    state: str = Field(description="submitted | needs_info | under_review | approved | rejected | processing | "
                                   "refunded | failed | withdrawn")
    transaction_ref: str
    payment_id: str
    paid_paise: int
    charge_class: str = Field(description="plan | credits | addon | integration | setup_fee")
    reason: str
    clause: str = Field(description="the policy clause the engine applied")
    reasoning: str
    policy_version: int
    created_at: datetime
    decided_by: str | None = Field(None, description="the staff member who approved or rejected it")
    decided_at: datetime | None = None
    decision_note: str | None = None
    decision_policy_version: int | None = Field(None, description="the refund policy in force at the decision")
    approved_paise: int | None = Field(None, description="the refund, GST included")
    approved_taxable_paise: int | None = None
    razorpay_refund_id: str | None = None
    refunded_at: datetime | None = None
    credit_note_id: int | None = Field(None, description="the GST credit note (`/v1/billing/documents/{id}`)")
    failure: str | None = None
    events: list[EventOut] = Field(default_factory=list)

    @classmethod
    def of(cls, r: RefundRequest, events: list[RefundEvent] | None = None) -> RefundOut:
        return cls(id=r.id, state=r.state, transaction_ref=r.transaction_ref, payment_id=r.payment_id,
                   paid_paise=r.paid_paise, charge_class=r.charge_class, reason=r.reason, clause=r.clause,
                   reasoning=r.reasoning, policy_version=r.policy_version, created_at=r.created_at,
                   decided_by=r.decided_by, decided_at=r.decided_at, decision_note=r.decision_note,
                   decision_policy_version=r.decision_policy_version, approved_paise=r.approved_paise,
                   approved_taxable_paise=r.approved_taxable_paise, razorpay_refund_id=r.razorpay_refund_id,
                   refunded_at=r.refunded_at, credit_note_id=r.credit_note_id, failure=r.failure,
                   events=[EventOut.of(e) for e in events or []])


@router.post("/refund-requests", response_model=RefundOut, status_code=201,
             responses=error_responses(404, 409))
async def submit(body: RefundIn, uow: UoW, subject: Requires["refunds:write"]) -> RefundOut:
    """Rejected at once, citing clause 3, unless support verified technical issues since the payment (clause 4):
    then staff review it."""
    request = await service.submit(uow, subject, transaction_ref=body.transaction_ref, reason=body.reason,
                                   ticket_ids=list(body.ticket_ids), channel="api")
    return RefundOut.of(request, await service.events(uow, subject, request.id))


@router.get("/refund-requests", response_model=list[RefundOut], responses=error_responses())
async def listed(uow: UoW, subject: Requires["refunds:read"]) -> list[RefundOut]:
    return [RefundOut.of(r) for r in await service.listed(uow, subject)]


@router.get("/refund-requests/{request_id}", response_model=RefundOut, responses=error_responses(404))
async def get(request_id: PathId, uow: UoW, subject: Requires["refunds:read"]) -> RefundOut:
    request = await service.get(uow, subject, request_id)
    return RefundOut.of(request, await service.events(uow, subject, request.id))


class AnswerIn(BaseModel):
    info: Annotated[str, Field(max_length=2000, description="the information staff asked for")] = ""


@router.post("/refund-requests/{request_id}/answer", response_model=RefundOut, responses=error_responses(404, 409))
async def answer(request_id: PathId, body: AnswerIn, uow: UoW, subject: Requires["refunds:write"]) -> RefundOut:
    """Answer staff's question (state `needs_info`): the request goes back to review."""
    request = await service.answer(uow, subject, request_id, body.info)
    return RefundOut.of(request, await service.events(uow, subject, request.id))


@router.post("/refund-requests/{request_id}/withdraw", response_model=RefundOut,
             responses=error_responses(404, 409))
async def withdraw(request_id: PathId, uow: UoW, subject: Requires["refunds:write"]) -> RefundOut:
    """Withdraw a request staff have not decided yet."""
    request = await service.withdraw(uow, subject, request_id)
    return RefundOut.of(request, await service.events(uow, subject, request.id))
