"""Buying a plan year, renewing it, or upgrading in the middle of it (issue 6 item 3), the way a recharge is bought
(wallet/recharge.py): priced and committed, then a Razorpay order (no transaction held across the call), then — on
the verified payment only (the signed webhook, or the checkout's signed answer confirmed by fetching the payment) —
applied once: the ledger posting, the GST tax invoice and the subscription change in one transaction, under the
payment's ledger key and a guarded state change.

What each costs (also in the README and the policy text):
- a new subscription, or a renewal: the plan's yearly price, plus add-ons (yearly, per unit) and one-time setup
  fees, for a year from now (a renewal: from the end of the paid year, or now if it has passed);
- an upgrade during a paid year takes effect at once and costs the difference between the two plans' yearly prices
  for the days left in the year, to the paisa (rounded half up); the year's end does not move;
- add-ons bought during a paid year (the same plan, before the renewal window opens) co-term with it: a yearly
  add-on costs its yearly price for the days left in the year, to the paisa; a one-time service its price;
- a cheaper plan is chosen at renewal, not in the middle of a paid year (nothing is refunded: clause 2).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import select, update

from softdukan.auth.subject import Subject
from softdukan.billing.models import BillingProfile
from softdukan.billing.postings import gst_legs
from softdukan.billing.service import LineIn, billing_service
from softdukan.billing.supplier import supplier_of
from softdukan.billing.tax import split_tax
from softdukan.ledger import service as ledger
from softdukan.ledger.models import PAISE
from softdukan.payments.checkout import mark_failed, purchase_of, require_captured, verified_payment
from softdukan.payments.entities import Payment, RazorpayEvent
from softdukan.payments.errors import PaymentGatewayError
from softdukan.payments.handlers import on_razorpay
from softdukan.plan import service as catalogue
from softdukan.plan.models import Plan
from softdukan.platform.errors import Conflict, Invalid, NotFound
from softdukan.platform.uow import UnitOfWork
from softdukan.subscription import service as subscriptions
from softdukan.subscription.lifecycle import renewal_start
from softdukan.subscription.models import (
    ACTIVE,
    ADDONS,
    NEW,
    ORDER_CREATED,
    ORDER_FAILED,
    ORDER_PAID,
    ORDER_PAYING,
    PAST_DUE,
    RENEWAL,
    UPGRADE,
    PlanOrder,
    Subscription,
)
from softdukan.wallet.recharge import GatewayUnavailable, client_for

log = structlog.get_logger(__name__)
RENEW_WINDOW = timedelta(days=60)  # a paid year can be renewed in its last 60 days
MAX_UNITS = 100


@dataclass(frozen=True)
class Line:
    code: str
    kind: str  # plan | addon | setup_fee | integration | upgrade
    description: str
    quantity: int
    taxable_paise: int


@dataclass(frozen=True)
class PlanQuote:
    kind: str
    plan: Plan
    lines: list[Line]
    addons: dict[str, int]
    period_start: datetime
    period_end: datetime
    taxable_paise: int
    cgst_paise: int
    sgst_paise: int
    igst_paise: int
    total_paise: int
    place_of_supply: str


def prorated(difference_paise: int, left: timedelta, year: timedelta) -> int:
    """The price difference for the part of the year left, to the paisa, rounded half up."""
    seconds, whole = int(left.total_seconds()), int(year.total_seconds())
    return (difference_paise * seconds * 2 + whole) // (2 * whole)


async def _current(uow: UnitOfWork, organization_id: int) -> Subscription | None:
    return await uow.session.scalar(select(Subscription).where(Subscription.organization_id == organization_id))


async def quote(uow: UnitOfWork, organization_id: int, plan_code: str, addons: dict[str, Any] | None = None
                ) -> PlanQuote:
    now = uow.clock.now()
    plan = await catalogue.by_code(uow.session, (plan_code or "").strip()[:40], now)
    if not plan.active:
        raise Conflict("plan_retired", f"The {plan.name} plan is no longer offered; choose another plan.")
    products = {p.code: p for p in await catalogue.products(uow.session, now, active_only=True)}
    wanted: dict[str, int] = {}
    for code, quantity in (addons or {}).items():
        if code not in products:
            raise Invalid("unknown_product", f"There is no add-on or service '{str(code)[:40]}' on sale.",
                          {"addons": "unknown"})
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 0 <= quantity <= MAX_UNITS:
            raise Invalid("invalid_quantity", f"A quantity is a whole number from 0 to {MAX_UNITS}.",
                          {code: "0 to 100"})
        if quantity:
            wanted[code] = quantity
    sub = await _current(uow, organization_id)
    paid_year = sub is not None and sub.status in (ACTIVE, PAST_DUE) and sub.current_period_end is not None
    lines: list[Line] = []
    if paid_year and sub is not None and sub.plan_id != plan.id and sub.status == ACTIVE:
        old = await catalogue.by_id(uow.session, sub.plan_id)
        if plan.yearly_price_paise <= old.yearly_price_paise:
            raise Conflict("downgrade_at_renewal", f"The {old.name} plan is paid until "
                           f"{sub.current_period_end:%d %b %Y}; a cheaper plan is chosen when you renew (nothing is "
                           "refunded for the rest of the year).")
        if wanted:
            raise Invalid("addons_at_renewal", "Add-ons are bought with a new year or a renewal, not with an "
                                               "upgrade.", {"addons": "not with an upgrade"})
        assert sub.current_period_start is not None and sub.current_period_end is not None
        start, end = now, sub.current_period_end
        amount = prorated(plan.yearly_price_paise - old.yearly_price_paise, end - now,
                          end - sub.current_period_start)
        lines.append(Line(plan.code, "upgrade", f"Upgrade {old.name} → {plan.name} for the rest of the year "
                          f"(to {end:%d %b %Y})", 1, max(amount, 1)))
        kind = UPGRADE
    elif (paid_year and sub is not None and sub.status == ACTIVE and wanted and sub.current_period_end is not None
          and sub.current_period_end - now > RENEW_WINDOW):
        assert sub.current_period_start is not None
        start, end, kind = now, sub.current_period_end, ADDONS
        for code, quantity in sorted(wanted.items()):
            product = products[code]
            if product.recurring and product.kind != "setup_fee":
                amount = prorated(product.price_paise * quantity, end - now, end - sub.current_period_start)
                words = f"{product.name} for the rest of the year (to {end:%d %b %Y})"
            else:
                amount, words = product.price_paise * quantity, f"{product.name} (one-time)"
            lines.append(Line(code, product.kind, words, quantity, max(amount, 1)))
    else:
        if paid_year and sub is not None and sub.status == ACTIVE:
            assert sub.current_period_end is not None
            if sub.current_period_end - now > RENEW_WINDOW:
                raise Conflict("renewal_not_open", f"The {plan.name} plan is paid until "
                               f"{sub.current_period_end:%d %b %Y}; renew from 60 days before (add-ons can be "
                               "bought for the rest of the year now).")
        kind = RENEWAL if paid_year else NEW
        start = renewal_start(sub, now)
        end = subscriptions.one_year_after(start)
        lines.append(Line(plan.code, "plan", f"{plan.name} plan, one year", 1, plan.yearly_price_paise))
        for code, quantity in sorted(wanted.items()):
            product = products[code]
            lines.append(Line(code, product.kind, product.name + ("" if product.recurring else " (one-time)"),
                              quantity, product.price_paise * quantity))
    taxable = sum(line.taxable_paise for line in lines)
    if taxable < 100:
        raise Invalid("nothing_to_pay", "There is nothing to pay for this choice.")
    supplier = supplier_of(uow.settings)
    profile = await uow.session.scalar(select(BillingProfile).where(BillingProfile.organization_id == organization_id))
    state = profile.state_code if profile is not None else supplier.state
    split = split_tax(taxable, supplier.state, state)
    recurring = {c: q for c, q in wanted.items() if products[c].recurring and products[c].kind != "setup_fee"}
    return PlanQuote(kind, plan, lines, recurring, start, end, taxable, split.cgst, split.sgst, split.igst,
                     split.total, state)


async def start(uow: UnitOfWork, subject: Subject, plan_code: str, addons: dict[str, Any] | None = None, *,
                app: Any | None = None) -> PlanOrder:
    """The order and its Razorpay order (committed before and after the call). 502 if Razorpay is down."""
    subject.require("subscription:write")
    q = await quote(uow, subject.organization_id, plan_code, addons)
    order = PlanOrder(organization_id=subject.organization_id, plan_id=q.plan.id, kind=q.kind,
                      lines=[line.__dict__ for line in q.lines], addons=q.addons, taxable_paise=q.taxable_paise,
                      cgst_paise=q.cgst_paise, sgst_paise=q.sgst_paise, igst_paise=q.igst_paise,
                      total_paise=q.total_paise, place_of_supply=q.place_of_supply, period_start=q.period_start,
                      period_end=q.period_end, state=ORDER_CREATED,
                      created_by=str(getattr(subject, "label", "") or "")[:254], created_at=uow.clock.now())
    uow.session.add(order)
    await uow.flush()
    order_id = order.id
    await uow.release()
    try:
        async with client_for(uow.settings, app) as client:
            rzp = await client.create_order(q.total_paise, receipt=f"plan_{order_id}", notes={
                "plan_order_id": str(order_id), "organization_id": str(subject.organization_id)})
    except PaymentGatewayError as exc:
        raise GatewayUnavailable(None, "Razorpay could not be reached; nothing was charged. Try again in a "
                                       "minute.") from exc
    order = await get(uow, subject, order_id)
    order.razorpay_order_id, order.state = rzp.id, ORDER_PAYING
    await uow.flush()
    return order


async def get(uow: UnitOfWork, subject: Subject, order_id: int) -> PlanOrder:
    subject.require("subscription:read")
    order = await uow.session.scalar(select(PlanOrder).where(PlanOrder.organization_id == subject.organization_id,
                                                             PlanOrder.id == order_id))
    if order is None:
        raise NotFound("plan_order_not_found", "No such plan order in this organization.")
    return order


def revenue_code(kind: str) -> str:
    """Where an order line's taxable value goes: setup fees and integrations are revenue at once; plan years
    and add-ons are deferred."""
    return {"setup_fee": "revenue:setup", "integration": "revenue:integration"}.get(
        kind, "deferred_revenue:subscription")


def revenue_by_account(lines: list[dict[str, Any]]) -> dict[str, int]:
    by_account: dict[str, int] = {}
    for line in lines:
        code = revenue_code(str(line.get("kind")))
        by_account[code] = by_account.get(code, 0) + int(line["taxable_paise"])
    return by_account


async def revenue_legs(uow: UnitOfWork, amounts: dict[str, int], *, direction: str) -> list[ledger.Leg]:
    legs = []
    for code, amount in sorted(amounts.items()):
        if amount:
            kind = "revenue" if code.startswith("revenue") else "clearing"
            account = await ledger.account(uow.session, code, asset=PAISE, kind=kind, now=uow.clock.now())
            legs.append(ledger.Leg(account.id, direction, amount))
    return legs


async def apply(uow: UnitOfWork, order: PlanOrder, payment: Payment) -> bool:
    """Posts the payment, issues the invoice and changes the subscription, once; False if done before."""
    require_captured(payment, order_id=order.razorpay_order_id, amount_paise=order.total_paise,
                     what=f"plan order {order.id}")
    now = uow.clock.now()
    claimed = await uow.session.execute(
        update(PlanOrder).where(PlanOrder.id == order.id, PlanOrder.state != ORDER_PAID)
        .values(state=ORDER_PAID, razorpay_payment_id=payment.id, paid_at=now, failure=None)
        .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return False
    session, org = uow.session, order.organization_id
    clearing = await ledger.account(session, "clearing:razorpay", asset=PAISE, kind="clearing", now=now)
    legs = [ledger.Leg(clearing.id, "debit", order.total_paise),
            *await revenue_legs(uow, revenue_by_account(order.lines), direction="credit"),
            *await gst_legs(session, cgst=order.cgst_paise, sgst=order.sgst_paise, igst=order.igst_paise,
                            direction="credit", now=now)]
    await ledger.post(session, key=f"rzp:pay:{payment.id}:captured", kind="plan", effective_at=now, legs=legs,
                      external_ref=payment.id, details={"plan_order_id": order.id, "kind": order.kind})
    invoice = await billing_service.issue_invoice(
        uow, org, lines=[LineIn(description=line["description"], taxable_paise=int(line["taxable_paise"]),
                                quantity=int(line["quantity"])) for line in order.lines],
        source="plan_order", source_id=str(order.id), paid=True, buyer_state=order.place_of_supply)
    await session.execute(update(PlanOrder).where(PlanOrder.id == order.id).values(invoice_id=invoice.id)
                          .execution_options(synchronize_session=False))
    plan = await catalogue.by_id(session, order.plan_id)
    if order.kind == ADDONS:  # co-termed with the paid year: the quantities add up
        sub = await subscriptions.get(uow, org)
        merged = dict(sub.addons or {})
        for code, quantity in order.addons.items():
            merged[code] = int(merged.get(code, 0)) + int(quantity)
        sub.addons, sub.updated_at = merged, now
        bought = ", ".join(f"{line['quantity']} × {line['description']}" for line in order.lines)
        subscriptions.record(uow, org, "subscription.addons_added", f"{bought}, invoice {invoice.number}",
                             order.total_paise)
    elif order.kind == UPGRADE:
        sub = await subscriptions.get(uow, org)
        sub.plan_id, sub.updated_at = plan.id, now
        subscriptions.record(uow, org, "subscription.upgraded", f"to {plan.name}, invoice {invoice.number}",
                             order.total_paise)
    else:
        sub = await subscriptions.activate(uow, org, plan.code, period_start=order.period_start,
                                           source=f"invoice {invoice.number}", amount_paise=order.total_paise)
        sub.addons = dict(order.addons)
    await uow.flush()
    return True


@on_razorpay("payment.captured")
@on_razorpay("order.paid")
async def on_captured(uow: UnitOfWork, event: RazorpayEvent) -> None:
    """A verified capture of a plan order (orders that are not plan orders are someone else's)."""
    order = await purchase_of(uow, PlanOrder, event)
    if order is not None and event.payment is not None:
        await apply(uow, order, event.payment)


@on_razorpay("payment.failed")
async def on_failed(uow: UnitOfWork, event: RazorpayEvent) -> None:
    order = await purchase_of(uow, PlanOrder, event, by_order=False)
    if order is not None and event.payment is not None:
        await mark_failed(uow, PlanOrder, order.id, event.payment, open_states=[ORDER_CREATED, ORDER_PAYING],
                          failed=ORDER_FAILED)


async def returned(uow: UnitOfWork, subject: Subject, order_id: int, *, payment_id: str, razorpay_order_id: str,
                   signature: str, app: Any | None = None) -> PlanOrder:
    """The checkout came back: its signature checked against the stored order, the payment fetched server side,
    and applied at once if captured (the webhook then changes nothing)."""
    order = await get(uow, subject, order_id)
    payment = await verified_payment(uow, stored_order_id=order.razorpay_order_id, order_id=razorpay_order_id,
                                     payment_id=payment_id, signature=signature, app=app)
    order = await get(uow, subject, order_id)
    if payment is not None and payment.status == "captured" and order.state != ORDER_PAID:
        await apply(uow, order, payment)
        await uow.session.refresh(order)
    return order
