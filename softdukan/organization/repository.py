"""Queries on organizations, memberships and invitations."""

from __future__ import annotations

from sqlalchemy import Select, select

from softdukan.auth.models import Role, User
from softdukan.auth.subject import Subject
from softdukan.kit.repository import Repository
from softdukan.organization.models import Invitation, Membership, Organization


class OrganizationRepository(Repository[Organization]):
    model = Organization

    async def by_id(self, organization_id: int) -> Organization | None:
        return await self.session.get(Organization, organization_id)

    async def of_user(self, user_id: int) -> list[tuple[Organization, Membership]]:
        rows = await self.session.execute(
            select(Organization, Membership).join(Membership, Membership.organization_id == Organization.id)
            .where(Membership.user_id == user_id).order_by(Organization.name))
        return [(org, m) for org, m in rows.all()]


class MembershipRepository(Repository[Membership]):
    model = Membership

    def readable(self, subject: Subject) -> Select[tuple[Membership]]:
        return select(Membership).where(Membership.organization_id == subject.organization_id)

    async def get(self, subject: Subject, membership_id: int) -> Membership | None:
        return await self.one_or_none(self.readable(subject).where(Membership.id == membership_id))

    async def with_users(self, subject: Subject) -> list[tuple[Membership, User, Role]]:
        rows = await self.session.execute(
            select(Membership, User, Role).join(User, User.id == Membership.user_id)
            .join(Role, Role.id == Membership.role_id)
            .where(Membership.organization_id == subject.organization_id).order_by(User.name))
        return [(m, u, r) for m, u, r in rows.all()]

    async def of_user_in_org(self, user_id: int, organization_id: int) -> Membership | None:
        return await self.one_or_none(select(Membership).where(
            Membership.user_id == user_id, Membership.organization_id == organization_id))

    async def count_with_role(self, subject: Subject, role_id: int) -> int:
        return await self.count(self.readable(subject).where(Membership.role_id == role_id))


class InvitationRepository(Repository[Invitation]):
    model = Invitation

    def readable(self, subject: Subject) -> Select[tuple[Invitation]]:
        return select(Invitation).where(Invitation.organization_id == subject.organization_id)

    async def get(self, subject: Subject, invitation_id: int) -> Invitation | None:
        return await self.one_or_none(self.readable(subject).where(Invitation.id == invitation_id))

    async def pending(self, subject: Subject) -> list[Invitation]:
        return await self.all(self.readable(subject).where(
            Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None)).order_by(Invitation.id.desc()))

    async def by_token_hash(self, token_hash: str) -> Invitation | None:
        """The token is the credential: looked up before the invitee belongs to the organization."""
        return await self.one_or_none(select(Invitation).where(Invitation.token_hash == token_hash))
