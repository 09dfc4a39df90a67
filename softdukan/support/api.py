"""/v1/tickets: the organization's support tickets and their conversation with SoftDukan support (refund policy
clause 6). Staff answer from the backoffice; a technical issue they verify shows its period and impact."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from softdukan.contact.directory import parse_cursor
from softdukan.kit.ids import PathId
from softdukan.platform.deps import Requires, UoW
from softdukan.platform.http import error_responses
from softdukan.support.schemas import (
    MessageIn,
    MessageOut,
    Status,
    TicketDetailOut,
    TicketIn,
    TicketOut,
    TicketPage,
    message_out,
    ticket_detail_out,
    ticket_out,
)
from softdukan.support.service import ticket_service

router = APIRouter(tags=["support"])
Cursor = Annotated[str | None, Query(max_length=20, description="next_cursor of the previous page")]
Limit = Annotated[int, Query(ge=1, le=200)]


@router.get("/tickets", response_model=TicketPage, responses=error_responses())
async def list_tickets(uow: UoW, subject: Requires["support:read"], cursor: Cursor = None, limit: Limit = 50,
                       status: Status | None = None) -> TicketPage:
    """The organization's tickets, newest first."""
    rows = await ticket_service.list(uow, subject, status=status, before_id=parse_cursor(cursor), limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return TicketPage(data=[ticket_out(t) for t in rows], next_cursor=str(rows[-1].id) if more else None)


@router.post("/tickets", response_model=TicketDetailOut, status_code=201, responses=error_responses())
async def open_ticket(body: TicketIn, uow: UoW, subject: Requires["support:write"]) -> TicketDetailOut:
    """Opens a ticket with its first message; SoftDukan support is told by e-mail."""
    ticket = await ticket_service.open(uow, subject, category=body.category, subject_line=body.subject,
                                       body=body.body)
    return ticket_detail_out(ticket, await ticket_service.messages(uow, subject, ticket))


@router.get("/tickets/{ticket_id}", response_model=TicketDetailOut, responses=error_responses(404))
async def get_ticket(ticket_id: PathId, uow: UoW, subject: Requires["support:read"]) -> TicketDetailOut:
    ticket = await ticket_service.get(uow, subject, ticket_id)
    return ticket_detail_out(ticket, await ticket_service.messages(uow, subject, ticket))


@router.post("/tickets/{ticket_id}/messages", response_model=MessageOut, status_code=201,
             responses=error_responses(404, 409))
async def reply(ticket_id: PathId, body: MessageIn, uow: UoW, subject: Requires["support:write"]) -> MessageOut:
    """Adds your reply; a resolved ticket opens again. A closed ticket must be reopened first (409)."""
    return message_out(await ticket_service.reply(uow, subject, ticket_id, body.body))


@router.post("/tickets/{ticket_id}/close", response_model=TicketOut, responses=error_responses(404, 409))
async def close_ticket(ticket_id: PathId, uow: UoW, subject: Requires["support:write"]) -> TicketOut:
    return ticket_out(await ticket_service.close(uow, subject, ticket_id))


@router.post("/tickets/{ticket_id}/reopen", response_model=TicketOut, responses=error_responses(404, 409))
async def reopen_ticket(ticket_id: PathId, uow: UoW, subject: Requires["support:write"]) -> TicketOut:
    """Opens a closed or resolved ticket again."""
    return ticket_out(await ticket_service.reopen(uow, subject, ticket_id))
