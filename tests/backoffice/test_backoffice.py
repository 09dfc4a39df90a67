from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select

from softdukan.auth.models import UserSession
from softdukan.backoffice.models import StaffSession, StaffUser
from softdukan.backoffice.service import create_staff_user
from softdukan.config import ROOT
from softdukan.notification.models import OutboundEmail
from softdukan.organization.models import Organization
from softdukan.organization.service import organization_service
from softdukan.platform.errors import Conflict, Invalid
from softdukan.platform.jobs.models import DEAD, QUEUED, Job
from softdukan.platform.jobs.registry import task
from softdukan.platform.uow import UnitOfWork, unit_of_work
from tests.support.factories import PASSWORD, browser_sign_in, csrf_from, make_org

STAFF_EMAIL = "sam@staff.example.com"
STAFF_PASSWORD = "staff-Secret-passphrase-42"
FAILING_TASK = "tests.backoffice.always_fails"


@task(FAILING_TASK, max_attempts=1)
async def always_fails(uow: UnitOfWork, order_ref: str) -> None:
    raise RuntimeError(f"payment provider refused {order_ref}")


def new_client(app) -> httpx.AsyncClient:  # type: ignore[no-untyped-def]
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def staff_sign_in(client: httpx.AsyncClient, email: str = STAFF_EMAIL,
                        password: str = STAFF_PASSWORD) -> httpx.Response:
    page = await client.get("/backoffice/sign-in")
    assert page.status_code == 200, page.text
    return await client.post("/backoffice/sign-in", data={"email": email, "password": password,
                                                          "csrf_token": csrf_from(page.text)})


async def staff_post(client: httpx.AsyncClient, path: str, data: dict[str, str] | None = None) -> httpx.Response:
    page = await client.get("/backoffice")
    return await client.post(path, data={**(data or {}), "csrf_token": csrf_from(page.text)})


@pytest.fixture
async def staff_client(app, settings, runtime) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    await create_staff_user(settings, email=STAFF_EMAIL, name="Sam Staff", password=STAFF_PASSWORD)
    async with new_client(app) as client:
        signed = await staff_sign_in(client)
        assert signed.status_code == 303, signed.text
        yield client


async def org_row(runtime, org_id: int) -> Organization:  # type: ignore[no-untyped-def]
    async with runtime.sessionmaker() as session:
        org = await session.get(Organization, org_id)
        assert org is not None
        return org


async def audit_actions(client: httpx.AsyncClient, auth: dict[str, str], prefix: str) -> list[dict]:  # type: ignore[type-arg]
    response = await client.get("/v1/audit-events", params={"action": prefix}, headers=auth)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


# --- staff accounts -------------------------------------------------------------------------------------------


async def test_create_staff_user_validates_and_refuses_duplicates(settings, runtime) -> None:
    staff = await create_staff_user(settings, email="  Ops.Lead@Example.com ", name="Ops  Lead",
                                    password=STAFF_PASSWORD)
    assert staff.email == "ops.lead@example.com" and staff.name == "Ops Lead"
    async with runtime.sessionmaker() as session:
        row = (await session.execute(select(StaffUser).where(StaffUser.email == "ops.lead@example.com"))
               ).scalar_one()
    assert row.password_hash.startswith("$argon2id$") and STAFF_PASSWORD not in row.password_hash

    with pytest.raises(Conflict) as duplicate:
        await create_staff_user(settings, email="OPS.LEAD@example.com", name="Again", password=STAFF_PASSWORD)
    assert duplicate.value.code == "staff_email_taken"
    with pytest.raises(Invalid) as weak:
        await create_staff_user(settings, email="new@example.com", name="New", password="short")
    assert weak.value.code == "weak_password"
    with pytest.raises(Invalid) as bad_email:
        await create_staff_user(settings, email="not-an-email", name="New", password=STAFF_PASSWORD)
    assert bad_email.value.code == "invalid_email"
    async with runtime.sessionmaker() as session:
        assert len((await session.execute(select(StaffUser))).scalars().all()) == 1


async def test_create_staff_cli(runtime, database_url: str) -> None:
    binary = str(ROOT / ".venv" / "bin" / "softdukan")
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "SOFTDUKAN_SECRET_KEY"}}
    env["DATABASE_URL"] = database_url

    async def run(*args: str) -> tuple[int, str]:
        process = await asyncio.create_subprocess_exec(
            binary, "create-staff", *args, env=env, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        output, _ = await asyncio.wait_for(process.communicate(), timeout=120)
        return process.returncode or 0, output.decode()

    code, output = await run("--email", "cli.staff@example.com", "--name", "Cli Staff",
                             "--password", STAFF_PASSWORD)
    assert code == 0, output
    assert "cli.staff@example.com created" in output
    async with runtime.sessionmaker() as session:
        row = (await session.execute(select(StaffUser).where(StaffUser.email == "cli.staff@example.com"))
               ).scalar_one()
    assert row.name == "Cli Staff"

    code, output = await run("--email", "not an email", "--name", "Cli Staff", "--password", STAFF_PASSWORD)
    assert code == 1
    assert "error:" in output and "email" in output.lower()
    code, output = await run("--email", "cli.staff@example.com", "--name", "Twice", "--password", STAFF_PASSWORD)
    assert code == 1 and "already exists" in output


# --- staff sign-in --------------------------------------------------------------------------------------------


async def test_staff_sign_in_sets_a_strict_cookie_and_sign_out_ends_it(client, settings, runtime) -> None:
    await create_staff_user(settings, email=STAFF_EMAIL, name="Sam Staff", password=STAFF_PASSWORD)
    first = await client.get("/backoffice")
    assert first.status_code == 303 and first.headers["location"] == "/backoffice/sign-in"

    signed = await staff_sign_in(client)
    assert signed.status_code == 303 and signed.headers["location"] == "/backoffice"
    cookie = next(c for c in signed.headers.get_list("set-cookie") if c.startswith("sd_staff="))
    assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()
    assert "path=/backoffice" in cookie.lower()
    assert "secure" not in cookie.lower().replace("samesite", "")  # cookie_secure is off in tests
    token = client.cookies.get("sd_staff")
    assert token

    home = await client.get("/backoffice")
    assert home.status_code == 200
    assert "SoftDukan Staff" in home.text and "Sam Staff" in home.text and "Failed jobs" in home.text
    # the staff cookie opens nothing on the tenant side
    assert (await client.get("/")).status_code == 303

    assert (await client.get("/backoffice/sign-in")).headers["location"] == "/backoffice"
    # a new token per sign-in; the one held before is dropped
    again = await staff_post(client, "/backoffice/sign-in", {"email": STAFF_EMAIL, "password": STAFF_PASSWORD})
    assert again.status_code == 303 and client.cookies.get("sd_staff") != token
    async with runtime.sessionmaker() as session:
        assert len((await session.execute(select(StaffSession))).scalars().all()) == 1

    out = await staff_post(client, "/backoffice/sign-out")
    assert out.status_code == 303 and out.headers["location"] == "/backoffice/sign-in"
    assert (await client.get("/backoffice")).status_code == 303
    async with runtime.sessionmaker() as session:
        assert (await session.execute(select(StaffSession))).scalars().all() == []


async def test_staff_sign_in_wrong_password_is_401_and_repeated_failures_are_throttled(client, settings,
                                                                                        runtime) -> None:
    await create_staff_user(settings, email=STAFF_EMAIL, name="Sam Staff", password=STAFF_PASSWORD)
    for _ in range(settings.signin_attempts):
        wrong = await staff_sign_in(client, password="not-the-password-1")
        assert wrong.status_code == 401
        assert "match a staff account" in wrong.text
        assert "sd_staff" not in client.cookies
    unknown = await staff_sign_in(client, email="nobody@staff.example.com")
    assert unknown.status_code == 401
    # a NUL is refused before any route runs (softdukan/platform/input_guard.py)
    assert (await staff_sign_in(client, email="nobody\x00@staff.example.com")).status_code == 400

    throttled = await staff_sign_in(client)  # even the right password waits
    assert throttled.status_code == 429
    assert int(throttled.headers["retry-after"]) >= 1
    assert "Too many failed sign-ins" in throttled.text
    assert "sd_staff" not in client.cookies


async def test_disabled_staff_cannot_sign_in_and_loses_open_sessions(staff_client, client, runtime) -> None:
    assert (await staff_client.get("/backoffice")).status_code == 200
    async with unit_of_work(runtime) as uow:
        staff = (await uow.session.execute(select(StaffUser))).scalar_one()
        staff.disabled_at = uow.clock.now()
    assert (await staff_client.get("/backoffice")).status_code == 303
    refused = await staff_sign_in(client)
    assert refused.status_code == 403 and "disabled" in refused.text


async def test_tenant_session_gives_no_access_to_the_backoffice(client, runtime) -> None:
    a = await make_org(runtime)
    await browser_sign_in(client, a.owner.email)
    assert (await client.get("/")).status_code == 200
    for path in ("/backoffice", "/backoffice/jobs", "/backoffice?q=Org"):
        response = await client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"] == "/backoffice/sign-in"
    token = csrf_from((await client.get("/")).text)
    forged = await client.post(f"/backoffice/organizations/{a.org.id}/suspend",
                               data={"reason": "inside job", "csrf_token": token})
    assert forged.status_code == 303 and forged.headers["location"] == "/backoffice/sign-in"
    assert (await org_row(runtime, a.org.id)).suspended_at is None
    # tenant credentials are not staff credentials either
    assert (await staff_sign_in(client, email=a.owner.email, password=PASSWORD)).status_code == 401


# --- organizations ----------------------------------------------------------------------------------------------


async def test_organizations_page_lists_member_counts_and_searches(staff_client, client, runtime) -> None:
    a = await make_org(runtime, "Kirana King")
    b = await make_org(runtime, "Masala 50% Off")
    async with unit_of_work(runtime) as uow:  # a second member for Kirana King, through the invitation flow
        roles = (await client.get("/v1/roles", headers=a.auth)).json()
        agent = next(r["id"] for r in roles if r["name"] == "agent")
        await organization_service.invite(uow, a.subject, email="agent@example.com", role_id=agent)
    async with runtime.sessionmaker() as session:
        mail = (await session.execute(select(OutboundEmail).where(OutboundEmail.to_address == "agent@example.com"))
                ).scalars().one()
    token = re.search(r"token=([\w-]+)", mail.body_text).group(1)  # type: ignore[union-attr]
    async with unit_of_work(runtime) as uow:
        await organization_service.accept_as_new_user(uow, token=token, name="Neha Agent", mobile=None,
                                                      password="Neha-joins-2026", ip=None)

    page = await staff_client.get("/backoffice")
    assert page.status_code == 200
    rows = {int(m.group(1)): m.group(2) for m in re.finditer(r'<tr id="org-(\d+)">(.*?)</tr>', page.text, re.S)}
    assert set(rows) == {a.org.id, b.org.id}
    assert re.search(r"data-members>2<", rows[a.org.id]) and re.search(r"data-members>1<", rows[b.org.id])
    assert a.owner.email in rows[a.org.id] and 'data-status="active"' in rows[a.org.id]

    found = await staff_client.get("/backoffice", params={"q": "kirana"})
    assert "Kirana King" in found.text and "Masala" not in found.text
    by_owner = await staff_client.get("/backoffice", params={"q": b.owner.email})
    assert "Masala 50% Off" in by_owner.text and "Kirana King" not in by_owner.text
    by_id = await staff_client.get("/backoffice", params={"q": str(a.org.id)})
    assert f'id="org-{a.org.id}"' in by_id.text
    literal = await staff_client.get("/backoffice", params={"q": "50%"})  # % is a character, not a wildcard
    assert "Masala" in literal.text and "Kirana King" not in literal.text
    nothing = await staff_client.get("/backoffice", params={"q": "_"})  # nor is _
    assert "No organization matches" in nothing.text
    for odd in ("²", "٣", "9" * 40, "\\", "' OR 1=1 --"):  # digits int() refuses, overflow, quoting
        assert (await staff_client.get("/backoffice", params={"q": odd})).status_code == 200, odd
    assert (await staff_client.get("/backoffice", params={"q": "a\x00b"})).status_code == 400
    too_long = await staff_client.get("/backoffice", params={"q": "x" * 101})
    assert too_long.status_code == 422


async def test_suspend_locks_the_org_out_and_unsuspend_restores_it(app, staff_client, client, runtime) -> None:
    a = await make_org(runtime, "Suspended Sweets")
    b = await make_org(runtime, "Bystander Bakery")
    await browser_sign_in(client, a.owner.email)
    assert (await client.get("/")).status_code == 200
    async with new_client(app) as b_browser:
        await browser_sign_in(b_browser, b.owner.email)

        suspended = await staff_post(staff_client, f"/backoffice/organizations/{a.org.id}/suspend",
                                     {"reason": "  Unpaid   invoices "})
        assert suspended.status_code == 303 and suspended.headers["location"] == "/backoffice?done=suspended"
        org = await org_row(runtime, a.org.id)
        assert org.suspended_at is not None and org.suspended_reason == "Unpaid invoices"
        page = await staff_client.get(suspended.headers["location"])
        row = re.search(rf'<tr id="org-{a.org.id}">(.*?)</tr>', page.text, re.S).group(1)  # type: ignore[union-attr]
        assert 'data-status="suspended"' in row and "Unpaid invoices" in row and "Unsuspend" in row
        assert "members were signed out" in page.text

        # the API key is refused
        me = await client.get("/v1/me", headers=a.auth)
        assert me.status_code == 403 and me.json()["error"]["code"] == "organization_suspended"
        # the open dashboard session is gone, in the database and in effect
        async with runtime.sessionmaker() as session:
            left = (await session.execute(select(UserSession).where(UserSession.user_id == a.owner.id))).scalars()
            assert left.all() == []
        kicked = await client.get("/")
        assert kicked.status_code == 303 and kicked.headers["location"].startswith("/sign-in")
        # and signing in again is refused with the reason
        form = await client.get("/sign-in")
        refused = await client.post("/sign-in", data={"email": a.owner.email, "password": PASSWORD, "next": "/",
                                                      "csrf_token": csrf_from(form.text)})
        assert refused.status_code == 403
        assert "Your organization is suspended" in refused.text
        assert (await client.get("/")).status_code == 303

        # another organization is untouched
        assert (await client.get("/v1/me", headers=b.auth)).status_code == 200
        assert (await b_browser.get("/")).status_code == 200
        assert (await org_row(runtime, b.org.id)).suspended_at is None

        again = await staff_post(staff_client, f"/backoffice/organizations/{a.org.id}/suspend", {"reason": "x"})
        assert again.status_code == 409 and "already suspended" in again.text

        restored = await staff_post(staff_client, f"/backoffice/organizations/{a.org.id}/unsuspend")
        assert restored.status_code == 303 and restored.headers["location"] == "/backoffice?done=unsuspended"
        org = await org_row(runtime, a.org.id)
        assert org.suspended_at is None and org.suspended_reason is None
        assert (await client.get("/v1/me", headers=a.auth)).status_code == 200
        await browser_sign_in(client, a.owner.email)
        assert (await client.get("/")).status_code == 200
        assert (await b_browser.get("/")).status_code == 200

    # both staff actions are in that organization's audit log, by staff, and nowhere else
    events = await audit_actions(client, a.auth, "organization.")
    by_action = {e["action"]: e for e in events}
    assert set(by_action) == {"organization.suspended", "organization.unsuspended"}
    suspended_event = by_action["organization.suspended"]
    assert suspended_event["actor_type"] == "staff" and suspended_event["actor_label"] == STAFF_EMAIL
    assert suspended_event["details"]["reason"] == "Unpaid invoices"
    assert suspended_event["details"]["sessions_ended"] == 1
    assert suspended_event["target_type"] == "organizations" and suspended_event["target_id"] == a.org.id
    assert await audit_actions(client, b.auth, "organization.") == []


async def test_suspend_and_unsuspend_bad_input_changes_nothing(staff_client, runtime) -> None:
    a = await make_org(runtime)
    no_reason = await staff_post(staff_client, f"/backoffice/organizations/{a.org.id}/suspend", {"reason": "   "})
    assert no_reason.status_code == 422 and "Say why" in no_reason.text
    long_reason = await staff_post(staff_client, f"/backoffice/organizations/{a.org.id}/suspend",
                                   {"reason": "x" * 301})
    assert long_reason.status_code == 422
    nul_only = await staff_post(staff_client, f"/backoffice/organizations/{a.org.id}/suspend", {"reason": "\x00\x07"})
    assert nul_only.status_code == 400
    assert (await org_row(runtime, a.org.id)).suspended_at is None

    missing = await staff_post(staff_client, "/backoffice/organizations/999999/suspend", {"reason": "spam"})
    assert missing.status_code == 404 and "No organization" in missing.text
    assert (await staff_post(staff_client, "/backoffice/organizations/999999/unsuspend")).status_code == 404
    not_suspended = await staff_post(staff_client, f"/backoffice/organizations/{a.org.id}/unsuspend")
    assert not_suspended.status_code == 409 and "not suspended" in not_suspended.text
    for bad_id in ("abc", "0", "-3", str(2**70)):
        response = await staff_post(staff_client, f"/backoffice/organizations/{bad_id}/suspend", {"reason": "x"})
        assert response.status_code == 422, bad_id
    assert (await staff_client.get("/backoffice", params={"done": "<script>"})).status_code == 200


async def test_posts_without_csrf_are_refused(staff_client, runtime) -> None:
    a = await make_org(runtime)
    response = await staff_client.post(f"/backoffice/organizations/{a.org.id}/suspend", data={"reason": "spam"})
    assert response.status_code == 403 and "did not come from SoftDukan" in response.text
    assert (await org_row(runtime, a.org.id)).suspended_at is None
    wrong = await staff_client.post(f"/backoffice/organizations/{a.org.id}/suspend",
                                    data={"reason": "spam", "csrf_token": "0" * 64})
    assert wrong.status_code == 403
    assert (await staff_client.post("/backoffice/sign-out")).status_code == 403
    assert (await staff_client.get("/backoffice")).status_code == 200  # still signed in
    async with new_client(staff_client._transport.app) as fresh:  # type: ignore[attr-defined]
        no_token = await fresh.post("/backoffice/sign-in", data={"email": STAFF_EMAIL, "password": STAFF_PASSWORD})
        assert no_token.status_code == 403 and "sd_staff" not in fresh.cookies


# --- failed jobs ------------------------------------------------------------------------------------------------


async def test_dead_job_is_listed_and_retry_requeues_it(staff_client, client, runtime, drain_jobs) -> None:
    a = await make_org(runtime, "Flaky Foods")
    empty = await staff_client.get("/backoffice/jobs")
    assert empty.status_code == 200 and 'id="no-jobs"' in empty.text
    async with unit_of_work(runtime) as uow:
        job = uow.enqueue(FAILING_TASK, organization_id=a.org.id, order_ref="ORD-77")
        await uow.flush()
        job_id = job.id
    await drain_jobs()
    async with runtime.sessionmaker() as session:
        dead = await session.get(Job, job_id)
        assert dead is not None and dead.status == DEAD and dead.attempts == 1

    page = await staff_client.get("/backoffice/jobs")
    row = re.search(rf'<tr id="job-{job_id}">(.*?)</tr>', page.text, re.S).group(1)  # type: ignore[union-attr]
    assert FAILING_TASK in row and "Flaky Foods" in row and "ORD-77" in row
    assert "RuntimeError: payment provider refused ORD-77" in row
    assert f'action="/backoffice/jobs/{job_id}/retry"' in row

    retried = await staff_post(staff_client, f"/backoffice/jobs/{job_id}/retry")
    assert retried.status_code == 303 and retried.headers["location"] == "/backoffice/jobs?done=retried"
    async with runtime.sessionmaker() as session:
        queued = await session.get(Job, job_id)
        assert queued is not None
        assert queued.status == QUEUED and queued.attempts == 0 and queued.finished_at is None
    after = await staff_client.get(retried.headers["location"])
    assert "The job is queued again." in after.text and f'id="job-{job_id}"' not in after.text

    # a job that is not dead (or does not exist) cannot be retried
    twice = await staff_post(staff_client, f"/backoffice/jobs/{job_id}/retry")
    assert twice.status_code == 404
    assert (await staff_post(staff_client, "/backoffice/jobs/987654/retry")).status_code == 404

    events = await audit_actions(client, a.auth, "job.")
    assert [(e["action"], e["actor_type"], e["target_id"]) for e in events] == [("job.retried", "staff", job_id)]

    await drain_jobs()  # it runs again with a fresh attempt, and fails again into the list
    assert f'id="job-{job_id}"' in (await staff_client.get("/backoffice/jobs")).text


async def test_failed_jobs_page_needs_staff(client) -> None:
    response = await client.get("/backoffice/jobs")
    assert response.status_code == 303 and response.headers["location"] == "/backoffice/sign-in"
    client.cookies.set("sd_staff", "forged-token", path="/backoffice")
    assert (await client.get("/backoffice/jobs")).status_code == 303
    client.cookies.set("sd_staff", "x" * 5000, path="/backoffice")
    assert (await client.get("/backoffice")).status_code == 303


async def test_a_session_that_survives_a_suspension_still_loses_access(client, runtime) -> None:
    """The dashboard checks suspended_at on every request too, not only the session purge at suspend time."""
    a = await make_org(runtime)
    await browser_sign_in(client, a.owner.email)
    assert (await client.get("/")).status_code == 200
    async with unit_of_work(runtime) as uow:  # suspended behind the service's back: the session row stays
        org = await uow.session.get(Organization, a.org.id)
        assert org is not None
        org.suspended_at = uow.clock.now()
    response = await client.get("/")
    assert response.status_code == 303 and response.headers["location"] == "/no-organization"
    assert (await client.get("/v1/members", headers=a.auth)).status_code == 403
