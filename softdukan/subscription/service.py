"""The subscription's life so far: the free trial (policy clause 1) — started at sign-up with no payment method,
once per business, cancellable at any time, never turning into a charge — and its end, after which paid features
lock and data stays. Subscribing, renewal and cancellation at period end build on the same row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import phonenumbers
from sqlalchemy import func, select, update

from softdukan.audit.service import audit_service
from softdukan.backoffice.models import StaffUser
from softdukan.config import Settings
from softdukan.kit.upsert import insert_ignore
from softdukan.organization.models import Organization
from softdukan.plan import service as catalogue
from softdukan.plan.catalog import TRIAL_PLAN
from softdukan.plan.models import Plan
from softdukan.platform.errors import Conflict, Invalid, NotFound
from softdukan.platform.uow import UnitOfWork
from softdukan.subscription.models import (
    ACTIVE,
    CANCELED,
    NO_TRIAL,
    ORDER_PAID,
    PAST_DUE,
    TRIAL_CANCELED,
    TRIAL_EXPIRED,
    TRIALING,
    PlanOrder,
    Subscription,
    SubscriptionEvent,
    TrialClaim,
)

CLAIM_WORDS = {"email": "owner e-mail", "gstin": "GSTIN", "phone": "WhatsApp number"}


def normalize(kind: str, value: str) -> str:
    value = (value or "").strip()
    if kind == "email":
        return value.lower()
    if kind == "gstin":
        return value.upper()
    try:  # a WhatsApp number: E.164, whatever its spelling
        return phonenumbers.format_number(phonenumbers.parse(value if value.startswith("+") else "+" + value),
                                          phonenumbers.PhoneNumberFormat.E164)
    except phonenumbers.NumberParseException:
        return value


def record(uow: UnitOfWork, organization_id: int, kind: str, detail: str = "", amount: int | None = None) -> None:
    """A line of the subscription's history."""
    _event(uow, organization_id, kind, detail, amount)


def _event(uow: UnitOfWork, organization_id: int, kind: str, detail: str = "", amount: int | None = None) -> None:
    uow.session.add(SubscriptionEvent(organization_id=organization_id, kind=kind, detail=detail[:300],
                                      amount_paise=amount, created_at=uow.clock.now()))


async def _claim(uow: UnitOfWork, organization_id: int, kind: str, value: str) -> int:
    """Claims `value` for this organization's trial (first come, by unique key); returns the claiming org."""
    value = normalize(kind, value)
    await uow.session.execute(insert_ignore(uow.session, TrialClaim, ["kind", "value"]), [
        {"kind": kind, "value": value, "organization_id": organization_id, "created_at": uow.clock.now()}])
    owner = await uow.session.scalar(select(TrialClaim.organization_id).where(TrialClaim.kind == kind,
                                                                             TrialClaim.value == value))
    assert owner is not None
    return owner


async def get(uow: UnitOfWork, organization_id: int) -> Subscription:
    found = await uow.session.scalar(select(Subscription).where(Subscription.organization_id == organization_id))
    if found is None:
        raise NotFound("no_subscription", "The organization has no subscription yet.")
    return found


async def start_trial(uow: UnitOfWork, organization_id: int, owner_email: str) -> Subscription:
    """At sign-up: the trial on the Basic plan for `trial_days`, no payment method. A business whose owner e-mail
    had a trial already gets none (`no_trial`), with the reason."""
    now = uow.clock.now()
    plan = await catalogue.by_code(uow.session, TRIAL_PLAN, now)
    sub = Subscription(organization_id=organization_id, plan_id=plan.id, created_at=now, updated_at=now,
                       cancel_at_period_end=False)
    if await _claim(uow, organization_id, "email", owner_email) == organization_id:
        sub.status, sub.trial_started_at = TRIALING, now
        sub.trial_ends_at = now + timedelta(days=uow.settings.trial_days)
        _event(uow, organization_id, "trial.started", f"{uow.settings.trial_days}-day free trial of {plan.name}")
    else:
        sub.status, sub.status_reason = NO_TRIAL, "This owner e-mail has had a free trial already."
        _event(uow, organization_id, "trial.refused", sub.status_reason)
    uow.session.add(sub)
    await uow.flush()
    return sub


async def backfill(settings: Settings) -> int:
    """`softdukan migrate`: organizations made before plans existed get what sign-up gives now (the trial, or no
    trial if their owner's e-mail had one). Each in its own transaction; the number started."""
    from softdukan.auth.models import User
    from softdukan.organization.models import Membership
    from softdukan.platform.runtime import build_runtime
    from softdukan.platform.uow import unit_of_work

    runtime, started = build_runtime(settings), 0
    try:
        async with runtime.sessionmaker() as session:
            missing = (await session.execute(
                select(Organization.id, func.min(User.email)).join(
                    Membership, (Membership.organization_id == Organization.id) & Membership.is_owner).join(
                    User, User.id == Membership.user_id).outerjoin(
                    Subscription, Subscription.organization_id == Organization.id).where(
                    Subscription.id.is_(None)).group_by(Organization.id))).all()
        for organization_id, owner_email in missing:
            async with unit_of_work(runtime) as uow:
                await start_trial(uow, organization_id, owner_email)
                started += 1
    finally:
        await runtime.close()
    return started


async def claim_for_trial(uow: UnitOfWork, organization_id: int, kind: str, value: str) -> None:
    """A GSTIN or WhatsApp number the organization now uses: claimed for its trial. If another business's trial
    claimed it first, this organization's trial ends now — one trial per business (clause 1)."""
    if not value:
        return
    owner = await _claim(uow, organization_id, kind, value)
    if owner == organization_id:
        return
    reason = f"This {CLAIM_WORDS[kind]} has had a free trial already, with another organization."
    ended = await uow.session.execute(
        update(Subscription).where(Subscription.organization_id == organization_id, Subscription.status == TRIALING)
        .values(status=NO_TRIAL, status_reason=reason, trial_ends_at=uow.clock.now(), updated_at=uow.clock.now()))
    if ended.rowcount:  # type: ignore[attr-defined]
        _event(uow, organization_id, "trial.refused", reason)


async def cancel_trial(uow: UnitOfWork, organization_id: int, *, by: str) -> Subscription:
    """Ends the trial now, at the customer's word; nothing is or will be charged."""
    sub = await get(uow, organization_id)
    if sub.status != TRIALING:
        raise Conflict("not_trialing", "Only a running free trial can be cancelled.")
    now = uow.clock.now()
    sub.status, sub.trial_ends_at, sub.updated_at = TRIAL_CANCELED, now, now
    sub.status_reason = "The free trial was cancelled."
    _event(uow, organization_id, "trial.canceled", f"by {by}")
    await uow.flush()
    return sub


EXTEND_DAYS_MIN, EXTEND_DAYS_MAX = 1, 30
EXTEND_REASON_MAX = 300


def _extension_errors(days: int, reason: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not EXTEND_DAYS_MIN <= days <= EXTEND_DAYS_MAX:
        errors["days"] = f"A whole number of days from {EXTEND_DAYS_MIN} to {EXTEND_DAYS_MAX}."
    if not reason:
        errors["reason"] = "A reason is required."
    elif len(reason) > EXTEND_REASON_MAX:
        errors["reason"] = f"Use at most {EXTEND_REASON_MAX} characters."
    return errors


async def _extendable(uow: UnitOfWork, org: Organization) -> Subscription:
    """The organization's subscription, locked, if its trial may be extended: running, or expired with nothing
    ever paid for (a paid plan, running or ended, is past the trial for good)."""
    sub = await uow.session.scalar(select(Subscription).where(Subscription.organization_id == org.id)
                                   .with_for_update())
    if sub is None:
        raise Conflict("no_subscription", f"{org.name} has no subscription, so there is no trial to extend.")
    if sub.status in (ACTIVE, PAST_DUE):
        raise Conflict("has_paid_plan", f"{org.name} has a paid plan; only a free trial can be extended.")
    if sub.status == CANCELED:
        raise Conflict("had_paid_plan", f"{org.name} had a paid plan; a trial cannot be extended after one.")
    if sub.status == TRIAL_CANCELED:
        raise Conflict("trial_canceled", f"{org.name} cancelled its free trial; a cancelled trial is not extended.")
    if sub.status == NO_TRIAL:
        raise Conflict("no_trial", f"{org.name} has no free trial to extend: {sub.status_reason or 'none was given'}")
    paid = await uow.session.scalar(select(PlanOrder.id).where(PlanOrder.organization_id == org.id,
                                                               PlanOrder.state == ORDER_PAID).limit(1))
    if paid is not None:
        raise Conflict("has_paid_plan", f"{org.name} has paid for a plan; only a free trial can be extended.")
    return sub


async def extend_trial(uow: UnitOfWork, organization_id: int, days: int, reason: str, staff: StaffUser,
                       ip: str | None = None) -> Subscription:
    """Staff give a trialing organization `days` more (1–30) from the trial's end, or from now if it has passed;
    an expired trial runs again. Audited with the staff member's reason; the customer is told by e-mail."""
    reason = " ".join("".join(ch for ch in reason if ch.isprintable() or ch.isspace()).split())
    errors = _extension_errors(days, reason)
    if errors:
        message = ("Extend the trial by 1 to 30 days." if "days" in errors
                   else "Say why the trial is extended." if not reason else "The reason is too long.")
        raise Invalid("invalid_trial_extension", message, errors)
    org = await uow.session.get(Organization, organization_id)
    if org is None:
        raise NotFound("organization_not_found", "No organization with this id.")
    sub = await _extendable(uow, org)
    now = uow.clock.now()
    previous_status, previous_end = sub.status, sub.trial_ends_at
    new_end = max(previous_end or now, now) + timedelta(days=days)
    sub.status, sub.status_reason, sub.trial_ends_at, sub.updated_at = TRIALING, "", new_end, now
    sub.trial_reminded_at = None  # the "trial ends soon" e-mail is due again before the new end
    _event(uow, org.id, "trial.extended", f"by {days} day{'s' if days != 1 else ''} to {_day(new_end)}, "
                                          "by SoftDukan support")
    audit_service.record(uow, "subscription.trial_extended", organization_id=org.id, actor_type="staff",
                         actor_id=staff.id, actor_label=staff.email, target=sub, target_label=org.name, ip=ip,
                         reason=reason, days=days, previous_status=previous_status,
                         previous_trial_ends_at=previous_end.isoformat() if previous_end else None,
                         trial_ends_at=new_end.isoformat())
    await _mail_owners(uow, org.id, "Your SoftDukan free trial is extended",
                       f"SoftDukan support extended your free trial by {days} day{'s' if days != 1 else ''}: it now "
                       f"ends on {_day(new_end)}. Nothing will be charged. Choose a plan any time in Settings → Plan.")
    await uow.flush()
    return sub


def one_year_after(at: datetime) -> datetime:
    """The same moment a year later (29 February → 28 February)."""
    try:
        return at.replace(year=at.year + 1)
    except ValueError:
        return at.replace(year=at.year + 1, day=28)


async def activate(uow: UnitOfWork, organization_id: int, plan_code: str, *, period_start: datetime, source: str,
                   amount_paise: int | None = None) -> Subscription:
    """A paid year on `plan_code` from `period_start` (a captured payment, or staff granting it). Ends a running
    trial; the plan must be on sale."""
    now = uow.clock.now()
    plan = await catalogue.by_code(uow.session, plan_code, now)
    if not plan.active:
        raise Conflict("plan_retired", f"The {plan.name} plan is no longer offered; choose another plan.")
    sub = await uow.session.scalar(select(Subscription).where(Subscription.organization_id == organization_id))
    if sub is None:
        sub = Subscription(organization_id=organization_id, created_at=now)
        uow.session.add(sub)
    if sub.status == TRIALING:
        sub.trial_ends_at = now
    sub.plan_id, sub.status, sub.status_reason = plan.id, ACTIVE, ""
    sub.current_period_start, sub.current_period_end = period_start, one_year_after(period_start)
    sub.cancel_at_period_end, sub.canceled_at, sub.ended_at, sub.grace_ends_at = False, None, None, None
    sub.renewal_reminded_at, sub.renewal_last_reminder_days = None, None  # the new year's reminders are due
    sub.updated_at = now
    _event(uow, organization_id, "subscription.activated", f"{plan.name}, one year ({source})", amount_paise)
    await uow.flush()
    return sub


@dataclass(frozen=True)
class Swept:
    reminded: int
    expired: int


async def sweep_trials(uow: UnitOfWork) -> Swept:
    """The scheduled pass: a reminder e-mail `trial_reminder_days` before the end (once), and every trial past its
    end moved to `trial_expired` (paid features lock, data stays, nothing is charged)."""
    now, settings = uow.clock.now(), uow.settings
    soon = now + timedelta(days=settings.trial_reminder_days)
    due = (await uow.session.execute(select(Subscription).where(
        Subscription.status == TRIALING, Subscription.trial_reminded_at.is_(None), Subscription.trial_ends_at <= soon,
        Subscription.trial_ends_at > now).limit(500))).scalars().all()
    for sub in due:
        claimed = await uow.session.execute(update(Subscription).where(
            Subscription.id == sub.id, Subscription.trial_reminded_at.is_(None)).values(trial_reminded_at=now))
        if claimed.rowcount:  # type: ignore[attr-defined]
            assert sub.trial_ends_at is not None
            await _mail_owners(uow, sub.organization_id, "Your SoftDukan free trial ends soon",
                               f"Your free trial ends on {_day(sub.trial_ends_at)}. Nothing will be charged: when it "
                               "ends, paid features pause and your data stays. Choose a plan any time in Settings → "
                               "Plan to keep going.")
            _event(uow, sub.organization_id, "trial.reminded")
    over = (await uow.session.execute(select(Subscription).where(
        Subscription.status == TRIALING, Subscription.trial_ends_at <= now).limit(500))).scalars().all()
    for sub in over:
        ended = await uow.session.execute(update(Subscription).where(
            Subscription.id == sub.id, Subscription.status == TRIALING).values(
            status=TRIAL_EXPIRED, status_reason="The free trial has ended.", updated_at=now))
        if ended.rowcount:  # type: ignore[attr-defined]
            await _mail_owners(uow, sub.organization_id, "Your SoftDukan free trial has ended",
                               "Your free trial has ended and nothing was charged. Paid features are paused and all "
                               "your data is kept. Choose a plan in Settings → Plan to continue.")
            _event(uow, sub.organization_id, "trial.expired")
    return Swept(len(due), len(over))


def _day(at: datetime) -> str:
    from zoneinfo import ZoneInfo

    return at.astimezone(ZoneInfo("Asia/Kolkata")).strftime("%-d %B %Y")


async def _mail_owners(uow: UnitOfWork, organization_id: int, subject: str, text: str) -> None:
    """To whoever may manage the subscription: owners and members whose role has subscription:write."""
    from softdukan.notification.recipients import emails_with
    from softdukan.notification.service import mail_service

    link = f"{uow.settings.base_url.rstrip('/')}/settings/plan"
    for email in await emails_with(uow, organization_id, "subscription:write"):
        await mail_service.send(uow, to=email, subject=subject, text=f"{text}\n\n{link}\n")


async def plan_of(uow: UnitOfWork, organization_id: int) -> str:
    """The plan code pricing and entitlements follow (Basic while trialing or without a subscription)."""
    code = await uow.session.scalar(select(Plan.code).join(Subscription, Subscription.plan_id == Plan.id)
                                    .where(Subscription.organization_id == organization_id))
    return code or TRIAL_PLAN


async def history(uow: UnitOfWork, organization_id: int, limit: int = 50) -> list[SubscriptionEvent]:
    return list((await uow.session.execute(
        select(SubscriptionEvent).where(SubscriptionEvent.organization_id == organization_id)
        .order_by(SubscriptionEvent.id.desc()).limit(limit))).scalars())
