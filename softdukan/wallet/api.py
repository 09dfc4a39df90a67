"""/v1/wallet: the WhatsApp credits balance, the low-balance alert, usage by month, category and country, and
the charged messages behind it. Amounts are integers in units of ₹0.0001 (`*_units`), with a formatted copy."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from softdukan.kit.ids import MAX_ID, PathId
from softdukan.kit.money import credits as rupees
from softdukan.platform.deps import Requires, UoW
from softdukan.platform.http import error_responses
from softdukan.wallet import recharge, usage
from softdukan.wallet.models import MessageCharge, Topup
from softdukan.wallet.service import MAX_THRESHOLD, set_threshold, summary_for

router = APIRouter(tags=["wallet"])
Month = Annotated[str | None, Query(max_length=7, pattern=r"^\d{4}-\d{2}$", description="YYYY-MM, India time; "
                                                                                          "default: this month")]


class WalletOut(BaseModel):
    balance_units: int = Field(description="credited minus charged, in ₹0.0001")
    held_units: int = Field(description="set aside for messages on their way (settled or released by WhatsApp's "
                                        "pricing webhooks)")
    available_units: int = Field(description="what new sends can hold; sends stop when a message's price exceeds it")
    low_balance_threshold_units: int
    low: bool
    balance: str
    held: str
    available: str
    unit: str


class WalletPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    low_balance_threshold_units: int = Field(ge=0, le=MAX_THRESHOLD, description="alert below this available "
                                                                                 "balance (e-mail and banner)")


class UsageLine(BaseModel):
    key: str
    label: str
    messages: int
    units: int


class UsageOut(BaseModel):
    month: str
    total_units: int
    messages: int
    by_category: list[UsageLine]
    by_country: list[UsageLine]
    months: list[dict[str, Any]] = Field(description="the last 12 months: month, messages, units")


class ChargeOut(BaseModel):
    id: int
    message_id: int
    broadcast_id: int | None
    category: str
    market: str
    held_units: int
    charged_units: int | None
    shortfall_units: int
    state: str
    pricing_model: str | None
    pricing_type: str | None
    charged_at: datetime | None

    @classmethod
    def of(cls, c: MessageCharge) -> ChargeOut:
        return cls(id=c.id, message_id=c.message_id, broadcast_id=c.broadcast_id, category=c.category,
                   market=c.market, held_units=c.held_units, charged_units=c.charged_units,
                   shortfall_units=c.shortfall_units, state=c.state, pricing_model=c.pricing_model,
                   pricing_type=c.pricing_type, charged_at=c.charged_at)


@router.get("/wallet", response_model=WalletOut, responses=error_responses())
async def get_wallet(uow: UoW, subject: Requires["wallet:read"]) -> WalletOut:
    return WalletOut(**(await summary_for(uow, subject.organization_id)).as_json())  # type: ignore[arg-type]


@router.patch("/wallet", response_model=WalletOut, responses=error_responses(400))
async def patch_wallet(body: WalletPatch, uow: UoW, subject: Requires["wallet:write"]) -> WalletOut:
    summary = await set_threshold(uow, subject, body.low_balance_threshold_units)
    return WalletOut(**summary.as_json())  # type: ignore[arg-type]


@router.get("/wallet/usage", response_model=UsageOut, responses=error_responses(400))
async def get_usage(uow: UoW, subject: Requires["wallet:read"], month: Month = None) -> UsageOut:
    now = uow.clock.now()
    report = await usage.month_usage(uow, subject.organization_id, month or usage.month_of(now))
    months = await usage.monthly_totals(uow, subject.organization_id, usage.last_months(now, 12))
    return UsageOut(**report.as_json(), months=[{"month": m, "messages": n, "units": u, "amount": rupees(u)}
                                                for m, n, u in months])


@router.get("/wallet/charges", response_model=list[ChargeOut], responses=error_responses(400))
async def list_charges(uow: UoW, subject: Requires["wallet:read"], month: Month = None,
                       category: str | None = Query(default=None, max_length=40),
                       country: str | None = Query(default=None, max_length=8, description="market code, e.g. IN"),
                       broadcast_id: int | None = Query(default=None, ge=1, le=MAX_ID),
                       before_id: int | None = Query(default=None, ge=1, le=MAX_ID),
                       limit: int = Query(default=100, ge=1, le=500)) -> list[ChargeOut]:
    month = month or (None if broadcast_id is not None else usage.month_of(uow.clock.now()))
    rows = await usage.charges(uow, subject.organization_id, month,
                               category=category, market=country, broadcast_id=broadcast_id, before_id=before_id,
                               limit=limit)
    return [ChargeOut.of(row) for row in rows]


class RechargeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount_paise: int = Field(strict=True, description="credits to add, in paise, before GST (₹1 to ₹5,00,000)")
    return_url: str | None = Field(default=None, max_length=2000, pattern=r"^https?://",
                                   description="where the checkout sends the customer back (default: the dashboard)")


class RechargeOut(BaseModel):
    id: int
    state: str = Field(description="created | paying | credited | failed")
    credits_units: int
    taxable_paise: int
    cgst_paise: int
    sgst_paise: int
    igst_paise: int
    total_paise: int
    razorpay_order_id: str | None
    razorpay_payment_id: str | None
    invoice_id: int | None
    checkout_url: str | None = Field(default=None, description=(
        "the sandbox's hosted checkout, to send the customer to while the recharge is paying; with Razorpay "
        "itself none: open Razorpay Checkout (checkout.js) with razorpay_key_id and razorpay_order_id"))
    razorpay_key_id: str | None = Field(default=None, description="the key Razorpay Checkout is opened with")
    created_at: datetime
    credited_at: datetime | None

    @classmethod
    def of(cls, topup: Topup, checkout_url: str | None = None, key_id: str | None = None) -> RechargeOut:
        return cls(id=topup.id, state=topup.state, credits_units=topup.credits_units,
                   taxable_paise=topup.taxable_paise, cgst_paise=topup.cgst_paise, sgst_paise=topup.sgst_paise,
                   igst_paise=topup.igst_paise, total_paise=topup.total_paise,
                   razorpay_order_id=topup.razorpay_order_id, razorpay_payment_id=topup.razorpay_payment_id,
                   invoice_id=topup.invoice_id, checkout_url=checkout_url, razorpay_key_id=key_id,
                   created_at=topup.created_at,
                   credited_at=topup.credited_at)


@router.post("/wallet/recharges", response_model=RechargeOut, status_code=201, responses=error_responses(400, 502))
async def create_recharge(body: RechargeIn, request: Request, uow: UoW, subject: Requires["wallet:write"]
                          ) -> RechargeOut:
    """Starts a recharge: the amount plus GST becomes a Razorpay order; the wallet is credited (and the GST
    invoice issued) when Razorpay confirms the payment."""
    topup = await recharge.start(uow, subject, body.amount_paise, app=request.app)
    assert topup.razorpay_order_id is not None
    back = body.return_url or f"{uow.settings.base_url.rstrip('/')}/settings/credits"
    return RechargeOut.of(topup, recharge.checkout_url(uow.settings, topup.razorpay_order_id, back),
                          uow.settings.razorpay_keys[0])


@router.get("/wallet/recharges", response_model=list[RechargeOut], responses=error_responses())
async def list_recharges(uow: UoW, subject: Requires["wallet:read"]) -> list[RechargeOut]:
    return [RechargeOut.of(t) for t in await recharge.history(uow, subject, 100)]


@router.get("/wallet/recharges/{recharge_id}", response_model=RechargeOut, responses=error_responses(404))
async def get_recharge(recharge_id: PathId, uow: UoW, subject: Requires["wallet:read"]) -> RechargeOut:
    return RechargeOut.of(await recharge.get(uow, subject, recharge_id))
