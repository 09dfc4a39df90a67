"""Settings → Plan: the organization's plan or trial (status, days left, what it includes), the catalogue of
plans with their features and limits, cancelling the trial, cancelling the paid subscription at period end (and
undoing it), and the subscription's history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from softdukan.auth.settings_views import flash_for, undo
from softdukan.dashboard.context import WebContext, WebRequires
from softdukan.dashboard.render import render
from softdukan.kit.money import paise as rupees
from softdukan.plan import service as catalogue
from softdukan.plan.catalog import FEATURES, LIMITS
from softdukan.platform.deps import UoW
from softdukan.platform.errors import DomainError, NotFound
from softdukan.platform.uow import UnitOfWork
from softdukan.subscription import entitlements, lifecycle
from softdukan.subscription import service as subscriptions

router = APIRouter(include_in_schema=False)
FLASH = {"trial_canceled": "The free trial is cancelled. Nothing was charged and your data is kept.",
         "subscription_canceled": "The subscription is cancelled: it ends at the end of the paid period and access "
                                  "continues until then. Nothing more will be charged.",
         "cancel_undone": "The cancellation is undone; the subscription continues.",
         "paid": "Payment received: the plan is active and its GST invoice is in Invoices.",
         "pending": "Payment received. The plan applies as soon as Razorpay confirms it (usually seconds).",
         "failed": "The payment failed; nothing was charged or changed. Try again or use another method.",
         "cancelled": "The payment was cancelled; nothing was charged.",
         "not_genuine": "That payment confirmation could not be verified; nothing was changed."}


def _days_left(until: datetime | None, now: datetime) -> int | None:
    if until is None:
        return None
    return max(0, (until - now).days + (1 if (until - now).seconds else 0))


async def _page(request: Request, uow: UnitOfWork, web: WebContext, *, status_code: int = 200,
                **context: Any) -> Response:
    assert web.subject is not None
    org_id, now = web.subject.organization_id, uow.clock.now()
    ent = await entitlements.of(uow, org_id)
    try:
        sub = await subscriptions.get(uow, org_id)
    except NotFound:
        sub = None
    ctx: dict[str, Any] = {
        "ent": ent, "sub": sub, "days_left": _days_left(sub.trial_ends_at if sub else None, now),
        "ends_at": lifecycle.ends_on(sub) if sub else None,
        "days_to_end": _days_left(lifecycle.ends_on(sub) if sub else None, now),
        "plans": await catalogue.plans(uow.session, now, active_only=True),
        "products": await catalogue.products(uow.session, now, active_only=True),
        "features": FEATURES, "limits": LIMITS, "rupees": rupees,
        "history": await subscriptions.history(uow, org_id, 20), "error": None,
        "tz": web.organization.timezone if web.organization else "Asia/Kolkata"}
    ctx.update(context)
    return render(request, "subscription/plan.html", ctx, status_code=status_code)


@router.get("/settings/plan", response_class=HTMLResponse)
async def plan_page(request: Request, uow: UoW, web: WebRequires["subscription:read"],
                    flash: str | None = None) -> Response:
    return await _page(request, uow, web, flash=flash_for(FLASH, flash))


@router.post("/settings/plan/cancel-trial", response_class=HTMLResponse)
async def cancel_trial(request: Request, uow: UoW, web: WebRequires["subscription:write"]) -> Response:
    return await _change(request, uow, web, subscriptions.cancel_trial, "trial_canceled")


async def _change(request: Request, uow: UnitOfWork, web: WebContext, change: Any, flash: str) -> Response:
    assert web.subject is not None
    try:
        await change(uow, web.subject.organization_id, by=web.subject.label or "a member")
    except DomainError as exc:
        web = await undo(request, uow)
        return await _page(request, uow, web, error=exc.message, status_code=exc.status)
    return RedirectResponse(f"/settings/plan?flash={flash}", status_code=303)


@router.post("/settings/plan/cancel-subscription", response_class=HTMLResponse)
async def cancel_subscription(request: Request, uow: UoW, web: WebRequires["subscription:write"]) -> Response:
    return await _change(request, uow, web, lifecycle.cancel, "subscription_canceled")


@router.post("/settings/plan/undo-cancel", response_class=HTMLResponse)
async def undo_cancel(request: Request, uow: UoW, web: WebRequires["subscription:write"]) -> Response:
    return await _change(request, uow, web, lifecycle.undo_cancel, "cancel_undone")
