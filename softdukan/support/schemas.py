"""Wire shapes of /v1/tickets. Lengths are checked again by the service with a message per field."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from softdukan.support.models import BODY_MAX, SUBJECT_MAX, SupportTicket, SupportTicketMessage

Category = Literal["technical", "billing", "other"]
Status = Literal["open", "waiting_on_customer", "waiting_on_staff", "resolved", "closed"]


class TicketIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    category: Category = Field(description="technical (a technical issue), billing or other")
    subject: str = Field(max_length=SUBJECT_MAX * 2, description=f"what it is about, at most {SUBJECT_MAX} "
                                                                 "characters")
    body: str = Field(max_length=BODY_MAX * 2, description=f"the first message, at most {BODY_MAX} characters")


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    body: str = Field(max_length=BODY_MAX * 2, description=f"at most {BODY_MAX} characters")


class VerificationOut(BaseModel):
    verified_at: datetime
    issue_started_at: datetime
    issue_ended_at: datetime | None = Field(description="null while the issue is ongoing")
    impact: str


class TicketOut(BaseModel):
    id: int
    number: int = Field(description="the ticket's number within your organization: #1, #2 …")
    category: Category
    subject: str
    status: Status
    opened_by: str
    created_at: datetime
    last_activity_at: datetime
    closed_at: datetime | None
    verification: VerificationOut | None = Field(description="set when support verified a technical issue")


class MessageOut(BaseModel):
    id: int
    author_type: Literal["customer", "staff"]
    author: str
    body: str
    created_at: datetime


class TicketDetailOut(TicketOut):
    messages: list[MessageOut]


class TicketPage(BaseModel):
    data: list[TicketOut]
    next_cursor: str | None


def ticket_out(t: SupportTicket) -> TicketOut:
    return TicketOut(**_ticket_fields(t))


def ticket_detail_out(t: SupportTicket, messages: list[SupportTicketMessage]) -> TicketDetailOut:
    return TicketDetailOut(**_ticket_fields(t), messages=[message_out(m) for m in messages])


def message_out(m: SupportTicketMessage) -> MessageOut:
    # staff appear by name only ("SoftDukan support" when it is unknown): never their e-mail
    return MessageOut(id=m.id, author_type=m.author_type,  # type: ignore[arg-type]
                      author=m.author_label or "SoftDukan support", body=m.body, created_at=m.created_at)


def _ticket_fields(t: SupportTicket) -> dict[str, object]:
    verification = None
    if t.verified_at is not None and t.issue_started_at is not None and t.impact is not None:
        verification = VerificationOut(verified_at=t.verified_at, issue_started_at=t.issue_started_at,
                                       issue_ended_at=t.issue_ended_at, impact=t.impact)
    return {"id": t.id, "number": t.number, "category": t.category, "subject": t.subject, "status": t.status,
            "opened_by": t.opened_by_label, "created_at": t.created_at, "last_activity_at": t.last_activity_at,
            "closed_at": t.closed_at, "verification": verification}
