"""Platform staff: their accounts and sign-in, suspending organizations, retrying dead jobs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog

from softdukan.audit.service import audit_service
from softdukan.auth.passwords import check_strength, hash_password, needs_rehash, verify_password
from softdukan.auth.service import clean_email, clean_name
from softdukan.auth.throttle import SignInThrottle
from softdukan.backoffice.detail_repository import AddonRow, OrderRow, StaffOrganizationDetailRepository, TopupRow
from softdukan.backoffice.models import StaffSession, StaffUser
from softdukan.backoffice.repository import (
    NO_SUBSCRIPTION,
    FailedJobRow,
    OrganizationRow,
    StaffJobRepository,
    StaffOrganizationRepository,
    StaffSessionRepository,
    StaffUserRepository,
)
from softdukan.config import Settings
from softdukan.kit.crypto import new_token, token_hash
from softdukan.organization.models import Organization
from softdukan.platform.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from softdukan.platform.jobs import queue
from softdukan.platform.runtime import build_runtime
from softdukan.platform.uow import UnitOfWork, unit_of_work
from softdukan.refund.models import RefundRequest
from softdukan.subscription import service as subscriptions
from softdukan.subscription.models import STATUSES, Subscription, SubscriptionEvent
from softdukan.wallet import service as wallets
from softdukan.wallet.service import WalletSummary

log = structlog.get_logger(__name__)

# Staff can touch every tenant: a stolen staff cookie must not live as long as a tenant's.
STAFF_SESSION_TTL = timedelta(hours=12)
REASON_MAX = 300  # organizations.suspended_reason


def _one_line(text: str) -> str:
    """Collapses whitespace and drops control characters (PostgreSQL refuses NUL in text: a 500, not an error)."""
    return " ".join("".join(ch for ch in text if ch.isprintable() or ch.isspace()).split())


@dataclass(frozen=True)
class OrganizationDetail:
    """Everything the staff page of one organization shows."""

    organization: Organization
    owner_emails: list[str]
    subscription: Subscription | None
    plan_name: str | None
    addons: list[AddonRow]
    history: list[SubscriptionEvent]
    orders: list[OrderRow]
    topups: list[TopupRow]
    wallet: WalletSummary
    ticket_count: int
    refunds: list[RefundRequest]


STATUS_FILTERS = (*STATUSES, NO_SUBSCRIPTION)


@dataclass(frozen=True)
class StaffSignedIn:
    staff: StaffUser
    session: StaffSession
    token: str  # the raw cookie value; only its hash is stored


async def _new_staff_user(uow: UnitOfWork, *, email: str, name: str, password: str) -> StaffUser:
    email = clean_email(email)
    name = clean_name(name, "name", "Name")
    check_strength(password, email=email, name=name)
    staff_users = StaffUserRepository(uow.session)
    if await staff_users.by_email(email):
        raise Conflict("staff_email_taken", f"A staff account for {email} already exists.",
                       {"email": "Already registered."})
    staff = staff_users.add(StaffUser(email=email, name=name, password_hash=hash_password(password),
                                      created_at=uow.clock.now()))
    await uow.flush()
    return staff


async def create_staff_user(settings: Settings, *, email: str, name: str, password: str) -> StaffUser:
    """The `softdukan create-staff` command: its own runtime and transaction (the CLI is the edge)."""
    runtime = build_runtime(settings)
    try:
        async with unit_of_work(runtime) as uow:
            staff = await _new_staff_user(uow, email=email, name=name, password=password)
    finally:
        await runtime.close()
    log.info("staff_user_created", staff_user_id=staff.id, email=staff.email)
    return staff


class StaffService:
    async def sign_in(self, uow: UnitOfWork, *, email: str, password: str, ip: str | None,
                      replaces: str | None = None) -> StaffSignedIn:
        email_key = _one_line(email).lower()[:254]
        # own buckets: failed tenant sign-ins must not lock staff out, nor the reverse
        throttle = SignInThrottle(uow, "staff-signin", email_key, ip)
        await throttle.check()
        staff = await StaffUserRepository(uow.session).by_email(email_key)
        if not verify_password(staff.password_hash if staff else None, password) or staff is None:
            await throttle.failed()
            log.warning("staff_sign_in_failed", email=email_key, ip=ip)
            raise Unauthorized("invalid_credentials", "That e-mail and password don't match a staff account.")
        if staff.disabled_at is not None:
            log.warning("staff_sign_in_disabled", staff_user_id=staff.id, ip=ip)
            raise Forbidden("staff_disabled", "This staff account is disabled.")
        if needs_rehash(staff.password_hash):
            staff.password_hash = hash_password(password)
        await throttle.succeeded()
        sessions = StaffSessionRepository(uow.session)
        if replaces:  # rotation: the token held before signing in never works again
            old = await sessions.by_token_hash(token_hash(uow.settings.softdukan_secret_key, replaces))
            if old is not None:
                await sessions.delete(old)
        now = uow.clock.now()
        await sessions.delete_expired(staff.id, now)
        token = new_token()
        session = sessions.add(StaffSession(token_hash=token_hash(uow.settings.softdukan_secret_key, token),
                                            staff_user_id=staff.id, expires_at=now + STAFF_SESSION_TTL,
                                            created_at=now))
        await uow.flush()
        log.info("staff_signed_in", staff_user_id=staff.id, ip=ip)
        return StaffSignedIn(staff, session, token)

    async def session_for(self, uow: UnitOfWork, token: str) -> StaffUser | None:
        """The staff member behind a cookie, or None (unknown, expired, or the account was disabled since)."""
        session = await StaffSessionRepository(uow.session).by_token_hash(
            token_hash(uow.settings.softdukan_secret_key, token))
        if session is None or session.expires_at <= uow.clock.now():
            return None
        staff = await StaffUserRepository(uow.session).by_id(session.staff_user_id)
        if staff is None or staff.disabled_at is not None:
            return None
        return staff

    async def sign_out(self, uow: UnitOfWork, token: str) -> None:
        sessions = StaffSessionRepository(uow.session)
        session = await sessions.by_token_hash(token_hash(uow.settings.softdukan_secret_key, token))
        if session is not None:
            await sessions.delete(session)

    async def list_organizations(self, uow: UnitOfWork, search: str | None = None, status: str | None = None
                                 ) -> list[OrganizationRow]:
        """Organizations with their subscriptions; an unknown `status` filters nothing, like the ticket queue."""
        search = _one_line(search or "")[:100] or None
        return await StaffOrganizationRepository(uow.session).with_counts(
            search, status=status if status in STATUS_FILTERS else None)

    async def organization_detail(self, uow: UnitOfWork, organization_id: int) -> OrganizationDetail:
        org = await self._organization(uow, organization_id)
        details = StaffOrganizationDetailRepository(uow.session)
        found = await details.subscription(org.id)
        sub, plan_name = found if found else (None, None)
        addons: dict[str, Any] = sub.addons if sub and sub.addons else {}
        return OrganizationDetail(
            organization=org, owner_emails=await details.owner_emails(org.id), subscription=sub,
            plan_name=plan_name, addons=await details.addons(addons),
            history=await subscriptions.history(uow, org.id, 100), orders=await details.plan_orders(org.id),
            topups=await details.topups(org.id), wallet=await wallets.summary_for(uow, org.id),
            ticket_count=await details.ticket_count(org.id), refunds=await details.refund_requests(org.id))

    async def _organization(self, uow: UnitOfWork, organization_id: int) -> Organization:
        org = await StaffOrganizationRepository(uow.session).by_id(organization_id)
        if org is None:
            raise NotFound("organization_not_found", "No organization with this id.")
        return org

    async def suspend(self, uow: UnitOfWork, staff: StaffUser, organization_id: int, *, reason: str,
                      ip: str | None = None) -> Organization:
        reason = _one_line(reason)
        if not reason:
            raise Invalid("missing_reason", "Say why the organization is suspended.",
                          {"reason": "A reason is required."})
        if len(reason) > REASON_MAX:
            raise Invalid("too_long", "The reason is too long.", {"reason": f"Use at most {REASON_MAX} characters."})
        org = await self._organization(uow, organization_id)
        if org.suspended_at is not None:
            raise Conflict("organization_already_suspended", f"{org.name} is already suspended.")
        org.suspended_at = uow.clock.now()
        org.suspended_reason = reason
        # API keys and dashboard pages check suspended_at on every request; sessions go too, so
        # nobody keeps a page open on a suspended organization.
        ended = await StaffOrganizationRepository(uow.session).end_member_sessions(org.id)
        audit_service.record(uow, "organization.suspended", organization_id=org.id, actor_type="staff",
                             actor_id=staff.id, actor_label=staff.email, target=org, target_label=org.name,
                             ip=ip, reason=reason, sessions_ended=ended)
        return org

    async def unsuspend(self, uow: UnitOfWork, staff: StaffUser, organization_id: int, *,
                        ip: str | None = None) -> Organization:
        org = await self._organization(uow, organization_id)
        if org.suspended_at is None:
            raise Conflict("organization_not_suspended", f"{org.name} is not suspended.")
        previous_reason = org.suspended_reason
        org.suspended_at = None
        org.suspended_reason = None
        audit_service.record(uow, "organization.unsuspended", organization_id=org.id, actor_type="staff",
                             actor_id=staff.id, actor_label=staff.email, target=org, target_label=org.name,
                             ip=ip, previous_reason=previous_reason)
        return org

    async def list_failed_jobs(self, uow: UnitOfWork) -> list[FailedJobRow]:
        return await StaffJobRepository(uow.session).dead()

    async def retry_job(self, uow: UnitOfWork, staff: StaffUser, job_id: int, *, ip: str | None = None) -> None:
        job = await StaffJobRepository(uow.session).by_id(job_id)
        if job is None:
            raise NotFound("job_not_found", "No job with this id.")
        name, organization_id = job.name, job.organization_id
        # the guarded UPDATE decides, not the row read above: two staff clicking at once retry it once
        if not await queue.retry_dead(uow.session, job_id, uow.clock.now()):
            raise NotFound("job_not_dead", "This job is not in the failed list any more.")
        await uow.session.refresh(job)  # the UPDATE bypassed the identity map
        audit_service.record(uow, "job.retried", organization_id=organization_id, actor_type="staff",
                             actor_id=staff.id, actor_label=staff.email, target=job, target_label=name,
                             ip=ip)


staff_service = StaffService()
