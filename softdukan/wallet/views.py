"""Settings → WhatsApp credits: balance, held and available; the low-balance alert; usage by month, category and
country (table and chart) with a drill-down to the charged messages and a CSV export; the low-balance banner."""

from __future__ import annotations

import csv
import io
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from softdukan.auth.settings_views import Text, flash_for, undo
from softdukan.auth.views import form_errors
from softdukan.billing.service import billing_service
from softdukan.contact.csv_safe import safe_cell
from softdukan.dashboard.context import WebContext, WebRequires
from softdukan.dashboard.render import render
from softdukan.kit.ids import MAX_ID, PathId
from softdukan.kit.money import credits as rupees
from softdukan.kit.money import paise as money
from softdukan.platform.deps import UoW
from softdukan.platform.errors import DomainError, Invalid
from softdukan.platform.uow import UnitOfWork
from softdukan.wallet import recharge, usage
from softdukan.wallet.markets import market_name
from softdukan.wallet.service import set_threshold, summary_for

router = APIRouter(include_in_schema=False)
FLASH = {"alert": "Saved. You'll get an e-mail and a banner when the available balance falls below it.",
         "credited": "Payment received: the credits are in your wallet and the invoice is below.",
         "paid": "Payment received. The credits appear as soon as Razorpay confirms it (usually seconds).",
         "failed": "The payment failed; nothing was charged or credited. Try again or use another method.",
         "cancelled": "The payment was cancelled; nothing was charged."}
MONTH = Query(default=None, max_length=7, pattern=r"^\d{4}-\d{2}$")


def _paise(text: str) -> int:
    """'1000' or '1,000.50' rupees → paise (what a recharge is asked in)."""
    try:
        value = Decimal(text.replace(",", "").replace("₹", "").strip())
    except InvalidOperation:
        raise Invalid("invalid_amount", "Enter an amount in rupees, e.g. 1000.", {"amount": "Rupees."}) from None
    if not value.is_finite() or value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise Invalid("invalid_amount", "Enter rupees with at most two decimals, e.g. 1000.50.", {"amount": "Rupees."})
    return int(value * 100)


def _units(text: str) -> int:
    """'250' or '250.50' rupees → units of ₹0.0001."""
    try:
        value = Decimal(text.replace(",", "").replace("₹", "").strip())
    except InvalidOperation:
        raise Invalid("invalid_amount", "Enter an amount in rupees, e.g. 250.",
                      {"threshold": "An amount in rupees."}) from None
    if not value.is_finite() or value < 0 or value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise Invalid("invalid_amount", "Enter an amount in rupees with at most two decimals, e.g. 250.50.",
                      {"threshold": "Rupees and paise, not less than 0."})
    return int(value * 10_000)


def _chart(months: list[tuple[str, int, int]]) -> list[dict[str, Any]]:
    top = max((units for _, _, units in months), default=0) or 1
    return [{"month": m, "messages": n, "amount": rupees(u), "pct": round(100 * u / top, 1)}
            for m, n, u in reversed(months)]


async def _invoice_numbers(uow: UnitOfWork, subject: Any) -> dict[int, str]:
    if not subject.can("billing:read"):
        return {}
    return {d.id: d.number or "" for d in await billing_service.list_documents(uow, subject, doc_type="invoice",
                                                                              limit=50)}


async def _page(request: Request, uow: UnitOfWork, web: WebContext, month: str | None, *, status_code: int = 200,
                **context: Any) -> Response:
    assert web.subject is not None
    org_id, now = web.subject.organization_id, uow.clock.now()
    month = month or usage.month_of(now)
    report = await usage.month_usage(uow, org_id, month)
    months = await usage.monthly_totals(uow, org_id, usage.last_months(now, 12))
    summary = await summary_for(uow, org_id)
    ctx: dict[str, Any] = {"summary": summary, "report": report, "month": month, "months": _chart(months),
                           "rupees": rupees, "errors": {}, "amount": "1000",
                           "topups": await recharge.history(uow, web.subject, 20),
                           "invoices": await _invoice_numbers(uow, web.subject),
                           "threshold": f"{Decimal(summary.low_balance_units) / 10_000:.2f}"}
    ctx.update(context)
    return render(request, "wallet/credits.html", ctx, status_code=status_code)


@router.get("/settings/credits", response_class=HTMLResponse)
async def credits_page(request: Request, uow: UoW, web: WebRequires["wallet:read"], month: str | None = MONTH,
                       flash: str | None = None) -> Response:
    return await _page(request, uow, web, month, flash=flash_for(FLASH, flash))


@router.post("/settings/credits/alert", response_class=HTMLResponse)
async def save_alert(request: Request, uow: UoW, web: WebRequires["wallet:write"], threshold: Text = "") -> Response:
    assert web.subject is not None
    try:
        await set_threshold(uow, web.subject, _units(threshold[:30]))
    except DomainError as exc:
        web = await undo(request, uow)
        error, errors = form_errors(exc)
        return await _page(request, uow, web, None, status_code=exc.status, error=error, errors=errors,
                           threshold=threshold[:30])
    return RedirectResponse("/settings/credits?flash=alert", status_code=303)


@router.post("/settings/credits/recharge", response_class=HTMLResponse)
async def start_recharge(request: Request, uow: UoW, web: WebRequires["wallet:write"], amount: Text = "") -> Response:
    assert web.subject is not None
    try:
        topup = await recharge.start(uow, web.subject, _paise(amount[:30]), app=request.app)
    except DomainError as exc:
        web = await undo(request, uow)
        error, errors = form_errors(exc)
        return await _page(request, uow, web, None, status_code=exc.status, error=error,
                           errors={"amount": errors.get("amount", error)}, amount=amount[:30])
    return RedirectResponse(str(request.url_for("recharge_pay", topup_id=topup.id)), status_code=303)


@router.get("/settings/credits/recharges/{topup_id}/pay", name="recharge_pay", response_class=HTMLResponse)
async def recharge_pay(request: Request, uow: UoW, web: WebRequires["wallet:write"], topup_id: PathId) -> Response:
    """Razorpay Standard Checkout over this page (checkout.js: Razorpay's, or the sandbox's stand-in); its
    signed answer goes to the return route, which verifies it and fetches the payment."""
    assert web.subject is not None
    topup = await recharge.get(uow, web.subject, topup_id)
    if topup.state != "paying" or topup.razorpay_order_id is None:  # paid, failed, or never reached Razorpay
        done = {"credited": "credited", "failed": "failed"}.get(topup.state, "cancelled")
        return RedirectResponse(f"/settings/credits?flash={done}", status_code=303)
    settings = uow.settings
    options = {"key": settings.razorpay_keys[0], "order_id": topup.razorpay_order_id, "amount": topup.total_paise,
               "currency": "INR", "name": settings.supplier_legal_name,
               "description": f"WhatsApp credits ₹{money(topup.taxable_paise)} + GST",
               "prefill": {"email": web.user.email}, "notes": {"topup_id": str(topup.id)},
               "theme": {"color": "#198754"}}
    return render(request, "wallet/checkout.html", {
        "web": web, "topup": topup, "options": options, "checkout_js": settings.razorpay_checkout_js,
        "return_url": str(request.url_for("recharge_returned", topup_id=topup.id)),
        "money": lambda paise: "₹" + money(paise)})


@router.get("/settings/credits/recharges/{topup_id}/return", name="recharge_returned", response_class=HTMLResponse)
async def recharge_returned(request: Request, uow: UoW, web: WebRequires["wallet:read"], topup_id: PathId,
                            razorpay_payment_id: str = Query(default="", max_length=40),
                            razorpay_order_id: str = Query(default="", max_length=40),
                            razorpay_signature: str = Query(default="", max_length=128)) -> Response:
    assert web.subject is not None
    if not razorpay_payment_id:  # failed or cancelled at the checkout: nothing was paid
        topup = await recharge.get(uow, web.subject, topup_id)
        return RedirectResponse(f"/settings/credits?flash={'failed' if topup.state == 'failed' else 'cancelled'}",
                                status_code=303)
    try:
        topup = await recharge.returned(uow, web.subject, topup_id, payment_id=razorpay_payment_id,
                                        order_id=razorpay_order_id, signature=razorpay_signature, app=request.app)
    except DomainError as exc:
        web = await undo(request, uow)
        return await _page(request, uow, web, None, status_code=exc.status, error=exc.message)
    return RedirectResponse(f"/settings/credits?flash={'credited' if topup.state == 'credited' else 'paid'}",
                            status_code=303)


@router.get("/settings/credits/charges", response_class=HTMLResponse)
async def charges_page(request: Request, uow: UoW, web: WebRequires["wallet:read"], month: str | None = MONTH,
                       category: str | None = Query(default=None, max_length=40),
                       country: str | None = Query(default=None, max_length=8),
                       broadcast_id: int | None = Query(default=None, ge=1, le=MAX_ID),
                       before_id: int | None = Query(default=None, ge=1, le=MAX_ID)) -> Response:
    assert web.subject is not None
    if month is None and broadcast_id is None:
        month = usage.month_of(uow.clock.now())
    rows = await usage.charges(uow, web.subject.organization_id, month, category=category, market=country,
                               broadcast_id=broadcast_id, before_id=before_id, limit=100)
    messages = await usage.charged_messages(uow, web.subject.organization_id, [r.message_id for r in rows])
    return render(request, "wallet/charges.html", {
        "rows": rows, "messages": messages, "month": month, "category": category, "country": country,
        "broadcast_id": broadcast_id, "rupees": rupees, "market_name": market_name,
        "next_before": rows[-1].id if len(rows) == 100 else None})


@router.get("/settings/credits/usage.csv")
async def usage_csv(uow: UoW, web: WebRequires["wallet:read"], month: str | None = MONTH) -> Response:
    assert web.subject is not None
    month = month or usage.month_of(uow.clock.now())
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["charged_at", "message_id", "wamid", "recipient", "broadcast_id", "category", "country",
                     "pricing_model", "pricing_type", "charged_inr", "charged_units", "held_units"])
    before: int | None = None
    while True:
        rows = await usage.charges(uow, web.subject.organization_id, month, before_id=before, limit=1000)
        messages = await usage.charged_messages(uow, web.subject.organization_id, [r.message_id for r in rows])
        for r in rows:
            m = messages.get(r.message_id)
            writer.writerow([r.charged_at.isoformat() if r.charged_at else "", r.message_id,
                             safe_cell(m.wamid or "") if m else "", safe_cell(m.wa_id) if m else "",
                             r.broadcast_id or "", r.category, market_name(r.market), r.pricing_model or "",
                             r.pricing_type or "", f"{Decimal(r.charged_units or 0) / 10_000:.4f}",
                             r.charged_units or 0, r.held_units])
        if len(rows) < 1000:
            break
        before = rows[-1].id
    data = buffer.getvalue()
    return StreamingResponse(iter([data]), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="whatsapp-credits-{month}.csv"'})


@router.get("/settings/credits/banner", response_class=HTMLResponse)
async def banner(request: Request, uow: UoW, web: WebRequires["wallet:read"]) -> Response:
    assert web.subject is not None
    summary = await summary_for(uow, web.subject.organization_id)
    return render(request, "wallet/_banner.html", {"summary": summary, "rupees": rupees})
