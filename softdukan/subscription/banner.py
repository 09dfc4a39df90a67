"""The in-app reminder on every dashboard page (beside the e-mails): the trial ending soon or over, a paid year
ending within the renewal reminders' reach, a renewal past due, a cancellation taking effect."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from softdukan.dashboard.context import WebRequires
from softdukan.dashboard.render import render
from softdukan.platform.deps import UoW
from softdukan.platform.uow import UnitOfWork
from softdukan.subscription.models import ACTIVE, PAST_DUE, TRIAL_CANCELED, TRIAL_EXPIRED, TRIALING, Subscription

router = APIRouter(include_in_schema=False)
RENEWAL_NOTICE = timedelta(days=30)  # the first renewal reminder's reach


@dataclass(frozen=True)
class Banner:
    level: str  # warning | danger | info
    text: str
    action: str


async def banner_of(uow: UnitOfWork, sub: Subscription | None) -> Banner | None:
    if sub is None:
        return None
    now = uow.clock.now()
    trial_notice = timedelta(days=uow.settings.trial_reminder_days)
    if sub.status == TRIALING and sub.trial_ends_at is not None and sub.trial_ends_at - now <= trial_notice:
        return Banner("warning", f"Your free trial ends on {sub.trial_ends_at:%d %b %Y}. Nothing is charged; "
                                 "choose a plan to keep paid features on.", "Choose a plan")
    if sub.status in (TRIAL_EXPIRED, TRIAL_CANCELED):
        return Banner("danger", "The free trial is over: paid features are paused and your data is kept.",
                      "Choose a plan")
    if sub.status == PAST_DUE:
        grace = f" until {sub.grace_ends_at:%d %b %Y}" if sub.grace_ends_at else ""
        return Banner("danger", f"Your plan's year has ended without a renewal; features stay on{grace}.",
                      "Renew")
    end = sub.current_period_end
    if sub.status == ACTIVE and end is not None and end - now <= RENEWAL_NOTICE:
        if sub.cancel_at_period_end:
            return Banner("info", f"Your subscription is cancelled and ends on {end:%d %b %Y}.", "Undo or renew")
        return Banner("warning", f"Your plan's paid year ends on {end:%d %b %Y}. Nothing renews without you.",
                      "Renew")
    return None


@router.get("/settings/plan/banner", response_class=HTMLResponse)
async def plan_banner(request: Request, uow: UoW, web: WebRequires["subscription:read"]) -> Response:
    assert web.subject is not None
    sub = await uow.session.scalar(select(Subscription).where(
        Subscription.organization_id == web.subject.organization_id))
    found = await banner_of(uow, sub)
    return render(request, "subscription/_banner.html", {"banner": found})
