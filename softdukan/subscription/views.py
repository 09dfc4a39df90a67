"""Settings → Plan: the organization's plan or trial (status, days left, what it includes), the catalogue of
plans with their features and limits, cancelling the trial, and the subscription's history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from softdukan.auth.settings_views import flash_for, undo
from softdukan.billing.printing import rupees
from softdukan.dashboard.context import WebContext, WebRequires
from softdukan.dashboard.render import render
from softdukan.plan import service as catalogue
from softdukan.plan.catalog import FEATURES, LIMITS
from softdukan.platform.deps import UoW
from softdukan.platform.errors import DomainError, NotFound
from softdukan.platform.uow import UnitOfWork
from softdukan.subscription import entitlements
from softdukan.subscription import service as subscriptions

router = APIRouter(include_in_schema=False)
FLASH = {"trial_canceled": "The free trial is cancelled. Nothing was charged and your data is kept."}


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
    assert web.subject is not None
    try:
        await subscriptions.cancel_trial(uow, web.subject.organization_id, by=web.subject.label or "a member")
    except DomainError as exc:
        web = await undo(request, uow)
        return await _page(request, uow, web, error=exc.message, status_code=exc.status)
    return RedirectResponse("/settings/plan?flash=trial_canceled", status_code=303)
