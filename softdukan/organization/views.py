"""Dashboard pages for the organization's profile, its members and invitations."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from softdukan.auth.models import Role
from softdukan.auth.permissions import OWNER
from softdukan.auth.roles import role_service
from softdukan.auth.settings_views import PathId, Text, flash_for, parse_id, too_long, undo
from softdukan.auth.views import form_errors
from softdukan.dashboard.context import WebContext, WebRequires
from softdukan.dashboard.render import render
from softdukan.organization.service import organization_service
from softdukan.platform.deps import UoW
from softdukan.platform.errors import DomainError
from softdukan.platform.uow import UnitOfWork

router = APIRouter(include_in_schema=False)

# Offered in the time-zone select; the organization's current zone is added when it is another one.
COMMON_TIMEZONES = (
    "Asia/Kolkata", "Asia/Kathmandu", "Asia/Dhaka", "Asia/Colombo", "Asia/Karachi", "Asia/Dubai", "Asia/Riyadh",
    "Asia/Singapore", "Asia/Kuala_Lumpur", "Asia/Jakarta", "Asia/Bangkok", "Asia/Manila", "Asia/Hong_Kong",
    "Asia/Shanghai", "Asia/Tokyo", "Australia/Sydney", "Pacific/Auckland", "Africa/Nairobi", "Africa/Lagos",
    "Africa/Cairo", "Africa/Johannesburg", "Europe/London", "Europe/Paris", "Europe/Berlin", "Europe/Istanbul",
    "Europe/Moscow", "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles",
    "America/Mexico_City", "America/Bogota", "America/Sao_Paulo", "UTC",
)

ORG_FLASH = {"saved": "The organization's settings were saved."}
MEMBER_FLASH = {"role_changed": "The member's role was changed.", "removed": "The member was removed.",
                "invitation_revoked": "The invitation was revoked.",
                "ownership_transferred": "Ownership was transferred. You are now an admin."}


# -- organization profile ------------------------------------------------------------------------------------

def _organization_page(request: Request, web: WebContext, *, status_code: int = 200, **context: Any) -> Response:
    assert web.organization is not None
    current = web.organization.timezone
    page: dict[str, Any] = {
        "values": {"name": web.organization.name, "timezone": current},
        "timezones": COMMON_TIMEZONES if current in COMMON_TIMEZONES else (current, *COMMON_TIMEZONES),
        "errors": {}}
    page.update(context)
    return render(request, "organization/settings.html", page, status_code=status_code)


@router.get("/settings/organization", response_class=HTMLResponse)
async def organization_page(request: Request, web: WebRequires["organization:read"], flash: str | None = None
                            ) -> Response:
    return _organization_page(request, web, flash=flash_for(ORG_FLASH, flash))


@router.post("/settings/organization", response_class=HTMLResponse)
async def update_organization(request: Request, uow: UoW, web: WebRequires["organization:write"], name: Text = "",
                              timezone: Text = "") -> Response:
    assert web.subject is not None
    values = {"name": name, "timezone": timezone}
    try:
        too_long(values, {"name": 120, "timezone": 64})
        await organization_service.update(uow, web.subject, name=name, timezone=timezone)
    except DomainError as exc:
        web = await undo(request, uow)
        message, errors = form_errors(exc)
        return _organization_page(request, web, values=values, errors=errors, error=message, status_code=exc.status)
    return RedirectResponse("/settings/organization?flash=saved", status_code=303)


# -- members and invitations ---------------------------------------------------------------------------------

def _assignable(web: WebContext, roles: list[Role]) -> list[Role]:
    """Roles this member may give: never the owner role, and (unless owner) none beyond their own permissions."""
    assert web.subject is not None
    return [r for r in roles if not (r.is_builtin and r.name == OWNER)
            and (web.subject.is_owner or set(r.permissions) <= web.subject.permissions)]


async def _members_page(request: Request, uow: UnitOfWork, web: WebContext, *, status_code: int = 200,
                        flash: str | None = None, invitation_id: int | None = None, **context: Any) -> Response:
    subject = web.subject
    assert subject is not None
    members = await organization_service.members(uow, subject)
    invitations = await organization_service.invitations(uow, subject)
    # listing roles needs roles:read; without it the role names of invitations stay hidden
    roles = await role_service.list(uow, subject) if subject.can("roles:read") else []
    message = flash_for(MEMBER_FLASH, flash)
    if flash == "invited":
        invited = next((i for i in invitations if i.id == invitation_id), None)
        message = f"Invitation sent to {invited.email}." if invited else "Invitation sent."
    page: dict[str, Any] = {
        "members": members, "invitations": invitations, "role_names": {r.id: r.name for r in roles},
        "assignable_roles": _assignable(web, roles), "me": next(
            (v for v in members if v.membership.id == subject.membership_id), None),
        "now": uow.clock.now(), "invite_values": {}, "invite_errors": {}, "flash": message}
    page.update(context)
    return render(request, "organization/members.html", page, status_code=status_code)


@router.get("/settings/members", response_class=HTMLResponse)
async def members_page(request: Request, uow: UoW, web: WebRequires["members:read"], flash: str | None = None,
                       invitation: int | None = None) -> Response:
    return await _members_page(request, uow, web, flash=flash, invitation_id=invitation)


@router.post("/settings/members/invite", response_class=HTMLResponse)
async def invite(request: Request, uow: UoW, web: WebRequires["members:write"], email: Text = "",
                 role_id: Text = "") -> Response:
    assert web.subject is not None
    values = {"email": email, "role_id": role_id}
    try:
        too_long({"email": email}, {"email": 254})
        invitation = await organization_service.invite(uow, web.subject, email=email,
                                                       role_id=parse_id(role_id, "role_id", "a role"))
    except DomainError as exc:
        web = await undo(request, uow)
        message, errors = form_errors(exc)
        return await _members_page(request, uow, web, invite_values=values, invite_errors=errors,
                                   invite_error=message, status_code=exc.status)
    return RedirectResponse(f"/settings/members?flash=invited&invitation={invitation.id}", status_code=303)


async def _member_action(request: Request, uow: UnitOfWork, web: WebContext, action: Awaitable[object], flash: str,
                         redirect_to: str = "/settings/members") -> Response:
    """Run one per-member action; a refusal re-renders the page with the reason and its status."""
    try:
        await action
    except DomainError as exc:
        web = await undo(request, uow)
        return await _members_page(request, uow, web, error=exc.message, status_code=exc.status)
    return RedirectResponse(f"{redirect_to}?flash={flash}" if flash else redirect_to, status_code=303)


@router.post("/settings/members/{member_id}/role", response_class=HTMLResponse)
async def change_role(request: Request, uow: UoW, web: WebRequires["members:write"], member_id: PathId,
                      role_id: Text = "") -> Response:
    subject = web.subject
    assert subject is not None

    async def change() -> None:
        await organization_service.change_role(uow, subject, member_id, parse_id(role_id, "role_id", "a role"))

    return await _member_action(request, uow, web, change(), "role_changed")


# Anyone who can see the members may remove themselves (leave); the service requires members:write for others.
@router.post("/settings/members/{member_id}/remove", response_class=HTMLResponse)
async def remove_member(request: Request, uow: UoW, web: WebRequires["members:read"], member_id: PathId
                        ) -> Response:
    assert web.subject is not None
    leaving = member_id == web.subject.membership_id
    # someone who leaves their only organization has no home page left
    after_leaving = "/" if len(web.organizations) > 1 else "/no-organization"
    return await _member_action(request, uow, web, organization_service.remove_member(uow, web.subject, member_id),
                                "" if leaving else "removed", after_leaving if leaving else "/settings/members")


@router.post("/settings/members/{member_id}/transfer-ownership", response_class=HTMLResponse)
async def transfer_ownership(request: Request, uow: UoW, web: WebRequires["members:write"], member_id: PathId
                             ) -> Response:
    assert web.subject is not None
    return await _member_action(request, uow, web,
                                organization_service.transfer_ownership(uow, web.subject, member_id),
                                "ownership_transferred")


@router.post("/settings/invitations/{invitation_id}/revoke", response_class=HTMLResponse)
async def revoke_invitation(request: Request, uow: UoW, web: WebRequires["members:write"], invitation_id: PathId
                            ) -> Response:
    assert web.subject is not None
    return await _member_action(request, uow, web,
                                organization_service.revoke_invitation(uow, web.subject, invitation_id),
                                "invitation_revoked")
