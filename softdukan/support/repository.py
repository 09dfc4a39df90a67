"""Every query of support tickets. Customer pages and the API pass the acting subject (scoped to its organization);
the staff queue reads across organizations and is used only by the staff side of the service."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, or_, select

from softdukan.auth.models import User
from softdukan.auth.subject import Subject
from softdukan.backoffice.models import StaffUser
from softdukan.kit.repository import Repository
from softdukan.organization.models import Membership, Organization
from softdukan.support.models import TECHNICAL, SupportTicket, SupportTicketMessage


@dataclass(frozen=True)
class QueueRow:
    ticket: SupportTicket
    organization_name: str


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class TicketRepository(Repository[SupportTicket]):
    model = SupportTicket

    def readable(self, subject: Subject) -> Select[tuple[SupportTicket]]:
        return select(SupportTicket).where(SupportTicket.organization_id == subject.organization_id)

    async def get(self, subject: Subject, ticket_id: int, *, for_update: bool = False) -> SupportTicket | None:
        statement = self.readable(subject).where(SupportTicket.id == ticket_id)
        if for_update:
            statement = statement.with_for_update().execution_options(populate_existing=True)
        return await self.one_or_none(statement)

    async def page(self, subject: Subject, *, status: str | None, before_id: int | None, limit: int
                   ) -> list[SupportTicket]:
        """Newest first."""
        statement = self.readable(subject)
        if status:
            statement = statement.where(SupportTicket.status == status)
        if before_id:
            statement = statement.where(SupportTicket.id < before_id)
        return await self.all(statement.order_by(SupportTicket.id.desc()).limit(limit))

    async def next_number(self, organization_id: int) -> int:
        """The organization's next ticket number. The organization's row stays locked until commit, so two tickets
        opened at once queue here instead of colliding on the unique (organization_id, number)."""
        await self.session.execute(select(Organization.id).where(Organization.id == organization_id)
                                   .with_for_update())
        top = await self.session.scalar(select(func.max(SupportTicket.number))
                                        .where(SupportTicket.organization_id == organization_id))
        return int(top or 0) + 1

    async def verified(self, organization_id: int) -> list[SupportTicket]:
        """System read for the refund rules: the organization's verified technical issues, oldest first."""
        return await self.all(select(SupportTicket).where(
            SupportTicket.organization_id == organization_id, SupportTicket.category == TECHNICAL,
            SupportTicket.verified_at.is_not(None)).order_by(SupportTicket.issue_started_at, SupportTicket.id))

    # -- staff: across organizations ------------------------------------------------------------------------

    async def by_id_for_staff(self, ticket_id: int, *, for_update: bool = False) -> SupportTicket | None:
        statement = select(SupportTicket).where(SupportTicket.id == ticket_id)
        if for_update:
            statement = statement.with_for_update().execution_options(populate_existing=True)
        return await self.one_or_none(statement)

    async def queue(self, *, status: str | None, category: str | None, organization: str | None, limit: int
                    ) -> list[QueueRow]:
        """Tickets for staff, the longest-waiting first within the open statuses (oldest activity first)."""
        statement = (select(SupportTicket, Organization.name)
                     .join(Organization, Organization.id == SupportTicket.organization_id))
        if status:
            statement = statement.where(SupportTicket.status == status)
        if category:
            statement = statement.where(SupportTicket.category == category)
        if organization:
            conditions = [Organization.name.ilike(_like(organization), escape="\\")]
            if organization.isascii() and organization.isdigit() and len(organization) <= 18:
                conditions.append(Organization.id == int(organization))
            statement = statement.where(or_(*conditions))
        rows = await self.session.execute(statement.order_by(SupportTicket.last_activity_at.asc(),
                                                             SupportTicket.id.asc()).limit(limit))
        return [QueueRow(ticket, name) for ticket, name in rows.all()]


class MessageRepository(Repository[SupportTicketMessage]):
    model = SupportTicketMessage

    async def of_ticket(self, organization_id: int, ticket_id: int) -> list[SupportTicketMessage]:
        return await self.all(select(SupportTicketMessage).where(
            SupportTicketMessage.organization_id == organization_id, SupportTicketMessage.ticket_id == ticket_id)
            .order_by(SupportTicketMessage.id))


class RecipientRepository(Repository[User]):
    """Where ticket e-mail goes: the opener, else the organization's owners; every active staff member."""

    model = User

    async def user_email(self, user_id: int) -> str | None:
        return await self.session.scalar(select(User.email).where(User.id == user_id))

    async def owner_emails(self, organization_id: int) -> list[str]:
        rows = await self.session.execute(select(User.email).join(Membership, Membership.user_id == User.id).where(
            Membership.organization_id == organization_id, Membership.is_owner.is_(True)).order_by(User.email))
        return [str(email) for email in rows.scalars()]

    async def active_staff_emails(self) -> list[str]:
        rows = await self.session.execute(select(StaffUser.email).where(StaffUser.disabled_at.is_(None))
                                          .order_by(StaffUser.email))
        return [str(email) for email in rows.scalars()]

    async def staff_name(self, staff_id: int) -> str | None:
        return await self.session.scalar(select(StaffUser.name).where(StaffUser.id == staff_id))

    async def organization(self, organization_id: int) -> Organization | None:
        return await self.session.get(Organization, organization_id)
