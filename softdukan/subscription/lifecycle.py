"""A paid subscription after it is bought (policy clauses 2 and 5; billing reference §2): reminders before the paid
year ends, cancellation at period end (access lasts to the end of the year; no refund, no credit note) and its undo,
and the period-end sweep — cancelled subscriptions end, unrenewed ones go past due for a grace period and then end.
Renewal is never charged here: no mandate exists, so a year is renewed only when the customer pays again (the
purchase flow calls `service.activate` with `renewal_start`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_, select, update

from softdukan.platform.errors import Conflict, NotFound
from softdukan.platform.uow import UnitOfWork
from softdukan.subscription.models import ACTIVE, CANCELED, PAST_DUE, TRIALING, Subscription
from softdukan.subscription.service import _day, _event, _mail_owners

REMINDER_DAYS = (1, 7, 30)  # before current_period_end; the most urgent one due goes out, each once a period
BATCH = 500
CANCEL_WORDS = ("Access continues until then and nothing more is charged; as the Cancellation & Refund Policy says, "
                "there is no refund for the rest of the paid year.")


def ends_on(sub: Subscription) -> datetime | None:
    """When access ends if nothing more is paid: the paid year's end, or the grace period's once past due."""
    return sub.grace_ends_at if sub.status == PAST_DUE else sub.current_period_end


def renewal_start(sub: Subscription | None, now: datetime) -> datetime:
    """Where a renewal's paid year starts: at the current year's end if it is still running (renewing early
    loses nothing), else now."""
    if sub is None or sub.current_period_end is None or sub.status not in (ACTIVE, PAST_DUE):
        return now
    return max(sub.current_period_end, now)


async def _locked(uow: UnitOfWork, organization_id: int) -> Subscription:
    found = await uow.session.scalar(select(Subscription).where(Subscription.organization_id == organization_id)
                                     .with_for_update())
    if found is None:
        raise NotFound("no_subscription", "The organization has no subscription yet.")
    return found


async def cancel(uow: UnitOfWork, organization_id: int, *, by: str) -> Subscription:
    """Cancels at period end (clause 5): stays entitled until the paid year (or, past due, the grace period) ends,
    then the sweep ends it. Nothing is refunded or credited (clause 2)."""
    sub = await _locked(uow, organization_id)
    if sub.status == TRIALING:
        raise Conflict("subscription_is_trial", "This is a free trial, not a paid subscription: use “Cancel the free "
                                                "trial” instead (nothing is charged either way).")
    if sub.status not in (ACTIVE, PAST_DUE):
        raise Conflict("not_subscribed", "There is no running paid subscription to cancel.")
    end = ends_on(sub)
    assert end is not None
    if sub.cancel_at_period_end:
        raise Conflict("already_canceled", f"The subscription is already cancelled; it ends on {_day(end)}.")
    now = uow.clock.now()
    sub.cancel_at_period_end, sub.canceled_at, sub.updated_at = True, now, now
    _event(uow, organization_id, "subscription.cancel_scheduled", f"ends on {_day(end)}, by {by}")
    await _mail_owners(uow, organization_id, "Your SoftDukan subscription is cancelled",
                       f"The subscription was cancelled by {by}. It ends on {_day(end)}. {CANCEL_WORDS} Changed your "
                       "mind? Undo the cancellation in Settings → Plan before then.")
    await uow.flush()
    return sub


async def undo_cancel(uow: UnitOfWork, organization_id: int, *, by: str) -> Subscription:
    """Takes back a pending cancellation before the subscription ends."""
    sub = await _locked(uow, organization_id)
    now, end = uow.clock.now(), ends_on(sub)
    if sub.status not in (ACTIVE, PAST_DUE) or end is None or end <= now:
        raise Conflict("subscription_ended", "The subscription has ended; subscribe again in Settings → Plan.")
    if not sub.cancel_at_period_end:
        raise Conflict("no_pending_cancellation", "The subscription is not cancelled; there is nothing to undo.")
    sub.cancel_at_period_end, sub.canceled_at, sub.updated_at = False, None, now
    _event(uow, organization_id, "subscription.cancel_undone", f"by {by}")
    renew = ("renew by then to keep access" if sub.status == PAST_DUE
             else "renewal is never charged automatically: renew in Settings → Plan before then")
    await _mail_owners(uow, organization_id, "Your SoftDukan subscription continues",
                       f"{by} undid the cancellation. The subscription runs until {_day(end)}; {renew}.")
    await uow.flush()
    return sub


@dataclass(frozen=True)
class SweptPeriods:
    reminded: int
    ended: int  # cancelled at period end, now canceled
    past_due: int
    expired: int  # grace over without renewal, now canceled

    @property
    def full(self) -> bool:
        return max(self.reminded, self.ended, self.past_due, self.expired) >= BATCH


async def sweep_periods(uow: UnitOfWork) -> SweptPeriods:
    """The scheduled pass over paid years: ends what was cancelled, moves unrenewed years to past due (grace),
    ends past-due ones whose grace is over, and sends the renewal reminders. Every change is a guarded UPDATE, so two
    sweepers never move or mail a subscription twice."""
    ended = await _end_cancelled(uow)
    lapsed = await _lapse_unrenewed(uow)
    expired = await _expire_grace(uow)
    reminded = await _remind(uow)
    return SweptPeriods(reminded, ended, lapsed, expired)


async def _due(uow: UnitOfWork, *where: ColumnElement[bool]) -> list[Subscription]:
    return list((await uow.session.execute(select(Subscription).where(*where).order_by(Subscription.id)
                                           .limit(BATCH))).scalars())


async def _end_cancelled(uow: UnitOfWork) -> int:
    now, count = uow.clock.now(), 0
    for sub in await _due(uow, Subscription.status == ACTIVE, Subscription.cancel_at_period_end.is_(True),
                          Subscription.current_period_end <= now):
        assert sub.current_period_end is not None
        end = _day(sub.current_period_end)
        moved = await uow.session.execute(update(Subscription).where(
            Subscription.id == sub.id, Subscription.status == ACTIVE, Subscription.cancel_at_period_end.is_(True))
            .values(status=CANCELED, ended_at=now, updated_at=now,
                    status_reason=f"The subscription was cancelled and ended on {end}."))
        if moved.rowcount:  # type: ignore[attr-defined]
            count += 1
            _event(uow, sub.organization_id, "subscription.ended", f"cancelled, ended on {end}")
            await _mail_owners(uow, sub.organization_id, "Your SoftDukan subscription has ended",
                               f"As cancelled, the subscription ended on {end}; nothing more was charged. Paid "
                               "features are paused and all your data is kept. Subscribe again any time in "
                               "Settings → Plan.")
    return count


async def _lapse_unrenewed(uow: UnitOfWork) -> int:
    now, count, grace = uow.clock.now(), 0, timedelta(days=uow.settings.renewal_grace_days)
    for sub in await _due(uow, Subscription.status == ACTIVE, Subscription.cancel_at_period_end.is_(False),
                          Subscription.current_period_end <= now):
        assert sub.current_period_end is not None
        grace_ends_at = sub.current_period_end + grace
        reason = (f"The paid year ended on {_day(sub.current_period_end)} without renewal. Renew by "
                  f"{_day(grace_ends_at)} to keep access.")
        moved = await uow.session.execute(update(Subscription).where(
            Subscription.id == sub.id, Subscription.status == ACTIVE, Subscription.cancel_at_period_end.is_(False),
            Subscription.current_period_end == sub.current_period_end)
            .values(status=PAST_DUE, grace_ends_at=grace_ends_at, status_reason=reason, updated_at=now))
        if moved.rowcount:  # type: ignore[attr-defined]
            count += 1
            _event(uow, sub.organization_id, "subscription.past_due", f"grace until {_day(grace_ends_at)}")
            await _mail_owners(uow, sub.organization_id, "Renew your SoftDukan subscription to keep access",
                               f"{reason} Nothing is charged automatically: renew in Settings → Plan. Until then "
                               "everything keeps working; after it, paid features pause and your data is kept.")
    return count


async def _expire_grace(uow: UnitOfWork) -> int:
    now, count = uow.clock.now(), 0
    for sub in await _due(uow, Subscription.status == PAST_DUE, Subscription.grace_ends_at <= now):
        moved = await uow.session.execute(update(Subscription).where(
            Subscription.id == sub.id, Subscription.status == PAST_DUE, Subscription.grace_ends_at <= now)
            .values(status=CANCELED, ended_at=now, updated_at=now,
                    status_reason="The subscription ended without renewal."))
        if moved.rowcount:  # type: ignore[attr-defined]
            count += 1
            _event(uow, sub.organization_id, "subscription.expired",
                   "cancelled during the grace period" if sub.cancel_at_period_end else "not renewed")
            await _mail_owners(uow, sub.organization_id, "Your SoftDukan subscription has ended",
                               "The subscription ended without renewal; nothing was charged. Paid features are "
                               "paused and all your data is kept. Subscribe again any time in Settings → Plan.")
    return count


def _not_reminded(days: int) -> ColumnElement[bool]:
    """No reminder of the current period as urgent as `days` yet (one sent before this period began is stale)."""
    return or_(Subscription.renewal_reminded_at.is_(None), Subscription.renewal_last_reminder_days.is_(None),
               Subscription.renewal_reminded_at < Subscription.current_period_start,
               Subscription.renewal_last_reminder_days > days)


async def _remind(uow: UnitOfWork) -> int:
    now, count = uow.clock.now(), 0
    for days in REMINDER_DAYS:  # most urgent first, so a late sweep sends only the reminder now due
        for sub in await _due(uow, Subscription.status == ACTIVE, Subscription.cancel_at_period_end.is_(False),
                              Subscription.current_period_end > now,
                              Subscription.current_period_end <= now + timedelta(days=days), _not_reminded(days)):
            claimed = await uow.session.execute(update(Subscription).where(
                Subscription.id == sub.id, Subscription.status == ACTIVE, Subscription.cancel_at_period_end.is_(False),
                _not_reminded(days)).values(renewal_reminded_at=now, renewal_last_reminder_days=days))
            if not claimed.rowcount:  # type: ignore[attr-defined]
                continue
            count += 1
            assert sub.current_period_end is not None
            end, grace = _day(sub.current_period_end), uow.settings.renewal_grace_days
            when = "tomorrow" if days == 1 else f"in {days} days"
            _event(uow, sub.organization_id, "renewal.reminded", f"{days} day{'' if days == 1 else 's'} before {end}")
            await _mail_owners(uow, sub.organization_id, f"Your SoftDukan subscription ends {when}",
                               f"Your paid year ends on {end}. Renewal is never charged automatically: renew in "
                               f"Settings → Plan to keep your plan (the new year starts when this one ends, so "
                               f"renewing early loses nothing). Without renewal you get {grace} days of grace, then "
                               "paid features pause and your data is kept.")
    return count
