from __future__ import annotations

from sqlalchemy import Select, func, select

from softdukan.auth.models import User
from softdukan.auth.subject import Subject
from softdukan.kit.repository import Repository
from softdukan.organization.models import Membership
from softdukan.team.models import Team, TeamMember, name_key


class TeamRepository(Repository[Team]):
    model = Team

    def readable(self, subject: Subject) -> Select[tuple[Team]]:
        return select(Team).where(Team.organization_id == subject.organization_id)

    async def get(self, subject: Subject, team_id: int) -> Team | None:
        return await self.one_or_none(self.readable(subject).where(Team.id == team_id))

    async def by_name(self, subject: Subject, name: str) -> Team | None:
        return await self.one_or_none(self.readable(subject).where(Team.name_key == name_key(name)))

    async def list_with_sizes(self, subject: Subject) -> list[tuple[Team, int]]:
        rows = await self.session.execute(
            select(Team, func.count(TeamMember.id)).outerjoin(TeamMember, TeamMember.team_id == Team.id)
            .where(Team.organization_id == subject.organization_id).group_by(Team.id).order_by(Team.name))
        return [(team, int(size)) for team, size in rows.all()]

    async def members(self, subject: Subject, team_id: int) -> list[tuple[TeamMember, Membership, User]]:
        rows = await self.session.execute(
            select(TeamMember, Membership, User).join(Membership, Membership.id == TeamMember.membership_id)
            .join(User, User.id == Membership.user_id)
            .where(TeamMember.organization_id == subject.organization_id, TeamMember.team_id == team_id)
            .order_by(User.name))
        return [(tm, m, u) for tm, m, u in rows.all()]

    async def team_member(self, subject: Subject, team_id: int, membership_id: int) -> TeamMember | None:
        return await self.session.scalar(select(TeamMember).where(
            TeamMember.organization_id == subject.organization_id, TeamMember.team_id == team_id,
            TeamMember.membership_id == membership_id))
