"""`/v1/subscription/orders`: buy a plan year (with add-ons and setup fees), renew it, or upgrade mid-year. The
response carries the Razorpay order and key for Razorpay Checkout; the plan applies on the verified payment."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from softdukan.kit.ids import PathId
from softdukan.platform.deps import Requires, UoW
from softdukan.platform.http import error_responses
from softdukan.subscription import purchase
from softdukan.subscription.models import PlanOrder
from softdukan.wallet.recharge import checkout_url

router = APIRouter(tags=["subscription"])


class OrderIn(BaseModel):
    plan: Annotated[str, Field(min_length=1, max_length=40)]
    addons: dict[Annotated[str, Field(max_length=40)], int] = Field(default_factory=dict, max_length=20,
                                                                     description="add-on or service code → units")
    return_url: str | None = Field(default=None, max_length=500,
                                   description="where the sandbox's hosted checkout sends the customer back")


class OrderOut(BaseModel):
    id: int
    kind: str = Field(description="new | renewal | upgrade")
    state: str = Field(description="created | paying | paid | failed")
    plan: str
    lines: list[dict[str, Any]]
    taxable_paise: int
    cgst_paise: int
    sgst_paise: int
    igst_paise: int
    total_paise: int
    period_start: datetime
    period_end: datetime
    razorpay_order_id: str | None
    razorpay_key_id: str | None = None
    checkout_url: str | None = Field(default=None, description="the sandbox's hosted checkout (none with Razorpay)")
    invoice_id: int | None
    paid_at: datetime | None


def _out(order: PlanOrder, plan_code: str, **extra: Any) -> OrderOut:
    return OrderOut(id=order.id, kind=order.kind, state=order.state, plan=plan_code, lines=list(order.lines),
                    taxable_paise=order.taxable_paise, cgst_paise=order.cgst_paise, sgst_paise=order.sgst_paise,
                    igst_paise=order.igst_paise, total_paise=order.total_paise, period_start=order.period_start,
                    period_end=order.period_end, razorpay_order_id=order.razorpay_order_id,
                    invoice_id=order.invoice_id, paid_at=order.paid_at, **extra)


@router.post("/subscription/orders", response_model=OrderOut, status_code=201,
             responses=error_responses(400, 404, 409, 502))
async def create_order(body: OrderIn, request: Request, uow: UoW, subject: Requires["subscription:write"]
                       ) -> OrderOut:
    order = await purchase.start(uow, subject, body.plan, dict(body.addons), app=request.app)
    assert order.razorpay_order_id is not None
    back = body.return_url or f"{uow.settings.base_url.rstrip('/')}/settings/plan"
    return _out(order, body.plan, razorpay_key_id=uow.settings.razorpay_keys[0],
                checkout_url=checkout_url(uow.settings, order.razorpay_order_id, back))


@router.get("/subscription/orders/{order_id}", response_model=OrderOut, responses=error_responses(404))
async def get_order(order_id: PathId, uow: UoW, subject: Requires["subscription:read"]) -> OrderOut:
    from softdukan.plan import service as catalogue

    order = await purchase.get(uow, subject, order_id)
    return _out(order, (await catalogue.by_id(uow.session, order.plan_id)).code)
