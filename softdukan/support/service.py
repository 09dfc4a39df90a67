"""Support tickets: customers open them and converse with staff; staff answer, move their status and verify
technical issues (refund policy clauses 6 and 4). Services never commit; the edge does.

Status follows the conversation: a new ticket is `open`; a staff reply makes it `waiting_on_customer`, a customer
reply `waiting_on_staff` (a resolved ticket the customer answers opens again). Staff may set any status; customers
close and reopen. A closed ticket takes no replies until it is reopened.

E-mail: every active staff member hears of a new ticket and of each customer reply; the opener (or, for a ticket
opened with an API key, the organization's owners) hears of each staff reply, status change and verification.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from softdukan.audit.service import audit_service
from softdukan.auth.subject import Subject
from softdukan.backoffice.models import StaffUser
from softdukan.notification.service import mail_service
from softdukan.platform.errors import Conflict, Invalid, NotFound
from softdukan.platform.uow import UnitOfWork
from softdukan.support.models import (
    BODY_MAX,
    CATEGORIES,
    CLOSED,
    CUSTOMER,
    IMPACT_MAX,
    OPEN,
    RESOLVED,
    STAFF,
    STATUSES,
    SUBJECT_MAX,
    TECHNICAL,
    WAITING_ON_CUSTOMER,
    WAITING_ON_STAFF,
    SupportTicket,
    SupportTicketMessage,
)
from softdukan.support.repository import MessageRepository, QueueRow, RecipientRepository, TicketRepository


@dataclass(frozen=True)
class VerifiedIssue:
    """A technical issue support verified: what the refund rules (clause 4) weigh."""

    ticket_id: int
    ticket_number: int
    subject: str
    started_at: datetime
    ended_at: datetime | None  # None: still ongoing
    impact: str
    verified_by_staff_id: int | None
    verified_at: datetime


def _printable(text: str) -> str:
    # PostgreSQL refuses NUL in text (a 500, not an error); other control characters are noise in a ticket
    return "".join(ch for ch in text if ch.isprintable() or ch in "\n\t")


def clean_subject(text: str) -> str:
    subject = " ".join(_printable(text).split())
    if not subject:
        raise Invalid("subject_required", "Say in a few words what the ticket is about.",
                      {"subject": "A subject is required."})
    if len(subject) > SUBJECT_MAX:
        raise Invalid("subject_too_long", f"The subject is too long: use at most {SUBJECT_MAX} characters.",
                      {"subject": f"Use at most {SUBJECT_MAX} characters."})
    return subject


def clean_body(text: str, field: str = "body") -> str:
    body = "\n".join(line.rstrip() for line in _printable(text.replace("\r\n", "\n")).split("\n")).strip()
    if not body:
        raise Invalid("message_required", "Write a message.", {field: "A message is required."})
    if len(body) > BODY_MAX:
        raise Invalid("message_too_long", f"The message is too long: use at most {BODY_MAX} characters.",
                      {field: f"Use at most {BODY_MAX} characters."})
    return body


def clean_category(category: str) -> str:
    if category not in CATEGORIES:
        raise Invalid("invalid_category", "Choose a category: technical issue, billing or other.",
                      {"category": "Choose technical, billing or other."})
    return category


def _not_found() -> NotFound:
    return NotFound("ticket_not_found", "No such support ticket.")


def _label(ticket: SupportTicket) -> str:
    return f"Ticket #{ticket.number}: {ticket.subject}"


class TicketService:
    # -- customers ------------------------------------------------------------------------------------------

    async def list(self, uow: UnitOfWork, subject: Subject, *, status: str | None = None,
                   before_id: int | None = None, limit: int = 50) -> list[SupportTicket]:
        """The organization's tickets, newest first."""
        subject.require("support:read")
        return await TicketRepository(uow.session).page(subject, status=status if status in STATUSES else None,
                                                        before_id=before_id, limit=max(1, min(limit, 201)))

    async def get(self, uow: UnitOfWork, subject: Subject, ticket_id: int) -> SupportTicket:
        subject.require("support:read")
        ticket = await TicketRepository(uow.session).get(subject, ticket_id)
        if ticket is None:
            raise _not_found()
        return ticket

    async def messages(self, uow: UnitOfWork, subject: Subject, ticket: SupportTicket) -> list[SupportTicketMessage]:
        subject.require("support:read")
        if ticket.organization_id != subject.organization_id:
            raise _not_found()
        return await MessageRepository(uow.session).of_ticket(ticket.organization_id, ticket.id)

    async def open(self, uow: UnitOfWork, subject: Subject, *, category: str, subject_line: str, body: str
                   ) -> SupportTicket:
        subject.require("support:write")
        category, subject_line, body = clean_category(category), clean_subject(subject_line), clean_body(body)
        tickets = TicketRepository(uow.session)
        now = uow.clock.now()
        ticket = tickets.add(SupportTicket(
            organization_id=subject.organization_id, number=await tickets.next_number(subject.organization_id),
            category=category, subject=subject_line, status=OPEN, opened_by_user_id=subject.user_id,
            opened_by_label=subject.label[:254], last_activity_at=now, created_at=now))
        await uow.flush()
        await self._add_message(uow, ticket, body, author_type=CUSTOMER, user_id=subject.user_id, label=subject.label)
        await self._tell_staff(uow, ticket, f"New {CATEGORIES[category].lower()} ticket", body, subject.label)
        return ticket

    async def reply(self, uow: UnitOfWork, subject: Subject, ticket_id: int, body: str) -> SupportTicketMessage:
        subject.require("support:write")
        body = clean_body(body)
        ticket = await self._locked(uow, subject, ticket_id)
        if ticket.status == CLOSED:
            raise Conflict("ticket_closed", f"Ticket #{ticket.number} is closed: reopen it to write again.")
        message = await self._add_message(uow, ticket, body, author_type=CUSTOMER, user_id=subject.user_id,
                                    label=subject.label)
        ticket.status = WAITING_ON_STAFF
        await self._tell_staff(uow, ticket, "Customer replied", body, subject.label)
        return message

    async def close(self, uow: UnitOfWork, subject: Subject, ticket_id: int) -> SupportTicket:
        subject.require("support:write")
        ticket = await self._locked(uow, subject, ticket_id)
        if ticket.status == CLOSED:
            raise Conflict("ticket_already_closed", f"Ticket #{ticket.number} is already closed.")
        ticket.status, ticket.closed_at, ticket.last_activity_at = CLOSED, uow.clock.now(), uow.clock.now()
        return ticket

    async def reopen(self, uow: UnitOfWork, subject: Subject, ticket_id: int) -> SupportTicket:
        subject.require("support:write")
        ticket = await self._locked(uow, subject, ticket_id)
        if ticket.status not in (CLOSED, RESOLVED):
            raise Conflict("ticket_not_closed", f"Ticket #{ticket.number} is still open.")
        ticket.status, ticket.closed_at, ticket.last_activity_at = WAITING_ON_STAFF, None, uow.clock.now()
        await self._tell_staff(uow, ticket, "Customer reopened", "The customer reopened the ticket.", subject.label)
        return ticket

    async def _locked(self, uow: UnitOfWork, subject: Subject, ticket_id: int) -> SupportTicket:
        ticket = await TicketRepository(uow.session).get(subject, ticket_id, for_update=True)
        if ticket is None:
            raise _not_found()
        return ticket

    # -- staff ----------------------------------------------------------------------------------------------

    async def queue(self, uow: UnitOfWork, staff: StaffUser, *, status: str | None = None,
                    category: str | None = None, organization: str | None = None, limit: int = 200
                    ) -> list[QueueRow]:
        return await TicketRepository(uow.session).queue(
            status=status if status in STATUSES else None, category=category if category in CATEGORIES else None,
            organization=" ".join((organization or "").split())[:100] or None, limit=limit)

    async def for_staff(self, uow: UnitOfWork, staff: StaffUser, ticket_id: int, *, for_update: bool = False
                        ) -> SupportTicket:
        ticket = await TicketRepository(uow.session).by_id_for_staff(ticket_id, for_update=for_update)
        if ticket is None:
            raise _not_found()
        return ticket

    async def staff_messages(self, uow: UnitOfWork, staff: StaffUser, ticket: SupportTicket
                             ) -> list[SupportTicketMessage]:
        return await MessageRepository(uow.session).of_ticket(ticket.organization_id, ticket.id)

    async def staff_reply(self, uow: UnitOfWork, staff: StaffUser, ticket_id: int, body: str, *,
                          ip: str | None = None) -> SupportTicketMessage:
        body = clean_body(body)
        ticket = await self.for_staff(uow, staff, ticket_id, for_update=True)
        if ticket.status == CLOSED:
            raise Conflict("ticket_closed", f"Ticket #{ticket.number} is closed: set another status to reply.")
        message = await self._add_message(uow, ticket, body, author_type=STAFF, staff_id=staff.id, label=staff.name)
        ticket.status = WAITING_ON_CUSTOMER
        self._audit(uow, "support_ticket.replied", staff, ticket, ip, message_id=message.id)
        await self._tell_customer(uow, ticket, f"SoftDukan support replied to ticket #{ticket.number}",
                                  f"{staff.name} from SoftDukan support wrote:\n\n{body}")
        return message

    async def set_status(self, uow: UnitOfWork, staff: StaffUser, ticket_id: int, status: str, *,
                         ip: str | None = None) -> SupportTicket:
        if status not in STATUSES:
            raise Invalid("invalid_status", "Choose a status from the list.", {"status": "Unknown status."})
        ticket = await self.for_staff(uow, staff, ticket_id, for_update=True)
        if ticket.status == status:
            raise Conflict("status_unchanged", f"Ticket #{ticket.number} is already {STATUSES[status].lower()}.")
        previous, now = ticket.status, uow.clock.now()
        ticket.status, ticket.last_activity_at = status, now
        ticket.closed_at = now if status == CLOSED else None
        self._audit(uow, "support_ticket.status_changed", staff, ticket, ip, previous=previous, status=status)
        await self._tell_customer(uow, ticket, f"Ticket #{ticket.number} is now {STATUSES[status].lower()}",
                                  f"SoftDukan support set your ticket \"{ticket.subject}\" to "
                                  f"{STATUSES[status].lower()}.")
        return ticket

    async def verify(self, uow: UnitOfWork, staff: StaffUser, ticket_id: int, *, started_at: datetime | None,
                     ended_at: datetime | None, impact: str, ip: str | None = None) -> SupportTicket:
        """Marks a technical issue verified with its period (end None while ongoing) and impact; verifying again
        corrects them (e.g. once the issue has ended)."""
        errors: dict[str, str] = {}
        now = uow.clock.now()
        if started_at is None:
            errors["issue_started_at"] = "Say when the issue started."
        elif started_at > now:
            errors["issue_started_at"] = "The start cannot be in the future."
        if ended_at is not None and ended_at > now:
            errors["issue_ended_at"] = "The end cannot be in the future; leave it empty while the issue lasts."
        if started_at is not None and ended_at is not None and ended_at < started_at:
            errors["issue_ended_at"] = "The end is before the start."
        impact = " ".join(_printable(impact).split())
        if not impact:
            errors["impact"] = "Describe how the issue prevented use of the service."
        elif len(impact) > IMPACT_MAX:
            errors["impact"] = f"Use at most {IMPACT_MAX} characters."
        ticket = await self.for_staff(uow, staff, ticket_id, for_update=True)
        if ticket.category != TECHNICAL:
            raise Invalid("not_a_technical_issue", f"Ticket #{ticket.number} is a {ticket.category} ticket: only "
                                                   "technical issues can be verified.", {"category": "Not technical."})
        if errors:
            raise Invalid("invalid_verification", " ".join(errors.values()), errors)
        assert started_at is not None
        again = ticket.verified_at is not None
        ticket.verified_at, ticket.verified_by_staff_id = now, staff.id
        ticket.issue_started_at, ticket.issue_ended_at, ticket.impact = started_at, ended_at, impact
        ticket.last_activity_at = now
        self._audit(uow, "support_ticket.verified", staff, ticket, ip, issue_started_at=started_at.isoformat(),
                    issue_ended_at=ended_at.isoformat() if ended_at else None, impact=impact, corrected=again)
        period = f"from {started_at:%d %b %Y %H:%M} UTC " + (f"to {ended_at:%d %b %Y %H:%M} UTC" if ended_at
                                                              else "(still ongoing)")
        await self._tell_customer(uow, ticket, f"Ticket #{ticket.number}: technical issue verified",
                                  f"SoftDukan support verified the technical issue of your ticket "
                                  f"\"{ticket.subject}\" {period}.\n\nImpact: {impact}")
        return ticket

    # -- shared ---------------------------------------------------------------------------------------------

    async def _add_message(self, uow: UnitOfWork, ticket: SupportTicket, body: str, *, author_type: str,
                           label: str, user_id: int | None = None, staff_id: int | None = None
                           ) -> SupportTicketMessage:
        now = uow.clock.now()
        ticket.last_activity_at = now
        message = SupportTicketMessage(organization_id=ticket.organization_id, ticket_id=ticket.id,
                                       author_type=author_type, author_user_id=user_id, author_staff_id=staff_id,
                                       author_label=label[:254], body=body, created_at=now)
        uow.session.add(message)
        await uow.flush()
        return message

    def _audit(self, uow: UnitOfWork, action: str, staff: StaffUser, ticket: SupportTicket, ip: str | None,
               **details: object) -> None:
        audit_service.record(uow, action, organization_id=ticket.organization_id, actor_type="staff",
                             actor_id=staff.id, actor_label=staff.email, target=ticket,
                             target_label=_label(ticket)[:254], ip=ip, **details)

    async def _tell_staff(self, uow: UnitOfWork, ticket: SupportTicket, what: str, body: str, author: str) -> None:
        recipients = RecipientRepository(uow.session)
        org = await recipients.organization(ticket.organization_id)
        link = f"{uow.settings.base_url.rstrip('/')}/backoffice/tickets/{ticket.id}"
        for email in await recipients.active_staff_emails():
            await mail_service.send(uow, to=email, subject=f"[{org.name if org else ticket.organization_id}] "
                                                           f"{what}: #{ticket.number} {ticket.subject}"[:200],
                                    text=f"{author} ({CATEGORIES[ticket.category]}):\n\n{body}\n\n{link}\n")

    async def _tell_customer(self, uow: UnitOfWork, ticket: SupportTicket, subject: str, text: str) -> None:
        recipients = RecipientRepository(uow.session)
        opener = await recipients.user_email(ticket.opened_by_user_id) if ticket.opened_by_user_id else None
        link = f"{uow.settings.base_url.rstrip('/')}/support/{ticket.id}"
        for email in [opener] if opener else await recipients.owner_emails(ticket.organization_id):
            await mail_service.send(uow, to=email, subject=subject[:200], text=f"{text}\n\n{link}\n")


async def verified_issues(uow: UnitOfWork, organization_id: int) -> list[VerifiedIssue]:
    """The organization's technical issues verified by support, oldest first: what refund clause 4 relies on
    (system code: the caller has resolved the organization)."""
    return [VerifiedIssue(ticket_id=t.id, ticket_number=t.number, subject=t.subject, started_at=t.issue_started_at,
                          ended_at=t.issue_ended_at, impact=t.impact, verified_by_staff_id=t.verified_by_staff_id,
                          verified_at=t.verified_at)
            for t in await TicketRepository(uow.session).verified(organization_id)
            if t.issue_started_at is not None and t.impact is not None and t.verified_at is not None]


ticket_service = TicketService()
