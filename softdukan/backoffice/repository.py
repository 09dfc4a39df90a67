"""Backoffice queries: staff accounts and sessions, and the platform-wide views only staff may see.

Staff act across organizations, so these statements are deliberately not scoped to one tenant;
nothing outside softdukan.backoffice may use them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, or_, select

from softdukan.auth.models import User, UserSession
from softdukan.backoffice.models import StaffSession, StaffUser
from softdukan.kit.repository import Repository
from softdukan.organization.models import Membership, Organization
from softdukan.plan.models import Plan
from softdukan.platform.jobs.models import DEAD, Job
from softdukan.subscription.models import ACTIVE, CANCELED, PAST_DUE, Subscription

NO_SUBSCRIPTION = "none"  # the status filter's value for organizations without a subscription row


def _like_pattern(text: str) -> str:
    """A LIKE pattern matching `text` literally: staff searching for '50%' must not match everything."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class StaffUserRepository(Repository[StaffUser]):
    model = StaffUser

    async def by_email(self, email: str) -> StaffUser | None:
        return await self.one_or_none(select(StaffUser).where(StaffUser.email == email.strip().lower()))

    async def by_id(self, staff_user_id: int) -> StaffUser | None:
        return await self.session.get(StaffUser, staff_user_id)


class StaffSessionRepository(Repository[StaffSession]):
    model = StaffSession

    async def by_token_hash(self, token_hash: str) -> StaffSession | None:
        return await self.one_or_none(select(StaffSession).where(StaffSession.token_hash == token_hash))

    async def delete_expired(self, staff_user_id: int, now: datetime) -> None:
        await self.session.execute(
            delete(StaffSession).where(StaffSession.staff_user_id == staff_user_id, StaffSession.expires_at <= now)
            .execution_options(synchronize_session=False))


@dataclass(frozen=True)
class OrganizationRow:
    organization: Organization
    member_count: int
    owner_email: str | None
    subscription: Subscription | None = None
    plan_name: str | None = None

    @property
    def ends_at(self) -> datetime | None:
        """The date that matters for the status: the paid period's end once paid for, else the trial's end."""
        sub = self.subscription
        if sub is None:
            return None
        return sub.current_period_end if sub.status in (ACTIVE, PAST_DUE, CANCELED) else sub.trial_ends_at


class StaffOrganizationRepository(Repository[Organization]):
    """Every organization on the platform, for staff."""

    model = Organization

    async def by_id(self, organization_id: int) -> Organization | None:
        return await self.session.get(Organization, organization_id)

    async def with_counts(self, search: str | None = None, *, status: str | None = None,
                          limit: int = 200) -> list[OrganizationRow]:
        member_count = (select(func.count(Membership.id)).where(Membership.organization_id == Organization.id)
                        .correlate(Organization).scalar_subquery())
        owner_email = (select(User.email).join(Membership, Membership.user_id == User.id)
                       .where(Membership.organization_id == Organization.id, Membership.is_owner.is_(True))
                       .order_by(Membership.id).limit(1).correlate(Organization).scalar_subquery())
        statement = (select(Organization, member_count, owner_email, Subscription, Plan.name)
                     .outerjoin(Subscription, Subscription.organization_id == Organization.id)
                     .outerjoin(Plan, Plan.id == Subscription.plan_id)
                     .order_by(Organization.id.desc()).limit(limit))
        if status == NO_SUBSCRIPTION:
            statement = statement.where(Subscription.id.is_(None))
        elif status:
            statement = statement.where(Subscription.status == status)
        if search:
            pattern = _like_pattern(search)
            conditions: list[ColumnElement[bool]] = [Organization.name.ilike(pattern, escape="\\"),
                                                     owner_email.ilike(pattern, escape="\\")]
            if search.isascii() and search.isdigit() and len(search) <= 18:  # staff often paste an organization id
                conditions.append(Organization.id == int(search))
            statement = statement.where(or_(*conditions))
        rows = await self.session.execute(statement)
        return [OrganizationRow(org, int(count or 0), email, sub, plan)
                for org, count, email, sub, plan in rows.all()]

    async def end_member_sessions(self, organization_id: int) -> int:
        """Signs the organization's members out of it at once; returns how many sessions ended."""
        members = select(Membership.user_id).where(Membership.organization_id == organization_id)
        result = await self.session.execute(
            delete(UserSession).where(UserSession.organization_id == organization_id,
                                      UserSession.user_id.in_(members))
            .execution_options(synchronize_session=False))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class FailedJobRow:
    job: Job
    organization_name: str | None


class StaffJobRepository(Repository[Job]):
    model = Job

    async def by_id(self, job_id: int) -> Job | None:
        return await self.session.get(Job, job_id)

    async def dead(self, *, limit: int = 200) -> list[FailedJobRow]:
        rows = await self.session.execute(
            select(Job, Organization.name).outerjoin(Organization, Organization.id == Job.organization_id)
            .where(Job.status == DEAD).order_by(Job.finished_at.desc(), Job.id.desc()).limit(limit))
        return [FailedJobRow(job, name) for job, name in rows.all()]
