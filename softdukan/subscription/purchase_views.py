"""Settings → Plan → choose a plan: the price with add-ons and GST (an upgrade: the difference for the rest of the
year), then Razorpay Checkout over the pay page, then back with the plan applied and its GST invoice."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from softdukan.auth.settings_views import undo
from softdukan.dashboard.context import WebContext, WebRequires
from softdukan.dashboard.render import render
from softdukan.kit.ids import PathId
from softdukan.kit.money import paise as rupees
from softdukan.plan import service as catalogue
from softdukan.platform.deps import UoW
from softdukan.platform.errors import DomainError
from softdukan.platform.uow import UnitOfWork
from softdukan.subscription import purchase
from softdukan.subscription.models import ORDER_FAILED, ORDER_PAID, ORDER_PAYING

router = APIRouter(include_in_schema=False)
RESULT = {ORDER_PAID: "paid", ORDER_FAILED: "failed"}


async def _addons(request: Request, uow: UnitOfWork, source: Any) -> dict[str, int]:
    """The add-on quantities asked for (`qty_<code>` fields); unreadable ones count as 0 and are shown so."""
    wanted: dict[str, int] = {}
    for product in await catalogue.products(uow.session, uow.clock.now(), active_only=True):
        text = str(source.get(f"qty_{product.code}") or "").strip()[:4]
        if text.isascii() and text.isdigit() and int(text):
            wanted[product.code] = int(text)
    return wanted


async def _choose_page(request: Request, uow: UnitOfWork, web: WebContext, plan: str, addons: dict[str, int], *,
                       status_code: int = 200, error: str | None = None) -> Response:
    assert web.subject is not None
    now = uow.clock.now()
    quote, problem, addons_only = None, error, False
    if problem is None:
        try:
            quote = await purchase.quote(uow, web.subject.organization_id, plan, addons)
        except DomainError as exc:
            # the current plan mid-year: not renewable yet, but add-ons can be bought for the rest of the year
            addons_only = exc.code == "renewal_not_open" and not addons
            problem, status_code = (None, 200) if addons_only else (exc.message, exc.status)
    return render(request, "subscription/choose.html", {
        "web": web, "plan_code": plan, "quote": quote, "error": problem, "addons": addons, "rupees": rupees,
        "addons_only": addons_only,
        "products": await catalogue.products(uow.session, now, active_only=True)}, status_code=status_code)


@router.get("/settings/plan/choose", response_class=HTMLResponse)
async def choose(request: Request, uow: UoW, web: WebRequires["subscription:write"],
                 plan: str = Query(default="", max_length=40)) -> Response:
    return await _choose_page(request, uow, web, plan, await _addons(request, uow, request.query_params))


@router.post("/settings/plan/orders", response_class=HTMLResponse)
async def start_order(request: Request, uow: UoW, web: WebRequires["subscription:write"]) -> Response:
    assert web.subject is not None
    form = await request.form(max_files=0, max_fields=60)
    plan = str(form.get("plan") or "")[:40]
    addons = await _addons(request, uow, form)
    try:
        order = await purchase.start(uow, web.subject, plan, addons, app=request.app)
    except DomainError as exc:
        web = await undo(request, uow)
        return await _choose_page(request, uow, web, plan, addons, status_code=exc.status, error=exc.message)
    return RedirectResponse(str(request.url_for("plan_order_pay", order_id=order.id)), status_code=303)


@router.get("/settings/plan/orders/{order_id}/pay", name="plan_order_pay", response_class=HTMLResponse)
async def pay(request: Request, uow: UoW, web: WebRequires["subscription:write"], order_id: PathId) -> Response:
    assert web.subject is not None
    order = await purchase.get(uow, web.subject, order_id)
    if order.state != ORDER_PAYING or order.razorpay_order_id is None:
        return RedirectResponse(f"/settings/plan?flash={RESULT.get(order.state, 'cancelled')}", status_code=303)
    settings = uow.settings
    options = {"key": settings.razorpay_keys[0], "order_id": order.razorpay_order_id, "amount": order.total_paise,
               "currency": "INR", "name": settings.supplier_legal_name,
               "description": "; ".join(line["description"] for line in order.lines)[:250],
               "prefill": {"email": web.user.email}, "notes": {"plan_order_id": str(order.id)},
               "theme": {"color": "#198754"}}
    return render(request, "subscription/pay.html", {
        "web": web, "order": order, "options": options, "checkout_js": settings.razorpay_checkout_js,
        "return_url": str(request.url_for("plan_order_returned", order_id=order.id)), "rupees": rupees})


@router.get("/settings/plan/orders/{order_id}/return", name="plan_order_returned", response_class=HTMLResponse)
async def order_returned(request: Request, uow: UoW, web: WebRequires["subscription:read"], order_id: PathId,
                         razorpay_payment_id: str = Query(default="", max_length=40),
                         razorpay_order_id: str = Query(default="", max_length=40),
                         razorpay_signature: str = Query(default="", max_length=128)) -> Response:
    assert web.subject is not None
    if not razorpay_payment_id:  # closed, or failed at the checkout: nothing was paid
        order = await purchase.get(uow, web.subject, order_id)
        return RedirectResponse(f"/settings/plan?flash={'failed' if order.state == ORDER_FAILED else 'cancelled'}",
                                status_code=303)
    try:
        order = await purchase.returned(uow, web.subject, order_id, payment_id=razorpay_payment_id,
                                        razorpay_order_id=razorpay_order_id, signature=razorpay_signature,
                                        app=request.app)
    except DomainError as exc:
        await undo(request, uow)
        return RedirectResponse(f"/settings/plan?flash=not_genuine&code={exc.code}", status_code=303)
    return RedirectResponse(f"/settings/plan?flash={'paid' if order.state == ORDER_PAID else 'pending'}",
                            status_code=303)
