"""Support tickets through the service (refund policy clauses 6 and 4): opening, the conversation and its status,
e-mail to staff and to the opener, verification of technical issues, and what the refund rules read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from softdukan.audit.models import AuditEvent
from softdukan.backoffice.models import StaffUser
from softdukan.platform.errors import Conflict, Forbidden, Invalid, NotFound
from softdukan.platform.uow import UnitOfWork, unit_of_work
from softdukan.support.models import BODY_MAX, SUBJECT_MAX
from softdukan.support.service import ticket_service, verified_issues
from tests.support.factories import make_org
from tests.support_tickets.helpers import emails, emails_to, make_staff, messages_of, open_ticket, ticket_row


async def staff_in(uow: UnitOfWork, staff_id: int) -> StaffUser:
    """The staff member in the caller's transaction (on SQLite a second session would wait for its lock)."""
    staff = await uow.session.get(StaffUser, staff_id)
    assert staff is not None
    return staff


async def test_clause_6_support_customers_open_tickets_and_staff_answer(runtime, settings) -> None:
    """Clause 6: customers can open support tickets; staff answer them."""
    staff = await make_staff(settings)
    shop = await make_org(runtime, "Chai Point")
    ticket = await open_ticket(runtime, shop, category="billing", subject="GST number on my invoice",
                               body="Please add our GSTIN to last month's invoice.")
    assert (ticket.number, ticket.status, ticket.opened_by_user_id) == (1, "open", shop.owner.id)
    assert [e.subject for e in await emails_to(runtime, staff.email)] == [
        "[Chai Point] New billing ticket: #1 GST number on my invoice"]

    async with unit_of_work(runtime) as uow:
        await ticket_service.staff_reply(uow, await staff_in(uow, staff.id), ticket.id,
                                         "Done: the invoice now carries your GSTIN.")
    assert (await ticket_row(runtime, ticket.id)).status == "waiting_on_customer"
    (to_customer,) = await emails_to(runtime, shop.owner.email)
    assert to_customer.subject == "SoftDukan support replied to ticket #1"
    assert "Done: the invoice now carries your GSTIN." in to_customer.body_text
    assert f"http://testserver/support/{ticket.id}" in to_customer.body_text

    async with unit_of_work(runtime) as uow:
        await ticket_service.reply(uow, shop.subject, ticket.id, "Thank you!")
    assert (await ticket_row(runtime, ticket.id)).status == "waiting_on_staff"
    assert len(await emails_to(runtime, staff.email)) == 2
    conversation = await messages_of(runtime, ticket.id)
    assert [(m.author_type, m.author_label) for m in conversation] == [
        ("customer", shop.owner.email), ("staff", "Sam Staff"), ("customer", shop.owner.email)]


async def test_tickets_are_numbered_per_organization(runtime) -> None:
    a, b = await make_org(runtime), await make_org(runtime)
    numbers = [(await open_ticket(runtime, org)).number for org in (a, a, b, a)]
    assert numbers == [1, 2, 1, 3]


async def test_only_active_staff_hear_of_new_tickets(runtime, settings) -> None:
    active = await make_staff(settings, "active@staff.example.com")
    gone = await make_staff(settings, "gone@staff.example.com", "Gone")
    async with unit_of_work(runtime) as uow:
        row = await uow.session.get(StaffUser, gone.id)
        assert row is not None
        row.disabled_at = uow.clock.now()
    await open_ticket(runtime, await make_org(runtime))
    assert len(await emails_to(runtime, active.email)) == 1
    assert await emails_to(runtime, gone.email) == []


@pytest.mark.parametrize(("subject", "body", "category", "code"), [
    ("", "Something", "technical", "subject_required"),
    ("  \n\t ", "Something", "technical", "subject_required"),
    ("x" * (SUBJECT_MAX + 1), "Something", "technical", "subject_too_long"),
    ("Help", "   ", "technical", "message_required"),
    ("Help", "\x00\x01", "technical", "message_required"),
    ("Help", "y" * (BODY_MAX + 1), "technical", "message_too_long"),
    ("Help", "Something", "refund", "invalid_category"),
    ("Help", "Something", "", "invalid_category"),
])
async def test_bad_input_is_refused_and_changes_nothing(runtime, subject, body, category, code) -> None:
    shop = await make_org(runtime)
    with pytest.raises(Invalid) as refused:
        await open_ticket(runtime, shop, category=category, subject=subject, body=body)
    assert refused.value.code == code and refused.value.details
    async with unit_of_work(runtime) as uow:
        assert await ticket_service.list(uow, shop.subject) == []
    assert await emails(runtime) == []


async def test_text_is_cleaned_of_control_characters(runtime) -> None:
    shop = await make_org(runtime)
    ticket = await open_ticket(runtime, shop, subject="  Broken\x00   sends ", body="line one\x00\r\nline two  \n")
    assert ticket.subject == "Broken sends"
    assert [m.body for m in await messages_of(runtime, ticket.id)] == ["line one\nline two"]


async def test_close_reopen_and_no_replies_while_closed(runtime, settings) -> None:
    staff = await make_staff(settings)
    shop = await make_org(runtime)
    ticket = await open_ticket(runtime, shop)
    async with unit_of_work(runtime) as uow:
        await ticket_service.close(uow, shop.subject, ticket.id)
    closed = await ticket_row(runtime, ticket.id)
    assert closed.status == "closed" and closed.closed_at is not None
    for attempt in ("customer", "staff", "close"):
        with pytest.raises(Conflict):
            async with unit_of_work(runtime) as uow:
                if attempt == "customer":
                    await ticket_service.reply(uow, shop.subject, ticket.id, "Hello?")
                elif attempt == "staff":
                    await ticket_service.staff_reply(uow, await staff_in(uow, staff.id), ticket.id, "Hi")
                else:
                    await ticket_service.close(uow, shop.subject, ticket.id)
    assert len(await messages_of(runtime, ticket.id)) == 1
    async with unit_of_work(runtime) as uow:
        await ticket_service.reopen(uow, shop.subject, ticket.id)
    reopened = await ticket_row(runtime, ticket.id)
    assert (reopened.status, reopened.closed_at) == ("waiting_on_staff", None)
    with pytest.raises(Conflict):
        async with unit_of_work(runtime) as uow:
            await ticket_service.reopen(uow, shop.subject, ticket.id)


async def test_a_customer_reply_reopens_a_resolved_ticket(runtime, settings) -> None:
    staff = await make_staff(settings)
    shop = await make_org(runtime)
    ticket = await open_ticket(runtime, shop)
    async with unit_of_work(runtime) as uow:
        await ticket_service.set_status(uow, await staff_in(uow, staff.id), ticket.id, "resolved")
    async with unit_of_work(runtime) as uow:
        await ticket_service.reply(uow, shop.subject, ticket.id, "It is back again.")
    assert (await ticket_row(runtime, ticket.id)).status == "waiting_on_staff"


async def test_permissions_are_checked(runtime) -> None:
    shop = await make_org(runtime)
    ticket = await open_ticket(runtime, shop)
    reader = type(shop.subject)(**{**shop.subject.__dict__, "permissions": frozenset({"support:read"})})
    nobody = type(shop.subject)(**{**shop.subject.__dict__, "permissions": frozenset()})
    async with unit_of_work(runtime) as uow:
        assert [t.id for t in await ticket_service.list(uow, reader)] == [ticket.id]
        with pytest.raises(Forbidden):
            await ticket_service.reply(uow, reader, ticket.id, "Hi")
        with pytest.raises(Forbidden):
            await ticket_service.get(uow, nobody, ticket.id)


async def test_another_organizations_ticket_is_not_found(runtime, settings) -> None:
    victim, other = await make_org(runtime), await make_org(runtime)
    ticket = await open_ticket(runtime, victim)
    for action in ("get", "reply", "close", "reopen"):
        with pytest.raises(NotFound):
            async with unit_of_work(runtime) as uow:
                if action == "get":
                    await ticket_service.get(uow, other.subject, ticket.id)
                elif action == "reply":
                    await ticket_service.reply(uow, other.subject, ticket.id, "mine now")
                else:
                    await getattr(ticket_service, action)(uow, other.subject, ticket.id)
    async with unit_of_work(runtime) as uow:
        assert await ticket_service.list(uow, other.subject) == []
        with pytest.raises(NotFound):
            await ticket_service.messages(uow, other.subject, await ticket_service.get(uow, victim.subject,
                                                                                       ticket.id))
    assert (await ticket_row(runtime, ticket.id)).status == "open"
    assert len(await messages_of(runtime, ticket.id)) == 1


async def test_verification_records_the_period_and_impact_for_the_refund_rules(runtime, settings) -> None:
    """Clause 4 relies on technical issues verified by support: the period (end open while ongoing) and impact."""
    staff = await make_staff(settings)
    shop = await make_org(runtime)
    billing = await open_ticket(runtime, shop, category="billing", subject="Invoice")
    ticket = await open_ticket(runtime, shop)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
    async with unit_of_work(runtime) as uow:
        assert await verified_issues(uow, shop.org.id) == []
        await ticket_service.verify(uow, await staff_in(uow, staff.id), ticket.id, started_at=start,
                                    ended_at=None, impact="No broadcast could be sent.")
    async with unit_of_work(runtime) as uow:
        (issue,) = await verified_issues(uow, shop.org.id)
    assert (issue.ticket_id, issue.ticket_number, issue.started_at, issue.ended_at, issue.impact,
            issue.verified_by_staff_id) == (ticket.id, 2, start, None, "No broadcast could be sent.", staff.id)
    assert issue.verified_at is not None
    (told,) = [e for e in await emails_to(runtime, shop.owner.email) if "verified" in e.subject]
    assert "No broadcast could be sent." in told.body_text and "still ongoing" in told.body_text

    end = start + timedelta(days=2)  # the issue has ended: staff correct the period
    stranger = await make_org(runtime)
    async with unit_of_work(runtime) as uow:
        await ticket_service.verify(uow, await staff_in(uow, staff.id), ticket.id, started_at=start,
                                    ended_at=end, impact="No broadcast could be sent for two days.")
    async with unit_of_work(runtime) as uow:
        (issue,) = await verified_issues(uow, shop.org.id)
        assert await verified_issues(uow, stranger.org.id) == []
    assert (issue.ended_at, issue.impact) == (end, "No broadcast could be sent for two days.")
    assert billing.id != issue.ticket_id
    async with runtime.sessionmaker() as session:
        actions = list((await session.execute(select(AuditEvent.action, AuditEvent.actor_type).where(
            AuditEvent.organization_id == shop.org.id, AuditEvent.action.startswith("support_ticket.")))).all())
    assert actions == [("support_ticket.verified", "staff")] * 2


@pytest.mark.parametrize(("case", "field"), [
    ("end_before_start", "issue_ended_at"), ("empty_impact", "impact"), ("no_start", "issue_started_at"),
    ("future_start", "issue_started_at"), ("future_end", "issue_ended_at"), ("long_impact", "impact"),
])
async def test_a_bad_verification_is_refused(runtime, settings, case, field) -> None:
    staff = await make_staff(settings)
    shop = await make_org(runtime)
    ticket = await open_ticket(runtime, shop)
    now = datetime.now(UTC)
    start, end, impact = now - timedelta(days=2), now - timedelta(days=1), "Sends failed."
    if case == "end_before_start":
        start, end = end, start
    elif case == "empty_impact":
        impact = "  \n "
    elif case == "no_start":
        start = None  # type: ignore[assignment]
    elif case == "future_start":
        start, end = now + timedelta(days=1), None  # type: ignore[assignment]
    elif case == "future_end":
        end = now + timedelta(days=1)
    else:
        impact = "z" * 2001
    with pytest.raises(Invalid) as refused:
        async with unit_of_work(runtime) as uow:
            await ticket_service.verify(uow, await staff_in(uow, staff.id), ticket.id, started_at=start,
                                        ended_at=end, impact=impact)
    assert field in refused.value.details
    assert (await ticket_row(runtime, ticket.id)).verified_at is None


async def test_only_technical_issues_can_be_verified(runtime, settings) -> None:
    staff = await make_staff(settings)
    shop = await make_org(runtime)
    ticket = await open_ticket(runtime, shop, category="other", subject="Demo please")
    with pytest.raises(Invalid) as refused:
        async with unit_of_work(runtime) as uow:
            await ticket_service.verify(uow, await staff_in(uow, staff.id), ticket.id,
                                        started_at=datetime.now(UTC) - timedelta(days=1), ended_at=None,
                                        impact="Could not send.")
    assert refused.value.code == "not_a_technical_issue"
    async with unit_of_work(runtime) as uow:
        assert await verified_issues(uow, shop.org.id) == []
