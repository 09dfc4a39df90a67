"""Support-ticket test helpers: a signed-in staff client, ticket rows and the e-mail outbox as the database has
them, and a ticket opened through the real service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from sqlalchemy import select

from softdukan.backoffice.models import StaffUser
from softdukan.backoffice.service import create_staff_user
from softdukan.config import Settings
from softdukan.notification.models import OutboundEmail
from softdukan.platform.runtime import Runtime
from softdukan.platform.uow import unit_of_work
from softdukan.support.models import SupportTicket, SupportTicketMessage
from softdukan.support.service import ticket_service
from tests.support.factories import OrgFixture, csrf_from

STAFF_PASSWORD = "staff-Secret-passphrase-42"


def new_client(app) -> httpx.AsyncClient:  # type: ignore[no-untyped-def]
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def make_staff(settings: Settings, email: str = "sam@staff.example.com", name: str = "Sam Staff"
                     ) -> StaffUser:
    return await create_staff_user(settings, email=email, name=name, password=STAFF_PASSWORD)


@asynccontextmanager
async def staff_session(app, email: str = "sam@staff.example.com") -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    async with new_client(app) as client:
        page = await client.get("/backoffice/sign-in")
        signed = await client.post("/backoffice/sign-in", data={"email": email, "password": STAFF_PASSWORD,
                                                                "csrf_token": csrf_from(page.text)})
        assert signed.status_code == 303, signed.text
        yield client


async def staff_post(client: httpx.AsyncClient, path: str, data: dict[str, str] | None = None) -> httpx.Response:
    page = await client.get("/backoffice/tickets")
    return await client.post(path, data={**(data or {}), "csrf_token": csrf_from(page.text)})


async def open_ticket(runtime: Runtime, org: OrgFixture, *, category: str = "technical",
                      subject: str = "Broadcasts stuck in sending", body: str = "Nothing goes out since 9 am."
                      ) -> SupportTicket:
    async with unit_of_work(runtime) as uow:
        return await ticket_service.open(uow, org.subject, category=category, subject_line=subject, body=body)


async def ticket_row(runtime: Runtime, ticket_id: int) -> SupportTicket:
    async with runtime.sessionmaker() as session:
        ticket = await session.get(SupportTicket, ticket_id)
        assert ticket is not None
        return ticket


async def messages_of(runtime: Runtime, ticket_id: int) -> list[SupportTicketMessage]:
    async with runtime.sessionmaker() as session:
        return list((await session.execute(select(SupportTicketMessage).where(
            SupportTicketMessage.ticket_id == ticket_id).order_by(SupportTicketMessage.id))).scalars())


async def emails(runtime: Runtime) -> list[OutboundEmail]:
    async with runtime.sessionmaker() as session:
        return list((await session.execute(select(OutboundEmail).order_by(OutboundEmail.id))).scalars())


async def emails_to(runtime: Runtime, address: str) -> list[OutboundEmail]:
    return [e for e in await emails(runtime) if e.to_address == address]


async def tickets_count(runtime: Runtime) -> int:
    async with runtime.sessionmaker() as session:
        return len((await session.execute(select(SupportTicket.id))).all())
