"""Dashboard pages for signing up, in and out, resetting a password and accepting an invitation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from softdukan.auth.service import SignedIn as Signed
from softdukan.auth.service import auth_service
from softdukan.dashboard.context import SESSION_COOKIE, SignedIn, current_user_context
from softdukan.dashboard.render import render
from softdukan.organization.service import organization_service
from softdukan.platform.deps import UoW, client_ip
from softdukan.platform.errors import DomainError, Gone, Invalid, TooManyRequests
from softdukan.platform.uow import UnitOfWork

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form()]
OptText = Annotated[str, Form()]


def safe_next(value: str | None) -> str:
    """Only same-site paths: an open redirect would let a link send users anywhere after sign-in."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


def start_browser_session(request: Request, response: Response, signed: Signed) -> Response:
    settings = request.app.state.settings
    response.set_cookie(SESSION_COOKIE, signed.token, httponly=True, samesite="lax", secure=settings.cookie_secure,
                        max_age=settings.session_days * 86400, path="/")
    return response


def form_errors(exc: DomainError) -> tuple[str, dict[str, str]]:
    details = exc.details if isinstance(exc.details, dict) else {}
    return exc.message, {k: str(v) for k, v in details.items()}


@router.get("/sign-up", response_class=HTMLResponse)
async def sign_up_page(request: Request, uow: UoW) -> Response:
    if await current_user_context(request, uow):
        return RedirectResponse("/", status_code=303)
    return render(request, "auth/sign_up.html", {"values": {}, "errors": {}})


@router.post("/sign-up", response_class=HTMLResponse)
async def sign_up(request: Request, uow: UoW, business_name: Text = "", name: Text = "", email: Text = "",
                  mobile: Text = "", password: Text = "") -> Response:
    values = {"business_name": business_name, "name": name, "email": email, "mobile": mobile}
    try:
        user, org = await organization_service.sign_up(uow, business_name=business_name, name=name, email=email,
                                                       mobile=mobile, password=password, ip=client_ip(request))
        signed = await auth_service.start_session(uow, user, organization_id=org.id, ip=client_ip(request),
                                                  user_agent=request.headers.get("user-agent"))
    except DomainError as exc:
        await uow.rollback()
        message, errors = form_errors(exc)
        return render(request, "auth/sign_up.html", {"values": values, "errors": errors, "error": message},
                      status_code=exc.status)
    return start_browser_session(request, RedirectResponse("/?welcome=1", status_code=303), signed)


@router.get("/sign-in", response_class=HTMLResponse)
async def sign_in_page(request: Request, uow: UoW, next: str = "/", reset: int = 0) -> Response:
    if await current_user_context(request, uow):
        return RedirectResponse(safe_next(next), status_code=303)
    flash = "Your password was changed. Sign in with the new one." if reset else None
    return render(request, "auth/sign_in.html", {"next": safe_next(next), "values": {}, "flash": flash})


@router.post("/sign-in", response_class=HTMLResponse)
async def sign_in(request: Request, uow: UoW, email: Text = "", password: Text = "", next: Text = "/") -> Response:
    try:
        signed = await auth_service.sign_in(uow, email=email, password=password, ip=client_ip(request),
                                            user_agent=request.headers.get("user-agent"),
                                            replaces=request.cookies.get(SESSION_COOKIE))
    except DomainError as exc:
        # keep the failed-attempt audit row and limiter state, nothing else was written
        headers = exc.headers if isinstance(exc, TooManyRequests) else None
        return render(request, "auth/sign_in.html", {"next": safe_next(next), "values": {"email": email},
                                                     "error": exc.message}, status_code=exc.status, headers=headers)
    return start_browser_session(request, RedirectResponse(safe_next(next), status_code=303), signed)


@router.post("/sign-out")
async def sign_out(request: Request, uow: UoW) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await auth_service.sign_out(uow, token)
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/forgot-password", response_class=HTMLResponse)
async def forgot_page(request: Request) -> Response:
    return render(request, "auth/forgot.html", {"values": {}})


@router.post("/forgot-password", response_class=HTMLResponse)
async def forgot(request: Request, uow: UoW, email: Text = "") -> Response:
    try:
        await auth_service.request_password_reset(uow, email=email, ip=client_ip(request))
    except DomainError as exc:
        return render(request, "auth/forgot.html", {"values": {"email": email}, "error": exc.message},
                      status_code=exc.status, headers=exc.headers)
    return render(request, "auth/forgot.html", {"values": {}, "sent": True})


@router.get("/reset-password", response_class=HTMLResponse)
async def reset_page(request: Request, uow: UoW, token: str = "") -> Response:
    try:
        await auth_service.check_reset_token(uow, token)
    except Gone as exc:
        return render(request, "auth/reset.html", {"invalid": exc.message}, status_code=410)
    return render(request, "auth/reset.html", {"token": token, "errors": {}})


@router.post("/reset-password", response_class=HTMLResponse)
async def reset(request: Request, uow: UoW, token: Text = "", password: Text = "") -> Response:
    try:
        await auth_service.reset_password(uow, token=token, password=password, ip=client_ip(request))
    except Gone as exc:
        return render(request, "auth/reset.html", {"invalid": exc.message}, status_code=410)
    except Invalid as exc:
        await uow.rollback()
        message, errors = form_errors(exc)
        return render(request, "auth/reset.html", {"token": token, "errors": errors, "error": message},
                      status_code=exc.status)
    response = RedirectResponse("/sign-in?reset=1", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


async def _invitation_page(request: Request, uow: UnitOfWork, token: str, **extra: object) -> Response:
    try:
        invitation, org, role = await organization_service.open_invitation(uow, token)
    except Gone as exc:
        return render(request, "auth/invitation.html", {"invalid": exc.message}, status_code=410)
    context = await current_user_context(request, uow)
    existing = None
    if context is None:
        from softdukan.auth.repository import UserRepository

        existing = await UserRepository(uow.session).by_email(invitation.email)
    return render(request, "auth/invitation.html",
                  {"token": token, "invitation": invitation, "org": org, "role": role, "web": context,
                   "has_account": existing is not None, "values": {}, "errors": {}, **extra},
                  status_code=int(str(extra.get("status", 200))))


@router.get("/invitations/accept", response_class=HTMLResponse)
async def invitation_page(request: Request, uow: UoW, token: str = "") -> Response:
    return await _invitation_page(request, uow, token)


@router.post("/invitations/accept", response_class=HTMLResponse)
async def accept_invitation(request: Request, uow: UoW, token: Text = "", name: OptText = "",
                            mobile: OptText = "", password: OptText = "") -> Response:
    context = await current_user_context(request, uow)
    try:
        if context is not None:
            org = await organization_service.accept_invitation(uow, token=token, user=context.user,
                                                               ip=client_ip(request))
            signed = await auth_service.start_session(uow, context.user, organization_id=org.id,
                                                      ip=client_ip(request),
                                                      user_agent=request.headers.get("user-agent"),
                                                      replaces=context.session_token)
        else:
            user, org = await organization_service.accept_as_new_user(
                uow, token=token, name=name, mobile=mobile, password=password, ip=client_ip(request))
            signed = await auth_service.start_session(uow, user, organization_id=org.id, ip=client_ip(request),
                                                      user_agent=request.headers.get("user-agent"))
    except Gone as exc:
        return render(request, "auth/invitation.html", {"invalid": exc.message}, status_code=410)
    except DomainError as exc:
        await uow.rollback()
        message, errors = form_errors(exc)
        return await _invitation_page(request, uow, token, error=message, errors=errors,
                                      values={"name": name, "mobile": mobile}, status=exc.status)
    return start_browser_session(request, RedirectResponse("/?joined=1", status_code=303), signed)


@router.post("/switch-organization")
async def switch_organization(request: Request, uow: UoW, web: SignedIn,
                              organization_id: Annotated[int, Form()]) -> Response:
    from softdukan.auth.repository import SessionRepository
    from softdukan.kit.crypto import token_hash

    if organization_id not in {o.id for o, _ in web.organizations}:
        return render(request, "error.html", {"status": 404, "message": "No such organization."}, status_code=404)
    session = await SessionRepository(uow.session).by_token_hash(
        token_hash(uow.settings.softdukan_secret_key, web.session_token))
    assert session is not None
    session.organization_id = organization_id
    return RedirectResponse("/", status_code=303)


@router.get("/no-organization", response_class=HTMLResponse)
async def no_organization(request: Request, web: SignedIn) -> Response:
    return render(request, "auth/no_organization.html", {})
