"""/v1/teams"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from softdukan.kit.ids import BodyId, PathId
from softdukan.platform.deps import Requires, UoW
from softdukan.platform.http import error_responses
from softdukan.team.service import TeamDetail, team_service

router = APIRouter(tags=["teams"])


class TeamIn(BaseModel):
    name: str = Field(max_length=80)
    description: str | None = Field(default=None, max_length=300)


class TeamMemberIn(BaseModel):
    membership_id: BodyId


class TeamMemberOut(BaseModel):
    membership_id: int
    name: str
    email: str


class TeamOut(BaseModel):
    id: int
    name: str
    description: str | None
    created_at: datetime
    member_count: int
    members: list[TeamMemberOut] | None = None


def team_out(detail: TeamDetail) -> TeamOut:
    team = detail.team
    return TeamOut(id=team.id, name=team.name, description=team.description, created_at=team.created_at,
                   member_count=len(detail.members),
                   members=[TeamMemberOut(membership_id=m.id, name=u.name, email=u.email) for m, u in detail.members])


@router.get("/teams", response_model=list[TeamOut], responses=error_responses())
async def list_teams(uow: UoW, subject: Requires["teams:read"]) -> list[TeamOut]:
    return [TeamOut(id=t.id, name=t.name, description=t.description, created_at=t.created_at, member_count=n)
            for t, n in await team_service.list(uow, subject)]


@router.post("/teams", response_model=TeamOut, status_code=201, responses=error_responses(409))
async def create_team(body: TeamIn, uow: UoW, subject: Requires["teams:write"]) -> TeamOut:
    team = await team_service.create(uow, subject, name=body.name, description=body.description)
    return team_out(TeamDetail(team, []))


@router.get("/teams/{team_id}", response_model=TeamOut, responses=error_responses(404))
async def get_team(team_id: PathId, uow: UoW, subject: Requires["teams:read"]) -> TeamOut:
    return team_out(await team_service.get(uow, subject, team_id))


@router.put("/teams/{team_id}", response_model=TeamOut, responses=error_responses(404, 409))
async def update_team(team_id: PathId, body: TeamIn, uow: UoW, subject: Requires["teams:write"]) -> TeamOut:
    await team_service.update(uow, subject, team_id, name=body.name, description=body.description)
    return team_out(await team_service.get(uow, subject, team_id))


@router.delete("/teams/{team_id}", status_code=204, responses=error_responses(404))
async def delete_team(team_id: PathId, uow: UoW, subject: Requires["teams:write"]) -> Response:
    await team_service.delete(uow, subject, team_id)
    return Response(status_code=204)


@router.post("/teams/{team_id}/members", response_model=TeamOut, status_code=201,
             responses=error_responses(404, 409))
async def add_team_member(team_id: PathId, body: TeamMemberIn, uow: UoW, subject: Requires["teams:write"]) -> TeamOut:
    return team_out(await team_service.add_member(uow, subject, team_id, body.membership_id))


@router.delete("/teams/{team_id}/members/{member_id}", status_code=204, responses=error_responses(404))
async def remove_team_member(team_id: PathId, member_id: PathId, uow: UoW,
                             subject: Requires["teams:write"]) -> Response:
    await team_service.remove_member(uow, subject, team_id, member_id)
    return Response(status_code=204)
