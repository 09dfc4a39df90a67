"""What an organization may use now: its subscription's plan (the trial: Basic plus the Chatbot Flows trial), or
nothing once the trial or the subscription is over. Every feature gate and limit asks here, where it is used, and
refuses with a 402 that says what to do (upgrade or subscribe in Settings → Plan); data always stays."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Final

from sqlalchemy import literal, select, text

from softdukan.plan.catalog import FEATURES, LIMIT_NOUNS, TRIAL_EXTRA_FEATURES
from softdukan.plan.models import Plan, Product
from softdukan.platform.errors import PaymentRequired
from softdukan.platform.uow import UnitOfWork
from softdukan.subscription.models import ENTITLED, TRIALING, Subscription

TRIAL_FLOWS = 3  # the Chatbot Flows trial: a few flows to try it with
WHERE = "Settings → Plan"

Count = Callable[[], Awaitable[int]]
"""Counts what a limit counts (the organization's contacts, numbers, …); called only once the limit is locked."""

# The advisory-lock key of (organization, limit) on PostgreSQL, one bigint: bits 56–62 hold LIMIT_LOCK_SPACE (keeps
# clear of any other advisory lock we may take), bits 4–55 the organization id, bits 0–3 the limit's index below.
# Two limits or two organizations never share a key. Append new limits, never renumber: during a rolling deploy
# two versions take the same locks.
LIMIT_LOCK_SPACE: Final = 0x5D
LIMIT_LOCK_INDEX: Final[dict[str, int]] = {"agents": 1, "numbers": 2, "contacts": 3, "flows": 4}
LIMIT_LOCK_ORG_BITS: Final = 52
PG_LIMIT_LOCK = text("SELECT pg_advisory_xact_lock(:key)")


@dataclass(frozen=True)
class Entitlements:
    status: str  # a subscription status, or "none"
    plan_code: str | None
    plan_name: str | None
    features: frozenset[str] = frozenset()
    limits: dict[str, int | None] = field(default_factory=dict)
    reason: str = ""

    @property
    def entitled(self) -> bool:
        return self.status in ENTITLED

    def has(self, feature: str) -> bool:
        return self.entitled and feature in self.features

    def allowed(self, limit: str) -> int | None:
        """How many the plan allows (None: unlimited); 0 when not entitled at all."""
        return self.limits.get(limit, 0) if self.entitled else 0


class UpgradeRequired(PaymentRequired):
    default_code = "upgrade_required"


class PlanLimitReached(PaymentRequired):
    default_code = "plan_limit_reached"


@dataclass(frozen=True)
class Usage:
    """A limit as counted under its lock: until the transaction ends, no other one can add to what it counts."""

    entitlements: Entitlements
    allowed: int | None  # None: unlimited (nothing was counted or locked)
    used: int

    @property
    def room(self) -> int | None:
        """How many more the plan allows now (None: unlimited)."""
        return None if self.allowed is None else max(0, self.allowed - self.used)


async def of(uow: UnitOfWork, organization_id: int) -> Entitlements:
    row = (await uow.session.execute(
        select(Subscription.status, Subscription.status_reason, Subscription.addons, Plan.code, Plan.name,
               Plan.features, Plan.limits)
        .join(Plan, Plan.id == Subscription.plan_id).where(Subscription.organization_id == organization_id))).first()
    if row is None:
        return Entitlements("none", None, None, reason="The organization has no plan yet.")
    features, limits = frozenset(row.features or ()), dict(row.limits or {})
    if row.addons:  # add-ons bought with the paid year raise limits by their grants per unit
        grants = dict((await uow.session.execute(select(Product.code, Product.grants).where(
            Product.code.in_(list(row.addons))))).all())
        for code, quantity in row.addons.items():
            for name, per_unit in (grants.get(code) or {}).items():
                if name in limits and limits[name] is not None:
                    limits[name] = int(limits[name]) + int(per_unit) * int(quantity)
    if row.status == TRIALING:
        features |= TRIAL_EXTRA_FEATURES
        limits["flows"] = max(limits.get("flows") or 0, TRIAL_FLOWS)
    return Entitlements(row.status, row.code, row.name, features, limits, row.status_reason)


def _why_not(ent: Entitlements) -> str:
    if ent.status == "trial_expired":
        return f"The free trial has ended. Subscribe to a plan in {WHERE} to continue; your data is kept."
    if ent.status == "trial_canceled":
        return f"The free trial was cancelled. Subscribe to a plan in {WHERE} to continue; your data is kept."
    if ent.status == "canceled":
        return f"The subscription has ended. Subscribe again in {WHERE} to continue; your data is kept."
    if ent.status == "no_trial":
        return (f"{ent.reason or 'This business has had its free trial already.'} Subscribe to a plan in {WHERE} "
                "to start.")
    return f"The organization has no plan. Subscribe in {WHERE}."


async def require(uow: UnitOfWork, organization_id: int, feature: str) -> Entitlements:
    """The organization's entitlements if its plan includes `feature`; else a 402 saying how to get it."""
    ent = await of(uow, organization_id)
    if ent.has(feature):
        return ent
    label = FEATURES.get(feature, feature)
    if not ent.entitled:
        message = _why_not(ent)
    else:
        message = f"{label} is not included in the {ent.plan_name} plan. Upgrade in {WHERE}."
    raise UpgradeRequired(None, message, {"feature": feature, "plan": ent.plan_code, "status": ent.status})


def limit_lock_key(organization_id: int, limit: str) -> int:
    """The PostgreSQL advisory-lock key that serializes "count, then add" of one organization's `limit`."""
    if not 0 < organization_id < 1 << LIMIT_LOCK_ORG_BITS:
        raise ValueError(f"organization id {organization_id} does not fit a limit lock key")
    return LIMIT_LOCK_SPACE << 56 | organization_id << 4 | LIMIT_LOCK_INDEX[limit]


async def _lock_limit(uow: UnitOfWork, organization_id: int, limit: str) -> None:
    """Until this transaction ends, other transactions that count the same organization's `limit` wait here, so
    two can't both count the same `used` and both add (PostgreSQL's READ COMMITTED lets them). On PostgreSQL a
    transaction-scoped advisory lock; each statement after it sees what the previous holder committed. On SQLite
    a write transaction holds the database's write lock from BEGIN already; a locking read makes a `READ_FIRST`
    transaction (a GET: kit/db.py) take it now, so its count can't be older than the lock."""
    connection = await uow.session.connection()
    if connection.dialect.name == "postgresql":
        await connection.execute(PG_LIMIT_LOCK, {"key": limit_lock_key(organization_id, limit)})
    else:
        await connection.execute(select(literal(1)).with_for_update())


async def usage(uow: UnitOfWork, organization_id: int, limit: str, count: Count) -> Usage:
    """The plan's `limit` and what `count` counts, counted after taking the limit's lock for the rest of the
    transaction (add what the room allows in the same transaction). An unlimited plan is neither locked nor
    counted."""
    return await _counted(uow, organization_id, limit, count, await of(uow, organization_id))


async def _counted(uow: UnitOfWork, organization_id: int, limit: str, count: Count, ent: Entitlements) -> Usage:
    allowed = ent.allowed(limit)
    if allowed is None:
        return Usage(ent, None, 0)
    await _lock_limit(uow, organization_id, limit)
    return Usage(ent, allowed, await count())


async def require_room(uow: UnitOfWork, organization_id: int, limit: str, count: Count, adding: int = 1
                       ) -> Entitlements:
    """Refuses (402) when `adding` more would pass the plan's `limit` (or the organization isn't entitled).
    `count` runs under the limit's lock (`usage`): add in the same transaction, and no concurrent one can
    have counted the same room."""
    ent = await of(uow, organization_id)
    if not ent.entitled:
        raise UpgradeRequired(None, _why_not(ent), {"limit": limit, "plan": ent.plan_code, "status": ent.status})
    counted = await _counted(uow, organization_id, limit, count, ent)
    allowed, used = counted.allowed, counted.used
    if allowed is not None and used + adding > allowed:
        noun = LIMIT_NOUNS.get(limit, limit)
        message = (f"The {ent.plan_name} plan allows {allowed:,} {noun}; this would make {used + adding:,}. "
                   f"Upgrade or add more in {WHERE}.")
        raise PlanLimitReached(None, message, {"limit": limit, "allowed": allowed, "used": used,
                                               "plan": ent.plan_code})
    return ent
