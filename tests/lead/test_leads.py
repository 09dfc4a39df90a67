"""Demo requests and contact messages from the public site: validated, bounded, CSRF-checked, bots dropped by the
honeypot, limited per address; staff are e-mailed and the requester confirmed; staff handle them in the
backoffice."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from softdukan.audit.models import AuditEvent
from softdukan.backoffice.models import StaffUser
from softdukan.backoffice.service import create_staff_user
from softdukan.lead.models import Lead, LeadNote
from softdukan.lead.service import PER_IP_LIMIT
from softdukan.notification.models import OutboundEmail
from softdukan.platform.jobs.models import Job
from softdukan.platform.uow import unit_of_work
from tests.backoffice.test_backoffice import STAFF_EMAIL, new_client, staff_client, staff_post  # noqa: F401
from tests.support.factories import form_post

DEMO = {"name": "Asha Rao", "business": "Rao Sweets", "phone": "98123 45678", "preferred_time": "weekday mornings",
        "email": "Asha@Example.com", "message": "We want broadcasts for Diwali offers."}


async def _leads(runtime) -> list[Lead]:  # type: ignore[no-untyped-def]
    async with runtime.sessionmaker() as session:
        return list(await session.scalars(select(Lead).order_by(Lead.id)))


async def _emails(runtime) -> list[OutboundEmail]:  # type: ignore[no-untyped-def]
    async with runtime.sessionmaker() as session:
        return list(await session.scalars(select(OutboundEmail).order_by(OutboundEmail.id)))


async def _staff(settings, runtime) -> None:  # type: ignore[no-untyped-def]
    await create_staff_user(settings, email="ops@staff.example.com", name="Ops", password="staff-Secret-passphrase-7")
    gone = await create_staff_user(settings, email="gone@staff.example.com", name="Gone",
                                   password="staff-Secret-passphrase-8")
    async with unit_of_work(runtime) as uow:
        row = await uow.session.get(StaffUser, gone.id)
        assert row is not None
        row.disabled_at = uow.clock.now()


async def test_a_demo_request_is_stored_and_staff_and_requester_are_emailed(client, settings, runtime) -> None:
    await _staff(settings, runtime)
    page = await client.get("/demo")
    assert page.status_code == 200 and 'name="website"' in page.text  # the honeypot is on the form
    sent = await form_post(client, "/demo", DEMO)
    assert sent.status_code == 303 and sent.headers["location"] == "/demo?sent=1"
    assert 'data-testid="lead-sent"' in (await client.get("/demo?sent=1")).text

    [lead] = await _leads(runtime)
    assert (lead.kind, lead.name, lead.business, lead.phone, lead.email, lead.status) == (
        "demo", "Asha Rao", "Rao Sweets", "919812345678", "asha@example.com", "new")
    emails = await _emails(runtime)
    assert sorted(e.to_address for e in emails) == ["asha@example.com", "ops@staff.example.com"]  # not the disabled
    to_staff = next(e for e in emails if e.to_address == "ops@staff.example.com")
    assert "Rao Sweets" in to_staff.subject and "+919812345678" in to_staff.body_text
    assert f"/backoffice/leads/{lead.id}" in to_staff.body_text
    confirmation = next(e for e in emails if e.to_address == "asha@example.com")
    assert "weekday mornings" in confirmation.body_text
    async with runtime.sessionmaker() as session:
        jobs = list(await session.scalars(select(Job).where(Job.name == "notification.deliver_email")))
    assert len(jobs) == 2


async def test_a_demo_request_without_email_gets_no_confirmation_and_contact_needs_a_message(
        client, settings, runtime) -> None:
    await _staff(settings, runtime)
    assert (await form_post(client, "/demo", {**DEMO, "email": ""})).status_code == 303
    assert [e.to_address for e in await _emails(runtime)] == ["ops@staff.example.com"]

    contact = await client.get("/contact")
    assert 'data-testid="support-email">support@softdukan.com<' in contact.text
    missing = await form_post(client, "/contact", {"name": "Ravi", "email": "ravi@example.com", "message": " "})
    assert missing.status_code == 422 and "A message is required." in missing.text
    sent = await form_post(client, "/contact", {"name": "Ravi", "email": "ravi@example.com",
                                                "message": "Do you support\nMarathi templates?"})
    assert sent.status_code == 303 and sent.headers["location"] == "/contact?sent=1"
    lead = (await _leads(runtime))[-1]
    assert (lead.kind, lead.message, lead.phone, lead.business) == ("contact", "Do you support\nMarathi templates?",
                                                                    None, None)
    assert "ravi@example.com" in [e.to_address for e in await _emails(runtime)]


async def test_bad_input_is_refused_with_clear_errors_and_stores_nothing(client, settings, runtime) -> None:
    await _staff(settings, runtime)
    cases = [({**DEMO, "phone": "12345"}, "Not a valid phone number"),
             ({**DEMO, "phone": "not a phone"}, "Not a valid phone number"),
             ({**DEMO, "name": "", "business": "  "}, "Business name is required."),
             ({**DEMO, "preferred_time": ""}, "A preferred time is required."),
             ({**DEMO, "email": "asha@"}, "Not a valid e-mail address."),
             ({**DEMO, "name": "A" * 121}, "Use at most 120 characters."),
             ({**DEMO, "message": "x" * 2001}, "Use at most 2000 characters."),
             ({**DEMO, "phone": "9" * 31}, "Use at most 30 characters."),
             ({**DEMO, "business": "B" * 5000}, "Use at most 200 characters.")]
    for form, message in cases:
        response = await form_post(client, "/demo", form)
        assert response.status_code == 422, form
        assert message in response.text, (form, message)
        assert "is-invalid" in response.text
    kept = await form_post(client, "/demo", {**DEMO, "phone": "12345"})
    assert 'value="Rao Sweets"' in kept.text  # what they typed is kept
    assert (await form_post(client, "/contact", {"name": "Ravi", "email": "nope", "message": "hi"})).status_code == 422
    assert (await client.post("/demo", data=DEMO)).status_code == 403  # no CSRF token
    assert await _leads(runtime) == [] and await _emails(runtime) == []


async def test_the_honeypot_drops_bots_silently(client, settings, runtime) -> None:
    await _staff(settings, runtime)
    bot = await form_post(client, "/demo", {**DEMO, "website": "http://spam.example"})
    assert bot.status_code == 303 and bot.headers["location"] == "/demo?sent=1"  # looks like success
    assert (await form_post(client, "/contact", {"name": "Bot", "email": "b@example.com", "message": "buy",
                                                 "website": "x"})).status_code == 303
    assert await _leads(runtime) == [] and await _emails(runtime) == []


async def test_submissions_are_limited_per_address(client, runtime) -> None:
    for n in range(PER_IP_LIMIT):
        assert (await form_post(client, "/demo", {**DEMO, "name": f"Asha {n}"})).status_code == 303
    refused = await form_post(client, "/demo", DEMO)
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert len(await _leads(runtime)) == PER_IP_LIMIT


async def test_staff_list_and_handle_requests(app, runtime, staff_client) -> None:  # noqa: F811
    async with new_client(app) as public:
        assert (await form_post(public, "/demo", DEMO)).status_code == 303
        assert (await form_post(public, "/contact", {"name": "Ravi", "email": "ravi@example.com",
                                                     "message": "Pricing for 3 numbers?"})).status_code == 303
    older, newer = await _leads(runtime)
    assert (await staff_post(staff_client, f"/backoffice/leads/{newer.id}/status",
                             {"status": "contacted"})).status_code == 303
    listing = await staff_client.get("/backoffice/leads")
    assert listing.status_code == 200
    assert listing.text.index(f'data-testid="lead-{older.id}"') < listing.text.index(f'data-testid="lead-{newer.id}"')
    assert "Rao Sweets" in listing.text  # new ones first, even when older

    no_time = await staff_post(staff_client, f"/backoffice/leads/{older.id}/status", {"status": "scheduled"})
    assert no_time.status_code == 422 and "Say when the demo is scheduled." in no_time.text
    bad = await staff_post(staff_client, f"/backoffice/leads/{older.id}/status", {"status": "won"})
    assert bad.status_code == 422
    scheduled = await staff_post(staff_client, f"/backoffice/leads/{older.id}/status",
                                 {"status": "scheduled", "scheduled_for": "2026-12-05T15:30"})
    assert scheduled.status_code == 303
    noted = await staff_post(staff_client, f"/backoffice/leads/{older.id}/notes",
                             {"text": "Called; wants Hindi templates <b>too</b>."})
    assert noted.status_code == 303
    assert (await staff_post(staff_client, f"/backoffice/leads/{older.id}/notes", {"text": " "})).status_code == 422
    page = await staff_client.get(f"/backoffice/leads/{older.id}")
    assert "05 Dec 2026, 15:30" in page.text  # shown in India time
    assert "wants Hindi templates &lt;b&gt;too&lt;/b&gt;" in page.text
    assert (await staff_client.get("/backoffice/leads/999999")).status_code == 404
    assert (await staff_post(staff_client, "/backoffice/leads/999999/status", {"status": "done"})).status_code == 404
    assert (await staff_post(staff_client, f"/backoffice/leads/{newer.id}/status",
                             {"status": "spam"})).status_code == 303
    assert f'data-testid="lead-{newer.id}"' in (await staff_client.get("/backoffice/leads?status=spam")).text

    async with runtime.sessionmaker() as session:
        lead = await session.get(Lead, older.id)
        assert lead is not None and lead.status == "scheduled" and lead.handled_by is not None
        assert lead.scheduled_for is not None and lead.scheduled_for.isoformat() == "2026-12-05T10:00:00+00:00"
        notes = list(await session.scalars(select(LeadNote)))
        assert len(notes) == 1
        actions = list(await session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("lead.%"))
                                             .order_by(AuditEvent.id)))
    assert actions == ["lead.status_changed", "lead.status_changed", "lead.note_added", "lead.status_changed"]


async def test_leads_are_staff_only(client: httpx.AsyncClient) -> None:
    response = await client.get("/backoffice/leads")
    assert response.status_code == 303 and response.headers["location"] == "/backoffice/sign-in"
