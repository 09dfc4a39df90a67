"""Who is looking at a dashboard page: the signed-in user, the current organization and their permissions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request

from softdukan.auth.models import User
from softdukan.auth.repository import UserRepository
from softdukan.auth.service import auth_service
from softdukan.auth.subject import Subject
from softdukan.dashboard import csrf
from softdukan.organization.models import Membership, Organization
from softdukan.organization.service import organization_service
from softdukan.platform.deps import UoW, client_ip
from softdukan.platform.errors import DomainError
from softdukan.platform.uow import UnitOfWork

SESSION_COOKIE = "sd_session"


class RedirectTo(DomainError):
    """Raised by dependencies to send the browser elsewhere (e.g. to sign in)."""

    status = 303

    def __init__(self, location: str) -> None:
        super().__init__("redirect", "Redirecting.", headers={"Location": location})
        self.location = location


@dataclass
class WebContext:
    user: User
    organization: Organization | None
    subject: Subject | None
    organizations: list[tuple[Organization, Membership]]
    session_token: str

    def can(self, permission: str) -> bool:
        return self.subject is not None and self.subject.can(permission)


async def current_user_context(request: Request, uow: UnitOfWork) -> WebContext | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    session = await auth_service.session_for(uow, token)
    if session is None:
        return None
    user = await UserRepository(uow.session).by_id(session.user_id)
    if user is None:
        return None
    orgs = await organization_service.organizations_of(uow, user)
    active = [(o, m) for o, m in orgs if o.suspended_at is None]
    org_id = session.organization_id
    if org_id not in {o.id for o, _ in active}:  # removed or suspended since: fall back to another
        org_id = active[0][0].id if active else None
        session.organization_id = org_id
    subject = await organization_service.subject_for(uow, user, org_id, ip=client_ip(request)) if org_id else None
    organization = next((o for o, _ in active if o.id == org_id), None)
    session.last_seen_at = uow.clock.now() if (uow.clock.now() - session.last_seen_at).total_seconds() > 300 \
        else session.last_seen_at
    context = WebContext(user, organization, subject, active, token)
    request.state.web = context
    return context


async def signed_in(request: Request, uow: UoW) -> WebContext:
    context = await current_user_context(request, uow)
    if context is None:
        raise RedirectTo(f"/sign-in?next={quote(request.url.path)}")
    return context


async def member(request: Request, context: Annotated[WebContext, Depends(signed_in)]) -> WebContext:
    if context.subject is None:
        raise RedirectTo("/no-organization")
    return context


class WebRequires:
    """`web: WebRequires["members:read"]` — a signed-in member whose role has the permission."""

    def __class_getitem__(cls, permission: str) -> Any:
        async def dependency(context: Annotated[WebContext, Depends(member)]) -> WebContext:
            assert context.subject is not None
            context.subject.require(permission)
            return context

        dependency.required_permission = permission  # type: ignore[attr-defined]
        return Annotated[WebContext, Depends(dependency)]


SignedIn = Annotated[WebContext, Depends(signed_in)]
Member = Annotated[WebContext, Depends(member)]


async def csrf_protect(request: Request) -> None:
    await csrf.verify(request, request.app.state.settings.softdukan_secret_key)


class CsrfCookieMiddleware:
    """Gives every browser a CSRF cookie and every template the matching token."""

    def __init__(self, app: Any, secret_key: str, secure: bool) -> None:
        self.app, self.secret_key, self.secure = app, secret_key, secure

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith(
                ("/v1", "/static", "/healthz", "/openapi.json", "/webhooks")):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        value, is_new = csrf.ensure_cookie(request)
        token = csrf.token_for(self.secret_key, value)
        scope.setdefault("state", {})["csrf_token"] = token
        scope["state"]["csrf_cookie"] = value
        csrf.current_token.set(token)

        async def send_with_cookie(message: Any) -> None:
            if message["type"] == "http.response.start" and is_new:
                cookie = (f"{csrf.COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax"
                          + ("; Secure" if self.secure else ""))
                message.setdefault("headers", []).append((b"set-cookie", cookie.encode()))
            await send(message)

        await self.app(scope, receive, send_with_cookie)
