"""Dashboard settings pages for the signed-in user (profile, password), roles and API keys.

It also holds the few helpers the other settings views (organization, team, audit, mailbox) import.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from softdukan.auth.api_keys import api_key_service
from softdukan.auth.models import Role
from softdukan.auth.permissions import PERMISSIONS
from softdukan.auth.roles import role_service
from softdukan.auth.service import auth_service
from softdukan.auth.views import form_errors
from softdukan.dashboard.context import RedirectTo, SignedIn, WebContext, WebRequires, current_user_context
from softdukan.dashboard.render import render
from softdukan.kit.ids import MAX_ID, PathId
from softdukan.platform.deps import UoW, client_ip
from softdukan.platform.errors import DomainError, Invalid
from softdukan.platform.uow import UnitOfWork

# -- shared by the settings pages ----------------------------------------------------------------------------

Text = Annotated[str, Form()]
Choices = Annotated[list[str] | None, Form()]


async def undo(request: Request, uow: UnitOfWork) -> WebContext:
    """Roll back a refused change, then reload who is looking (the rollback expired those rows)."""
    await uow.rollback()
    web = await current_user_context(request, uow)
    if web is None:
        raise RedirectTo("/sign-in")
    return web


def too_long(values: dict[str, str], limits: dict[str, int]) -> None:
    """Length limits the database enforces on some engines only; checked here so they never become a 500."""
    errors = {name: f"Use at most {limit} characters." for name, limit in limits.items()
              if len(values.get(name) or "") > limit}
    if errors:
        raise Invalid("invalid_input", "Please correct the highlighted fields.", errors)


def parse_id(raw: str, field: str, label: str) -> int:
    digits = raw.strip()
    # length first: int() refuses more than 4300 digits with a ValueError, and no id has more than 19
    if digits.isdecimal() and len(digits) <= len(str(MAX_ID)) and 1 <= int(digits) <= MAX_ID:
        return int(digits)
    raise Invalid("missing_field", f"Choose {label}.", {field: f"Choose {label}."})


def flash_for(messages: dict[str, str], code: str | None) -> str | None:
    return messages.get(code or "")


RESOURCE_LABELS = {"api_keys": "API keys"}


def permission_groups(allowed: frozenset[str] | None = None) -> list[tuple[str, list[tuple[str, str]]]]:
    """PERMISSIONS grouped by resource for checkbox lists: [("Members", [("members:read", "See …"), …]), …]."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for name, label in PERMISSIONS.items():
        if allowed is None or name in allowed:
            resource = name.split(":", 1)[0]
            groups.setdefault(RESOURCE_LABELS.get(resource, resource.replace("_", " ").capitalize()), []).append(
                (name, label))
    return list(groups.items())


# -- profile -------------------------------------------------------------------------------------------------

router = APIRouter(include_in_schema=False)

PROFILE_FLASH = {"profile_saved": "Your profile was saved.", "password_changed": "Your password was changed."}


def _profile_values(web: WebContext) -> dict[str, str]:
    return {"name": web.user.name, "mobile": f"+{web.user.mobile}" if web.user.mobile else ""}


def _profile_page(request: Request, web: WebContext, *, status_code: int = 200, **context: Any) -> Response:
    page: dict[str, Any] = {"values": _profile_values(web), "profile_errors": {}, "password_errors": {}}
    page.update(context)
    return render(request, "auth/settings/profile.html", page, status_code=status_code)


@router.get("/settings/profile", response_class=HTMLResponse)
async def profile_page(request: Request, web: SignedIn, flash: str | None = None) -> Response:
    return _profile_page(request, web, flash=flash_for(PROFILE_FLASH, flash))


@router.post("/settings/profile", response_class=HTMLResponse)
async def update_profile(request: Request, uow: UoW, web: SignedIn, name: Text = "", mobile: Text = "") -> Response:
    values = {"name": name, "mobile": mobile}
    try:
        too_long(values, {"name": 120, "mobile": 40})
        await auth_service.update_profile(uow, web.user, name=name, mobile=mobile.strip() or None)
    except DomainError as exc:
        web = await undo(request, uow)
        message, errors = form_errors(exc)
        return _profile_page(request, web, values=values, profile_errors=errors, profile_error=message,
                             status_code=exc.status)
    return RedirectResponse("/settings/profile?flash=profile_saved", status_code=303)


@router.post("/settings/password", response_class=HTMLResponse)
async def change_password(request: Request, uow: UoW, web: SignedIn, current_password: Text = "",
                          new_password: Text = "", confirm_password: Text = "") -> Response:
    try:
        if new_password != confirm_password:
            raise Invalid("passwords_differ", "The new password and its confirmation differ.",
                          {"confirm_password": "Type the same new password twice."})
        too_long({"current_password": current_password}, {"current_password": 200})
        await auth_service.change_password(uow, web.user, current=current_password, new=new_password,
                                           organization=web.organization, ip=client_ip(request),
                                           keep_session_token=web.session_token)
    except DomainError as exc:
        web = await undo(request, uow)
        message, errors = form_errors(exc)
        if "password" in errors:  # the password rules name the new password "password"
            errors["new_password"] = errors.pop("password")
        return _profile_page(request, web, password_errors=errors, password_error=message, status_code=exc.status)
    return RedirectResponse("/settings/profile?flash=password_changed", status_code=303)


# -- roles ---------------------------------------------------------------------------------------------------

ROLE_FLASH = {"role_created": "The role was created.", "role_saved": "The role was saved.",
              "role_deleted": "The role was deleted."}


async def _roles_page(request: Request, uow: UnitOfWork, web: WebContext, *, status_code: int = 200,
                      **context: Any) -> Response:
    assert web.subject is not None
    page: dict[str, Any] = {"roles": await role_service.list(uow, web.subject), "groups": permission_groups(),
                            "permission_labels": PERMISSIONS, "values": {"permissions": []}, "errors": {}}
    page.update(context)
    return render(request, "auth/settings/roles.html", page, status_code=status_code)


def _role_values(role: Role) -> dict[str, Any]:
    return {"name": role.name, "description": role.description or "", "permissions": list(role.permissions)}


async def _role_page(request: Request, uow: UnitOfWork, web: WebContext, role_id: int, *, status_code: int = 200,
                     **context: Any) -> Response:
    assert web.subject is not None
    role = await role_service.get(uow, web.subject, role_id)
    page: dict[str, Any] = {"role": role, "groups": permission_groups(), "values": _role_values(role),
                            "errors": {}}
    page.update(context)
    return render(request, "auth/settings/role.html", page, status_code=status_code)


@router.get("/settings/roles", response_class=HTMLResponse)
async def roles_page(request: Request, uow: UoW, web: WebRequires["roles:read"], flash: str | None = None
                     ) -> Response:
    return await _roles_page(request, uow, web, flash=flash_for(ROLE_FLASH, flash))


@router.post("/settings/roles", response_class=HTMLResponse)
async def create_role(request: Request, uow: UoW, web: WebRequires["roles:write"], name: Text = "",
                      description: Text = "", permissions: Choices = None) -> Response:
    assert web.subject is not None
    values = {"name": name, "description": description, "permissions": permissions or []}
    try:
        too_long({"name": name, "description": description}, {"name": 60, "description": 300})
        role = await role_service.create(uow, web.subject, name=name, description=description.strip() or None,
                                         permissions=permissions or [])
    except DomainError as exc:
        web = await undo(request, uow)
        message, errors = form_errors(exc)
        return await _roles_page(request, uow, web, values=values, errors=errors, error=message,
                                 status_code=exc.status)
    return RedirectResponse(f"/settings/roles/{role.id}?flash=role_created", status_code=303)


@router.get("/settings/roles/{role_id}", response_class=HTMLResponse)
async def role_page(request: Request, uow: UoW, web: WebRequires["roles:read"], role_id: PathId,
                    flash: str | None = None) -> Response:
    return await _role_page(request, uow, web, role_id, flash=flash_for(ROLE_FLASH, flash))


@router.post("/settings/roles/{role_id}", response_class=HTMLResponse)
async def update_role(request: Request, uow: UoW, web: WebRequires["roles:write"], role_id: PathId,
                      name: Text = "", description: Text = "", permissions: Choices = None) -> Response:
    assert web.subject is not None
    values = {"name": name, "description": description, "permissions": permissions or []}
    try:
        too_long({"name": name, "description": description}, {"name": 60, "description": 300})
        await role_service.update(uow, web.subject, role_id, name=name, description=description.strip() or None,
                                  permissions=permissions or [])
    except DomainError as exc:
        web = await undo(request, uow)
        message, errors = form_errors(exc)
        return await _role_page(request, uow, web, role_id, values=values, errors=errors, error=message,
                                status_code=exc.status)
    return RedirectResponse(f"/settings/roles/{role_id}?flash=role_saved", status_code=303)


@router.post("/settings/roles/{role_id}/delete", response_class=HTMLResponse)
async def delete_role(request: Request, uow: UoW, web: WebRequires["roles:write"], role_id: PathId) -> Response:
    assert web.subject is not None
    try:
        await role_service.delete(uow, web.subject, role_id)
    except DomainError as exc:
        web = await undo(request, uow)
        return await _role_page(request, uow, web, role_id, error=exc.message, status_code=exc.status)
    return RedirectResponse("/settings/roles?flash=role_deleted", status_code=303)


# -- API keys ------------------------------------------------------------------------------------------------

KEY_FLASH = {"key_revoked": "The API key was revoked. Requests using it now fail."}


async def _keys_page(request: Request, uow: UnitOfWork, web: WebContext, *, status_code: int = 200,
                     **context: Any) -> Response:
    assert web.subject is not None
    page: dict[str, Any] = {"keys": await api_key_service.list(uow, web.subject),
                            "groups": permission_groups(web.subject.permissions),
                            "values": {"scopes": []}, "errors": {}}
    page.update(context)
    return render(request, "auth/settings/api_keys.html", page, status_code=status_code)


@router.get("/settings/api-keys", response_class=HTMLResponse)
async def api_keys_page(request: Request, uow: UoW, web: WebRequires["api_keys:read"], flash: str | None = None
                        ) -> Response:
    return await _keys_page(request, uow, web, flash=flash_for(KEY_FLASH, flash))


@router.post("/settings/api-keys", response_class=HTMLResponse)
async def create_api_key(request: Request, uow: UoW, web: WebRequires["api_keys:write"], name: Text = "",
                         scopes: Choices = None) -> Response:
    assert web.subject is not None
    values = {"name": name, "scopes": scopes or []}
    try:
        too_long({"name": name}, {"name": 100})
        created = await api_key_service.create(uow, web.subject, name=name, scopes=scopes or [])
    except DomainError as exc:
        web = await undo(request, uow)
        message, errors = form_errors(exc)
        return await _keys_page(request, uow, web, values=values, errors=errors, form_message=message,
                                status_code=exc.status)
    # the secret is on this page only: never cache it, never put it in a redirect URL
    return render(request, "auth/settings/api_key_created.html", {"key": created.api_key, "secret": created.secret},
                  headers={"Cache-Control": "no-store"})


@router.post("/settings/api-keys/{key_id}/revoke", response_class=HTMLResponse)
async def revoke_api_key(request: Request, uow: UoW, web: WebRequires["api_keys:write"], key_id: PathId
                         ) -> Response:
    assert web.subject is not None
    try:
        await api_key_service.revoke(uow, web.subject, key_id)
    except DomainError as exc:
        web = await undo(request, uow)
        return await _keys_page(request, uow, web, error=exc.message, status_code=exc.status)
    return RedirectResponse("/settings/api-keys?flash=key_revoked", status_code=303)
