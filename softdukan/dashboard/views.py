"""The home page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from softdukan.dashboard.context import Member
from softdukan.dashboard.render import render
from softdukan.organization.service import organization_service
from softdukan.platform.deps import UoW

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, uow: UoW, web: Member, welcome: int = 0, joined: int = 0) -> Response:
    assert web.subject is not None
    members = await organization_service.members(uow, web.subject) if web.can("members:read") else []
    flash = ("Welcome to SoftDukan! Your free trial has started." if welcome
             else f"You joined {web.organization.name}." if joined and web.organization else None)
    return render(request, "dashboard/home.html", {"members": members, "flash": flash})
