"""Recharging the wallet (issue 5 item 5; reference billing-india.md §4.5, §5 "Top-up flow"):

1. `start` writes the top-up (amount + 18% GST, place of supply from the billing profile) and commits it, then
   creates the Razorpay order (receipt = the top-up id; no transaction is held across the call, README rule 10)
   and records the order id: the customer goes to Razorpay's checkout.
2. The wallet is credited only on a verified fact: the signed `payment.captured` / `order.paid` webhook, or a
   server-side fetch of the payment when the checkout returns (never the browser's word alone). `credit` posts
   the money and the GST (INR/2), converts it into wallet credit (INR/4), issues the GST tax invoice and marks the
   top-up credited, in one transaction; the ledger key `rzp:pay:{payment id}:captured` and the guarded state
   change make a second delivery, or the fetch and the webhook together, credit once.
3. `payment.failed` marks the top-up failed (nothing credited; a later capture of the same order still credits).
   Abandoned checkouts stay `paying` and credit nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import structlog
from sqlalchemy import select, update

from softdukan.auth.subject import Subject
from softdukan.billing.models import BillingProfile
from softdukan.billing.postings import gst_legs
from softdukan.billing.service import LineIn, billing_service
from softdukan.billing.supplier import supplier_of
from softdukan.billing.tax import split_tax
from softdukan.config import RAZORPAY_API, Settings
from softdukan.ledger import service as ledger
from softdukan.ledger.models import PAISE
from softdukan.payments.checkout import mark_failed, purchase_of, require_captured, verified_payment
from softdukan.payments.entities import Payment, RazorpayEvent
from softdukan.payments.errors import PaymentGatewayError
from softdukan.payments.handlers import on_razorpay
from softdukan.payments.razorpay import RazorpayClient
from softdukan.platform.errors import DomainError, Invalid, NotFound
from softdukan.platform.uow import UnitOfWork
from softdukan.wallet import accounts
from softdukan.wallet.models import CREATED, CREDITED, FAILED, PAYING, Topup

log = structlog.get_logger(__name__)
MIN_PAISE, MAX_PAISE = 100, 50_000_000  # ₹1 (Razorpay's smallest order) to ₹5 lakh a recharge
WCC_PER_PAISA = 100  # ₹0.01 = 100 units of ₹0.0001
SAC_NOTE = "WhatsApp messaging credits (prepaid)"


class GatewayUnavailable(DomainError):
    status = 502
    default_code = "payment_gateway_unavailable"


@dataclass(frozen=True)
class Quote:
    taxable_paise: int
    cgst_paise: int
    sgst_paise: int
    igst_paise: int
    total_paise: int
    place_of_supply: str


async def quote(uow: UnitOfWork, organization_id: int, taxable_paise: Any) -> Quote:
    if isinstance(taxable_paise, bool) or not isinstance(taxable_paise, int):
        raise Invalid("invalid_amount", "The amount is a whole number of paise.", {"amount": "a number"})
    if not MIN_PAISE <= taxable_paise <= MAX_PAISE:
        raise Invalid("invalid_amount", "Add from ₹1 to ₹5,00,000 at a time (before GST).",
                      {"amount": "from ₹1 to ₹5,00,000"})
    supplier = supplier_of(uow.settings)
    profile = await uow.session.scalar(select(BillingProfile).where(BillingProfile.organization_id == organization_id))
    state = profile.state_code if profile is not None else supplier.state
    split = split_tax(taxable_paise, supplier.state, state)
    return Quote(taxable_paise, split.cgst, split.sgst, split.igst, split.total, state)


def client_for(settings: Settings, app: Any | None = None) -> RazorpayClient:
    """The Razorpay client; in the embedded sandbox shape a request's calls go to this same app in-process."""
    http = None
    if app is not None and settings.sandbox and settings.razorpay_api_url is None:
        from softdukan.number.graph import _OwnContext

        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=_OwnContext(app)), timeout=20.0)
    return RazorpayClient.from_settings(settings, http=http)


def checkout_url(settings: Settings, order_id: str, return_url: str) -> str | None:
    """A hosted checkout page for an API client's customer: the sandbox's, which returns to `return_url` with the
    signed fields. Razorpay has none for orders: with the real gateway this is None, and the client opens Razorpay
    Checkout (checkout.js) with `razorpay_key_id` and `razorpay_order_id` on its own page, as the dashboard's pay
    page does."""
    from urllib.parse import urlencode

    if settings.razorpay_url == RAZORPAY_API:
        return None
    return f"{settings.razorpay_url}/checkout/{order_id}?" + urlencode(
        {"callback_url": return_url, "callback_method": "get"})


async def start(uow: UnitOfWork, subject: Subject, taxable_paise: Any, *, app: Any | None = None) -> Topup:
    """The top-up and its Razorpay order (committed before and after the call). Raises 502 if Razorpay is down:
    the top-up then stays `created`, nothing was charged."""
    subject.require("wallet:write")
    q = await quote(uow, subject.organization_id, taxable_paise)
    topup = Topup(organization_id=subject.organization_id, credits_units=q.taxable_paise * WCC_PER_PAISA,
                  taxable_paise=q.taxable_paise, cgst_paise=q.cgst_paise, sgst_paise=q.sgst_paise,
                  igst_paise=q.igst_paise, total_paise=q.total_paise, place_of_supply=q.place_of_supply,
                  state=CREATED, created_by=str(getattr(subject, "label", "") or "")[:254],
                  created_at=uow.clock.now())
    uow.session.add(topup)
    await uow.flush()
    topup_id = topup.id
    await uow.release()  # the top-up exists before Razorpay hears of it; no transaction held during the call
    try:
        async with client_for(uow.settings, app) as client:
            order = await client.create_order(q.total_paise, receipt=f"topup_{topup_id}", notes={
                "topup_id": str(topup_id), "organization_id": str(subject.organization_id)})
    except PaymentGatewayError as exc:
        log.warning("razorpay_order_failed", topup_id=topup_id, error=str(exc))
        raise GatewayUnavailable("payment_gateway_unavailable", "The payment gateway didn't answer. Nothing was "
                                                                "charged; try again in a minute.") from None
    topup = await _topup(uow, subject.organization_id, topup_id)
    topup.razorpay_order_id, topup.state = order.id, PAYING
    await uow.flush()
    return topup


async def _topup(uow: UnitOfWork, organization_id: int, topup_id: int) -> Topup:
    topup = await uow.session.scalar(select(Topup).where(Topup.organization_id == organization_id,
                                                         Topup.id == topup_id))
    if topup is None:
        raise NotFound("topup_not_found", "No such recharge in this organization.")
    return topup


async def get(uow: UnitOfWork, subject: Subject, topup_id: int) -> Topup:
    subject.require("wallet:read")
    return await _topup(uow, subject.organization_id, topup_id)


async def history(uow: UnitOfWork, subject: Subject, limit: int = 50) -> list[Topup]:
    subject.require("wallet:read")
    return list((await uow.session.execute(select(Topup).where(Topup.organization_id == subject.organization_id)
                                           .order_by(Topup.id.desc()).limit(limit))).scalars())


async def credit(uow: UnitOfWork, topup: Topup, payment: Payment) -> bool:
    """Credits the wallet and issues the invoice for a captured payment of this top-up's order; once. False if it
    was credited before. A payment that does not match the order (amount, currency) is refused loudly."""
    require_captured(payment, order_id=topup.razorpay_order_id, amount_paise=topup.total_paise,
                     what=f"top-up {topup.id}")
    now = uow.clock.now()
    claimed = await uow.session.execute(
        update(Topup).where(Topup.id == topup.id, Topup.state != CREDITED)
        .values(state=CREDITED, razorpay_payment_id=payment.id, credited_at=now, failure=None)
        .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return False
    session, org = uow.session, topup.organization_id
    clearing = await ledger.account(session, "clearing:razorpay", asset=PAISE, kind="clearing", now=now)
    legs = [ledger.Leg(clearing.id, "debit", topup.total_paise),
            *await accounts.purchase_legs(session, org, taxable_paise=topup.taxable_paise,
                                          units=topup.credits_units, now=now),
            *await gst_legs(session, cgst=topup.cgst_paise, sgst=topup.sgst_paise, igst=topup.igst_paise,
                            direction="credit", now=now)]
    await ledger.post(session, key=f"rzp:pay:{payment.id}:captured", kind="topup", effective_at=now, legs=legs,
                      external_ref=payment.id, details={"topup_id": topup.id, "order_id": topup.razorpay_order_id})
    invoice = await billing_service.issue_invoice(
        uow, org, lines=[LineIn(description=SAC_NOTE, taxable_paise=topup.taxable_paise)],
        source="wallet_recharge", source_id=str(topup.id), paid=True, buyer_state=topup.place_of_supply)
    if invoice.total_paise != topup.total_paise:  # the billing profile's state changed after the order
        log.warning("invoice_total_differs", topup_id=topup.id, invoice=invoice.total_paise, paid=topup.total_paise)
    await session.execute(update(Topup).where(Topup.id == topup.id).values(invoice_id=invoice.id)
                          .execution_options(synchronize_session=False))
    from softdukan.wallet.events import WalletRecharged
    from softdukan.wallet.service import credited

    await credited(uow, org)
    uow.emit(WalletRecharged(organization_id=org, topup_id=topup.id, credits_units=topup.credits_units,
                             invoice_number=invoice.number or ""))
    return True


@on_razorpay("payment.captured")
@on_razorpay("order.paid")
async def on_captured(uow: UnitOfWork, event: RazorpayEvent) -> None:
    """A verified (signed, de-duplicated) capture: credit the top-up it pays. Orders we did not create are not
    ours to act on (another product on the same Razorpay account)."""
    topup = await purchase_of(uow, Topup, event)
    if topup is None or event.payment is None:
        log.info("razorpay_capture_ignored", event_id=event.event_id, reason="no top-up for this order")
        return
    await credit(uow, topup, event.payment)


@on_razorpay("payment.failed")
async def on_failed(uow: UnitOfWork, event: RazorpayEvent) -> None:
    topup = await purchase_of(uow, Topup, event, by_order=False)
    if topup is not None and event.payment is not None:
        await mark_failed(uow, Topup, topup.id, event.payment, open_states=[CREATED, PAYING], failed=FAILED)


async def returned(uow: UnitOfWork, subject: Subject, topup_id: int, *, payment_id: str, order_id: str,
                   signature: str, app: Any | None = None) -> Topup:
    """The checkout came back. Its signature is checked against the order we stored; then the payment is fetched
    from Razorpay (server side) and, if captured, credited at once, so the customer sees the credit without
    waiting for the webhook (which then changes nothing)."""
    topup = await get(uow, subject, topup_id)
    payment = await verified_payment(uow, stored_order_id=topup.razorpay_order_id, order_id=order_id,
                                     payment_id=payment_id, signature=signature, app=app)
    topup = await get(uow, subject, topup_id)
    if payment is not None and payment.status == "captured" and topup.state != CREDITED:
        await credit(uow, topup, payment)
        await uow.session.refresh(topup)
    return topup
