"""Sign-up, sign-in, sessions and password reset."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from markupsafe import escape

from softdukan.audit.service import audit_service
from softdukan.auth.models import PasswordReset, User, UserSession
from softdukan.auth.passwords import check_strength, hash_password, needs_rehash, verify_password
from softdukan.auth.repository import PasswordResetRepository, SessionRepository, UserRepository
from softdukan.auth.throttle import SignInThrottle
from softdukan.kit.crypto import new_token, token_hash
from softdukan.kit.phone import normalize
from softdukan.notification.service import mail_service
from softdukan.organization.models import Organization
from softdukan.organization.repository import OrganizationRepository
from softdukan.platform.errors import Conflict, Forbidden, Gone, Invalid, TooManyRequests, Unauthorized
from softdukan.platform.uow import UnitOfWork

RESET_TTL = timedelta(hours=1)


def clean_email(raw: str, field: str = "email") -> str:
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise Invalid("invalid_email", str(exc), {field: str(exc)}) from None


def clean_name(raw: str, field: str, label: str, *, max_length: int = 120) -> str:
    value = " ".join(raw.split())
    if not value:
        raise Invalid("missing_field", f"{label} is required.", {field: f"{label} is required."})
    if len(value) > max_length:
        raise Invalid("too_long", f"{label} is too long.", {field: f"Use at most {max_length} characters."})
    return value


def check_description(description: str | None, field: str = "description", max_length: int = 300) -> None:
    if description and len(description) > max_length:
        raise Invalid("too_long", f"The description is too long (at most {max_length} characters).",
                      {field: f"Use at most {max_length} characters."})


@dataclass(frozen=True)
class SignedIn:
    user: User
    session: UserSession
    token: str  # the raw cookie value; only its hash is stored


class AuthService:
    async def create_user(self, uow: UnitOfWork, *, email: str, name: str, password: str,
                          mobile: str | None) -> User:
        email = clean_email(email)
        name = clean_name(name, "name", "Your name")
        check_strength(password, email=email, name=name)
        mobile_e164 = normalize(mobile, field="mobile") if mobile else None
        users = UserRepository(uow.session)
        if await users.by_email(email):
            raise Conflict("email_taken", "An account with this e-mail already exists. Sign in instead.",
                           {"email": "Already registered."})
        user = users.add(User(email=email, name=name, mobile=mobile_e164, password_hash=hash_password(password),
                              created_at=uow.clock.now()))
        await uow.flush()
        return user

    async def start_session(self, uow: UnitOfWork, user: User, *, organization_id: int | None,
                            ip: str | None, user_agent: str | None, replaces: str | None = None) -> SignedIn:
        """A new session token every sign-in (rotation); the session it replaces is deleted."""
        sessions = SessionRepository(uow.session)
        if replaces:
            old = await sessions.by_token_hash(token_hash(uow.settings.softdukan_secret_key, replaces))
            if old is not None:
                await sessions.delete(old)
        token = new_token()
        now = uow.clock.now()
        session = sessions.add(UserSession(
            token_hash=token_hash(uow.settings.softdukan_secret_key, token), user_id=user.id,
            organization_id=organization_id, created_at=now, last_seen_at=now,
            expires_at=now + timedelta(days=uow.settings.session_days), ip=ip,
            user_agent=(user_agent or "")[:300] or None))
        await uow.flush()
        return SignedIn(user, session, token)

    async def sign_in(self, uow: UnitOfWork, *, email: str, password: str, ip: str | None,
                      user_agent: str | None, replaces: str | None = None) -> SignedIn:
        email_key = email.strip().lower()[:254]
        throttle = SignInThrottle(uow, "signin", email_key, ip, "Too many failed sign-ins. Wait a little and try "
                                                                 "again, or reset your password.")
        await throttle.check()
        user = await UserRepository(uow.session).by_email(email_key)
        if not verify_password(user.password_hash if user else None, password) or user is None:
            await throttle.failed()
            audit_service.record(uow, "auth.sign_in_failed", actor_type="anonymous", actor_label=email_key,
                                 ip=ip, organization_id=None)
            raise Unauthorized("invalid_credentials", "That e-mail and password don't match an account.")
        memberships = await OrganizationRepository(uow.session).of_user(user.id)
        active = [(org, m) for org, m in memberships if org.suspended_at is None]
        if memberships and not active:
            raise Forbidden("organization_suspended",
                            "Your organization is suspended. Contact support to restore access.")
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        await throttle.succeeded()
        org_id = active[0][0].id if active else None
        for org, _ in active:
            audit_service.record(uow, "auth.signed_in", organization_id=org.id, actor_type="user",
                                 actor_id=user.id, actor_label=user.email, ip=ip, target=user,
                                 target_label=user.email)
        return await self.start_session(uow, user, organization_id=org_id, ip=ip, user_agent=user_agent,
                                        replaces=replaces)

    async def session_for(self, uow: UnitOfWork, token: str) -> UserSession | None:
        session = await SessionRepository(uow.session).by_token_hash(
            token_hash(uow.settings.softdukan_secret_key, token))
        if session is None or session.expires_at <= uow.clock.now():
            return None
        return session

    async def sign_out(self, uow: UnitOfWork, token: str) -> None:
        session = await self.session_for(uow, token)
        if session is not None:
            if session.organization_id:
                user = await UserRepository(uow.session).by_id(session.user_id)
                audit_service.record(uow, "auth.signed_out", organization_id=session.organization_id,
                                     actor_type="user", actor_id=session.user_id,
                                     actor_label=user.email if user else "?")
            await SessionRepository(uow.session).delete(session)

    async def request_password_reset(self, uow: UnitOfWork, *, email: str, ip: str | None) -> None:
        """Always looks the same to the caller, whether or not the e-mail has an account."""
        decision = await uow.runtime.limiter.hit(f"reset:{ip}", limit=10, period=3600)
        if not decision.allowed:
            raise TooManyRequests("too_many_reset_requests", retry_after=decision.retry_after)
        user = await UserRepository(uow.session).by_email(email)
        if user is None:
            return
        token = new_token()
        uow.session.add(PasswordReset(user_id=user.id, token_hash=token_hash(uow.settings.softdukan_secret_key, token),
                                      expires_at=uow.clock.now() + RESET_TTL, created_at=uow.clock.now()))
        link = f"{uow.settings.base_url}/reset-password?token={token}"
        await mail_service.send(
            uow, to=user.email, subject="Reset your SoftDukan password",
            text=f"Hello {user.name},\n\nSomeone (hopefully you) asked to reset your SoftDukan password.\n"
                 f"Open this link within an hour to choose a new one:\n\n{link}\n\n"
                 "If it wasn't you, ignore this e-mail; your password stays the same.\n",
            html=f'<p>Hello {escape(user.name)},</p><p>Open <a href="{link}">this link</a> within an hour to '
                 "choose a new password.</p><p>If it wasn't you, ignore this e-mail.</p>")

    async def check_reset_token(self, uow: UnitOfWork, token: str) -> PasswordReset:
        reset = await PasswordResetRepository(uow.session).by_token_hash(
            token_hash(uow.settings.softdukan_secret_key, token))
        if reset is None:
            raise Gone("reset_link_invalid", "This reset link is not valid. Ask for a new one.")
        if reset.used_at is not None:
            raise Gone("reset_link_used", "This reset link was already used. Ask for a new one.")
        if reset.expires_at <= uow.clock.now():
            raise Gone("reset_link_expired", "This reset link has expired. Ask for a new one.")
        return reset

    async def reset_password(self, uow: UnitOfWork, *, token: str, password: str, ip: str | None) -> User:
        reset = await self.check_reset_token(uow, token)
        user = await UserRepository(uow.session).by_id(reset.user_id)
        assert user is not None  # cascade: a reset never outlives its user
        check_strength(password, email=user.email, name=user.name)
        reset.used_at = uow.clock.now()
        user.password_hash = hash_password(password)
        user.password_changed_at = uow.clock.now()
        for session in await SessionRepository(uow.session).for_user(user.id):  # sign out everywhere
            await SessionRepository(uow.session).delete(session)
        await uow.runtime.limiter.reset(f"signin:email:{user.email}")
        for org, _ in await OrganizationRepository(uow.session).of_user(user.id):
            audit_service.record(uow, "auth.password_reset", organization_id=org.id, actor_type="user",
                                 actor_id=user.id, actor_label=user.email, ip=ip, target=user,
                                 target_label=user.email)
        return user

    async def update_profile(self, uow: UnitOfWork, user: User, *, name: str, mobile: str | None) -> User:
        user.name = clean_name(name, "name", "Your name")
        user.mobile = normalize(mobile, field="mobile") if mobile else None
        return user

    async def change_password(self, uow: UnitOfWork, user: User, *, current: str, new: str,
                              organization: Organization | None, ip: str | None,
                              keep_session_token: str | None = None) -> None:
        """Other sessions end (a stolen session must not survive the change); this one stays."""
        if not verify_password(user.password_hash, current):
            raise Invalid("wrong_password", "Your current password is not right.",
                          {"current_password": "Not your current password."})
        check_strength(new, email=user.email, name=user.name)
        user.password_hash = hash_password(new)
        user.password_changed_at = uow.clock.now()
        keep = token_hash(uow.settings.softdukan_secret_key, keep_session_token) if keep_session_token else None
        for session in await SessionRepository(uow.session).for_user(user.id):
            if session.token_hash != keep:
                await SessionRepository(uow.session).delete(session)
        if organization:
            audit_service.record(uow, "auth.password_changed", organization_id=organization.id,
                                 actor_type="user", actor_id=user.id, actor_label=user.email, ip=ip)


auth_service = AuthService()
