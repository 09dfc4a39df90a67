"""Dashboard pages for teams and their members."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from softdukan.auth.settings_views import PathId, Text, flash_for, parse_id, too_long, undo
from softdukan.auth.views import form_errors
from softdukan.dashboard.context import WebContext, WebRequires
from softdukan.dashboard.render import render
from softdukan.organization.service import organization_service
from softdukan.platform.deps import UoW
from softdukan.platform.errors import DomainError
from softdukan.platform.uow import UnitOfWork
from softdukan.team.service import team_service

router = APIRouter(include_in_schema=False)

TEAM_FLASH = {"team_created": "The team was created.", "team_saved": "The team was saved.",
              "team_deleted": "The team was deleted.", "member_added": "The member was added to the team.",
              "member_removed": "The member was removed from the team."}
LIMITS = {"name": 80, "description": 300}


def _role_name(web: WebContext) -> str | None:
    return web.subject.role if web.subject else None


async def _teams_page(request: Request, uow: UnitOfWork, web: WebContext, *, status_code: int = 200,
                      **context: Any) -> Response:
    assert web.subject is not None
    page: dict[str, Any] = {"teams": await team_service.list(uow, web.subject), "values": {}, "errors": {},
                            "role_name": _role_name(web)}
    page.update(context)
    return render(request, "team/teams.html", page, status_code=status_code)


async def _team_page(request: Request, uow: UnitOfWork, web: WebContext, team_id: int, *, status_code: int = 200,
                     **context: Any) -> Response:
    subject = web.subject
    assert subject is not None
    detail = await team_service.get(uow, subject, team_id)
    in_team = {m.id for m, _ in detail.members}
    # choosing whom to add needs the member list (members:read)
    candidates = ([v for v in await organization_service.members(uow, subject) if v.membership.id not in in_team]
                  if subject.can("teams:write") and subject.can("members:read") else [])
    page: dict[str, Any] = {
        "team": detail.team, "members": detail.members, "candidates": candidates,
        "can_list_members": subject.can("members:read"), "role_name": _role_name(web),
        "values": {"name": detail.team.name, "description": detail.team.description or ""}, "errors": {},
        "add_errors": {}}
    page.update(context)
    return render(request, "team/team.html", page, status_code=status_code)


@router.get("/settings/teams", response_class=HTMLResponse)
async def teams_page(request: Request, uow: UoW, web: WebRequires["teams:read"], flash: str | None = None
                     ) -> Response:
    return await _teams_page(request, uow, web, flash=flash_for(TEAM_FLASH, flash))


@router.post("/settings/teams", response_class=HTMLResponse)
async def create_team(request: Request, uow: UoW, web: WebRequires["teams:write"], name: Text = "",
                      description: Text = "") -> Response:
    assert web.subject is not None
    values = {"name": name, "description": description}
    try:
        too_long(values, LIMITS)
        team = await team_service.create(uow, web.subject, name=name, description=description.strip() or None)
    except DomainError as exc:
        web = await undo(request, uow)
        message, errors = form_errors(exc)
        return await _teams_page(request, uow, web, values=values, errors=errors, error=message,
                                 status_code=exc.status)
    return RedirectResponse(f"/settings/teams/{team.id}?flash=team_created", status_code=303)


@router.get("/settings/teams/{team_id}", response_class=HTMLResponse)
async def team_page(request: Request, uow: UoW, web: WebRequires["teams:read"], team_id: PathId,
                    flash: str | None = None) -> Response:
    return await _team_page(request, uow, web, team_id, flash=flash_for(TEAM_FLASH, flash))


@router.post("/settings/teams/{team_id}", response_class=HTMLResponse)
async def update_team(request: Request, uow: UoW, web: WebRequires["teams:write"], team_id: PathId,
                      name: Text = "", description: Text = "") -> Response:
    assert web.subject is not None
    values = {"name": name, "description": description}
    try:
        too_long(values, LIMITS)
        await team_service.update(uow, web.subject, team_id, name=name, description=description.strip() or None)
    except DomainError as exc:
        web = await undo(request, uow)
        message, errors = form_errors(exc)
        return await _team_page(request, uow, web, team_id, values=values, errors=errors, edit_error=message,
                                status_code=exc.status)
    return RedirectResponse(f"/settings/teams/{team_id}?flash=team_saved", status_code=303)


async def _team_action(request: Request, uow: UnitOfWork, web: WebContext, team_id: int, action: Awaitable[object],
                       redirect_to: str) -> Response:
    """Run one team action; a refusal re-renders the team page with the reason and its status."""
    try:
        await action
    except DomainError as exc:
        web = await undo(request, uow)
        message, errors = form_errors(exc)
        return await _team_page(request, uow, web, team_id, error=None if errors else message, add_errors=errors,
                                add_error=message if errors else None, status_code=exc.status)
    return RedirectResponse(redirect_to, status_code=303)


@router.post("/settings/teams/{team_id}/delete", response_class=HTMLResponse)
async def delete_team(request: Request, uow: UoW, web: WebRequires["teams:write"], team_id: PathId) -> Response:
    assert web.subject is not None
    return await _team_action(request, uow, web, team_id, team_service.delete(uow, web.subject, team_id),
                              "/settings/teams?flash=team_deleted")


@router.post("/settings/teams/{team_id}/members", response_class=HTMLResponse)
async def add_member(request: Request, uow: UoW, web: WebRequires["teams:write"], team_id: PathId,
                     membership_id: Text = "") -> Response:
    subject = web.subject
    assert subject is not None

    async def add() -> None:
        await team_service.add_member(uow, subject, team_id, parse_id(membership_id, "membership_id", "a member"))

    return await _team_action(request, uow, web, team_id, add(), f"/settings/teams/{team_id}?flash=member_added")


@router.post("/settings/teams/{team_id}/members/{membership_id}/remove", response_class=HTMLResponse)
async def remove_member(request: Request, uow: UoW, web: WebRequires["teams:write"], team_id: PathId,
                        membership_id: PathId) -> Response:
    assert web.subject is not None
    return await _team_action(request, uow, web, team_id,
                              team_service.remove_member(uow, web.subject, team_id, membership_id),
                              f"/settings/teams/{team_id}?flash=member_removed")
