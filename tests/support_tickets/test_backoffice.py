"""Backoffice → Tickets: the queue and its filters, a ticket with its organization and conversation, staff replies,
status changes and verifying a technical issue (clause 4), with clear errors for a bad verification."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from softdukan.audit.models import AuditEvent
from tests.support.factories import make_org
from tests.support_tickets.helpers import (
    emails_to,
    make_staff,
    messages_of,
    open_ticket,
    staff_post,
    staff_session,
    ticket_row,
)

IST = ZoneInfo("Asia/Kolkata")


def local(days_ago: float) -> str:
    return (datetime.now(IST) - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M")


async def test_the_queue_filters_by_status_category_and_organization(app, client, runtime, settings) -> None:
    await make_staff(settings)
    chai, dosa = await make_org(runtime, "Chai Point"), await make_org(runtime, "Dosa Corner")
    tech = await open_ticket(runtime, chai, subject="Sends fail")
    bill = await open_ticket(runtime, chai, category="billing", subject="Invoice copy")
    other = await open_ticket(runtime, dosa, category="other", subject="Demo please")
    assert (await client.get("/backoffice/tickets")).status_code == 303  # staff only

    async with staff_session(app) as staff:
        def ids(html: str) -> set[int]:
            return {int(i) for i in re.findall(r'id="ticket-(\d+)"', html)}

        everything = await staff.get("/backoffice/tickets")
        assert everything.status_code == 200 and ids(everything.text) == {tech.id, bill.id, other.id}
        assert "Chai Point" in everything.text and "Dosa Corner" in everything.text
        assert ids((await staff.get("/backoffice/tickets", params={"category": "billing"})).text) == {bill.id}
        assert ids((await staff.get("/backoffice/tickets", params={"organization": "dosa"})).text) == {other.id}
        assert ids((await staff.get("/backoffice/tickets", params={"organization": str(chai.org.id)})).text) == {
            tech.id, bill.id}
        assert ids((await staff.get("/backoffice/tickets", params={"status": "closed"})).text) == set()
        assert ids((await staff.get("/backoffice/tickets", params={"status": "bogus", "category": "x%"})).text) \
            == {tech.id, bill.id, other.id}
        assert (await staff.get("/backoffice/tickets", params={"organization": "o" * 101})).status_code == 422


async def test_staff_answer_change_status_and_verify(app, runtime, settings) -> None:
    staff_user = await make_staff(settings)
    shop = await make_org(runtime, "Chai Point")
    ticket = await open_ticket(runtime, shop, subject="Broadcasts stuck", body="Stuck since morning.")
    async with staff_session(app) as staff:
        page = await staff.get(f"/backoffice/tickets/{ticket.id}")
        assert page.status_code == 200
        assert "Chai Point" in page.text and "Stuck since morning." in page.text and shop.owner.email in page.text

        replied = await staff_post(staff, f"/backoffice/tickets/{ticket.id}/reply", {"body": "Looking into it."})
        assert replied.status_code == 303, replied.text
        assert [m.author_type for m in await messages_of(runtime, ticket.id)] == ["customer", "staff"]
        assert (await ticket_row(runtime, ticket.id)).status == "waiting_on_customer"

        resolved = await staff_post(staff, f"/backoffice/tickets/{ticket.id}/status", {"status": "resolved"})
        assert resolved.status_code == 303 and (await ticket_row(runtime, ticket.id)).status == "resolved"

        verified = await staff_post(staff, f"/backoffice/tickets/{ticket.id}/verify", {
            "issue_started_at": local(2), "issue_ended_at": local(1), "impact": "No broadcast went out."})
        assert verified.status_code == 303, verified.text
        row = await ticket_row(runtime, ticket.id)
        assert row.verified_by_staff_id == staff_user.id and row.impact == "No broadcast went out."
        assert row.issue_started_at is not None and row.issue_ended_at is not None
        expected_start = datetime.strptime(local(2), "%Y-%m-%dT%H:%M").replace(tzinfo=IST)
        assert row.issue_started_at == expected_start  # read in the organization's timezone, stored in UTC
        shown = await staff.get(f"/backoffice/tickets/{ticket.id}?done=verified")
        assert 'id="verification"' in shown.text and "Verified by Sam Staff" in shown.text

    subjects = [e.subject for e in await emails_to(runtime, shop.owner.email)]
    assert subjects == ["SoftDukan support replied to ticket #1", "Ticket #1 is now resolved",
                        "Ticket #1: technical issue verified"]
    async with runtime.sessionmaker() as session:
        actions = list((await session.execute(select(AuditEvent.action).where(
            AuditEvent.organization_id == shop.org.id, AuditEvent.actor_type == "staff")
            .order_by(AuditEvent.id))).scalars())
    assert actions == ["support_ticket.replied", "support_ticket.status_changed", "support_ticket.verified"]


async def test_a_bad_verification_gets_a_clear_error(app, runtime, settings) -> None:
    await make_staff(settings)
    shop = await make_org(runtime)
    tech = await open_ticket(runtime, shop)
    billing = await open_ticket(runtime, shop, category="billing", subject="Invoice")
    cases = [
        (tech, {"issue_started_at": local(1), "issue_ended_at": local(2), "impact": "Down"},
         "The end is before the start."),
        (tech, {"issue_started_at": local(2), "issue_ended_at": "", "impact": "  "},
         "Describe how the issue prevented use of the service."),
        (tech, {"issue_started_at": "", "issue_ended_at": "", "impact": "Down"}, "Say when the issue started."),
        (tech, {"issue_started_at": "yesterday", "issue_ended_at": "", "impact": "Down"}, "is not a date and time"),
        (billing, {"issue_started_at": local(2), "issue_ended_at": "", "impact": "Down"},
         "only technical issues can be verified"),
    ]
    async with staff_session(app) as staff:
        for ticket, data, message in cases:
            response = await staff_post(staff, f"/backoffice/tickets/{ticket.id}/verify", data)
            assert response.status_code == 422, (data, response.text[:300])
            assert message in response.text, data
        missing = await staff_post(staff, "/backoffice/tickets/999999/verify", cases[0][1])
        assert missing.status_code == 404 and "No such support ticket." in missing.text
        bad_status = await staff_post(staff, f"/backoffice/tickets/{tech.id}/status", {"status": "archived"})
        assert bad_status.status_code == 422 and "Choose a status from the list." in bad_status.text
        empty = await staff_post(staff, f"/backoffice/tickets/{tech.id}/reply", {"body": ""})
        assert empty.status_code == 422 and "A message is required." in empty.text
        assert (await staff.get("/backoffice/tickets/999999")).status_code == 404
    for ticket in (tech, billing):
        row = await ticket_row(runtime, ticket.id)
        assert (row.verified_at, row.status) == (None, "open")
    assert len(await messages_of(runtime, tech.id)) == 1
