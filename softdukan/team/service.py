"""Teams and their members."""

from __future__ import annotations

from dataclasses import dataclass

from softdukan.audit.service import audit_service
from softdukan.auth.models import User
from softdukan.auth.service import check_description, clean_name
from softdukan.auth.subject import Subject
from softdukan.organization.models import Membership
from softdukan.organization.repository import MembershipRepository
from softdukan.platform.errors import Conflict, NotFound
from softdukan.platform.uow import UnitOfWork
from softdukan.team.models import Team, TeamMember, name_key
from softdukan.team.repository import TeamRepository


@dataclass(frozen=True)
class TeamDetail:
    team: Team
    members: list[tuple[Membership, User]]


class TeamService:
    async def list(self, uow: UnitOfWork, subject: Subject) -> list[tuple[Team, int]]:
        subject.require("teams:read")
        return await TeamRepository(uow.session).list_with_sizes(subject)

    async def get(self, uow: UnitOfWork, subject: Subject, team_id: int) -> TeamDetail:
        subject.require("teams:read")
        teams = TeamRepository(uow.session)
        team = await teams.get(subject, team_id)
        if team is None:
            raise NotFound("team_not_found", "No such team in this organization.")
        return TeamDetail(team, [(m, u) for _, m, u in await teams.members(subject, team_id)])

    async def _unique(self, uow: UnitOfWork, subject: Subject, name: str, team_id: int | None = None) -> None:
        existing = await TeamRepository(uow.session).by_name(subject, name)
        if existing is not None and existing.id != team_id:
            raise Conflict("team_name_taken", f"A team named '{name}' exists.", {"name": "Already used."})

    async def create(self, uow: UnitOfWork, subject: Subject, *, name: str, description: str | None) -> Team:
        subject.require("teams:write")
        name = clean_name(name, "name", "Team name", max_length=80)
        check_description(description)
        await self._unique(uow, subject, name)
        team = Team(organization_id=subject.organization_id, name=name, name_key=name_key(name),
                    description=description or None, created_at=uow.clock.now())
        uow.session.add(team)
        await uow.flush()
        audit_service.record(uow, "team.created", subject=subject, target=team, target_label=name)
        return team

    async def update(self, uow: UnitOfWork, subject: Subject, team_id: int, *, name: str,
                     description: str | None) -> Team:
        subject.require("teams:write")
        team = (await self.get(uow, subject, team_id)).team
        name = clean_name(name, "name", "Team name", max_length=80)
        check_description(description)
        await self._unique(uow, subject, name, team.id)
        team.name, team.name_key, team.description = name, name_key(name), description or None
        audit_service.record(uow, "team.updated", subject=subject, target=team, target_label=name)
        return team

    async def delete(self, uow: UnitOfWork, subject: Subject, team_id: int) -> None:
        subject.require("teams:write")
        team = (await self.get(uow, subject, team_id)).team
        await TeamRepository(uow.session).delete(team)
        audit_service.record(uow, "team.deleted", subject=subject, target=team, target_label=team.name)

    async def add_member(self, uow: UnitOfWork, subject: Subject, team_id: int, membership_id: int) -> TeamDetail:
        subject.require("teams:write")
        detail = await self.get(uow, subject, team_id)
        membership = await MembershipRepository(uow.session).get(subject, membership_id)
        if membership is None:
            raise NotFound("member_not_found", "No such member in this organization.",
                           {"membership_id": "Unknown member."})
        if any(m.id == membership_id for m, _ in detail.members):
            raise Conflict("already_in_team", "This member is already in the team.")
        uow.session.add(TeamMember(organization_id=subject.organization_id, team_id=team_id,
                                   membership_id=membership_id, created_at=uow.clock.now()))
        await uow.flush()
        audit_service.record(uow, "team.member_added", subject=subject, target=detail.team,
                             target_label=detail.team.name, membership_id=membership_id)
        return await self.get(uow, subject, team_id)

    async def remove_member(self, uow: UnitOfWork, subject: Subject, team_id: int, membership_id: int) -> None:
        subject.require("teams:write")
        detail = await self.get(uow, subject, team_id)
        row = await TeamRepository(uow.session).team_member(subject, team_id, membership_id)
        if row is None:
            raise NotFound("member_not_in_team", "This member is not in the team.")
        await TeamRepository(uow.session).delete(row)
        audit_service.record(uow, "team.member_removed", subject=subject, target=detail.team,
                             target_label=detail.team.name, membership_id=membership_id)


team_service = TeamService()
