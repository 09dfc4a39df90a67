"""`/v1/subscription` (the organization's plan or trial, what it includes, cancelling the trial, cancelling the paid
subscription at period end and undoing that) and
`/v1/plans` (the catalogue)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from softdukan.plan import service as catalogue
from softdukan.platform.deps import Requires, UoW
from softdukan.platform.errors import NotFound
from softdukan.platform.http import error_responses
from softdukan.platform.uow import UnitOfWork
from softdukan.subscription import entitlements, lifecycle
from softdukan.subscription import service as subscriptions
from softdukan.subscription.models import ACTIVE, PAST_DUE

router = APIRouter(tags=["subscription"])


class SubscriptionOut(BaseModel):
    status: str = Field(description="trialing | active | past_due | canceled | trial_expired | trial_canceled | "
                                    "no_trial | none")
    plan: str | None
    plan_name: str | None
    entitled: bool = Field(description="whether paid features work now")
    reason: str
    features: list[str]
    limits: dict[str, int | None] = Field(description="null: unlimited")
    trial_ends_at: datetime | None
    current_period_end: datetime | None
    cancel_at_period_end: bool
    canceled_at: datetime | None = Field(description="when the pending cancellation was asked for")
    grace_ends_at: datetime | None = Field(description="past due: renew by then to keep access")
    ends_at: datetime | None = Field(description="when access ends unless renewed: the paid year's end, or the "
                                                 "grace period's while past due")


class PlanOut(BaseModel):
    code: str
    name: str
    description: str
    yearly_price_paise: int = Field(description="before 18% GST")
    features: list[str]
    limits: dict[str, int | None]


class ProductOut(BaseModel):
    code: str
    name: str
    kind: str = Field(description="addon | setup_fee | integration")
    price_paise: int
    recurring: bool = Field(description="yearly with the plan, or charged once")
    grants: dict[str, int]


class CatalogueOut(BaseModel):
    plans: list[PlanOut]
    products: list[ProductOut]


async def _out(uow: UnitOfWork, organization_id: int) -> SubscriptionOut:
    ent = await entitlements.of(uow, organization_id)
    try:
        sub = await subscriptions.get(uow, organization_id)
    except NotFound:  # no row: status "none"
        sub = None
    return SubscriptionOut(
        status=ent.status, plan=ent.plan_code, plan_name=ent.plan_name, entitled=ent.entitled, reason=ent.reason,
        features=sorted(ent.features) if ent.entitled else [], limits=ent.limits if ent.entitled else {},
        trial_ends_at=sub.trial_ends_at if sub else None,
        current_period_end=sub.current_period_end if sub else None,
        cancel_at_period_end=bool(sub and sub.cancel_at_period_end),
        canceled_at=sub.canceled_at if sub else None, grace_ends_at=sub.grace_ends_at if sub else None,
        ends_at=lifecycle.ends_on(sub) if sub and sub.status in (ACTIVE, PAST_DUE) else None)


@router.get("/subscription", response_model=SubscriptionOut, responses=error_responses())
async def get_subscription(uow: UoW, subject: Requires["subscription:read"]) -> SubscriptionOut:
    return await _out(uow, subject.organization_id)


@router.post("/subscription/cancel-trial", response_model=SubscriptionOut, responses=error_responses(409))
async def cancel_trial(uow: UoW, subject: Requires["subscription:write"]) -> SubscriptionOut:
    """Ends the free trial now: nothing is charged, paid features pause, data stays."""
    await subscriptions.cancel_trial(uow, subject.organization_id, by=subject.label or "API key")
    return await _out(uow, subject.organization_id)


@router.post("/subscription/cancel", response_model=SubscriptionOut, responses=error_responses(404, 409))
async def cancel(uow: UoW, subject: Requires["subscription:write"]) -> SubscriptionOut:
    """Cancels the paid subscription at the end of its paid year (clause 5): access continues until then, nothing
    more is charged and nothing is refunded. A free trial is cancelled with `cancel-trial` instead."""
    await lifecycle.cancel(uow, subject.organization_id, by=subject.label or "API key")
    return await _out(uow, subject.organization_id)


@router.post("/subscription/undo-cancel", response_model=SubscriptionOut, responses=error_responses(404, 409))
async def undo_cancel(uow: UoW, subject: Requires["subscription:write"]) -> SubscriptionOut:
    """Takes back a pending cancellation before the subscription ends."""
    await lifecycle.undo_cancel(uow, subject.organization_id, by=subject.label or "API key")
    return await _out(uow, subject.organization_id)


@router.get("/plans", response_model=CatalogueOut, responses=error_responses())
async def plans(uow: UoW, subject: Requires["subscription:read"]) -> CatalogueOut:
    now = uow.clock.now()
    return CatalogueOut(
        plans=[PlanOut(code=p.code, name=p.name, description=p.description, yearly_price_paise=p.yearly_price_paise,
                       features=list(p.features), limits=dict(p.limits))
               for p in await catalogue.plans(uow.session, now, active_only=True)],
        products=[ProductOut(code=p.code, name=p.name, kind=p.kind, price_paise=p.price_paise,
                             recurring=p.recurring, grants=dict(p.grants))
                  for p in await catalogue.products(uow.session, now, active_only=True)])
