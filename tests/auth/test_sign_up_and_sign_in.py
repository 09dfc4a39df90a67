from __future__ import annotations

from sqlalchemy import func, select

from softdukan.audit.models import AuditEvent
from softdukan.auth.models import User, UserSession
from softdukan.organization.models import Organization
from tests.support.factories import PASSWORD, browser_sign_in, csrf_from, form_post, make_org

SIGN_UP = {"business_name": "Mehta Sweets", "name": "Riya Mehta", "email": "Riya@Example.com",
           "mobile": "+91 98123 45678", "password": "saffron-barfi-2026"}


async def count(runtime, model) -> int:  # type: ignore[no-untyped-def]
    async with runtime.sessionmaker() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def test_sign_up_creates_organization_owner_and_session(client, runtime) -> None:
    response = await form_post(client, "/sign-up", SIGN_UP)
    assert response.status_code == 303 and response.headers["location"].startswith("/")
    cookie = response.cookies.get("sd_session") or client.cookies.get("sd_session")
    assert cookie
    set_cookie = response.headers["set-cookie"].lower()
    assert "httponly" in set_cookie and "samesite=lax" in set_cookie
    home = await client.get("/")
    assert home.status_code == 200 and "Mehta Sweets" in home.text
    async with runtime.sessionmaker() as session:
        user = (await session.execute(select(User))).scalar_one()
        assert user.email == "riya@example.com" and user.mobile == "919812345678"
        assert user.password_hash.startswith("$argon2id$")
        assert (await session.execute(select(Organization))).scalar_one().name == "Mehta Sweets"


async def test_sign_up_bad_input_shows_inline_errors_and_changes_nothing(client, runtime) -> None:
    cases = [({"password": "short"}, 422, "at least 10 characters"),
             ({"email": "not-an-email"}, 422, "email"),
             ({"mobile": "12"}, 422, "not a valid phone number"),
             ({"business_name": "  "}, 422, "Business name is required")]
    for change, status, text in cases:
        response = await form_post(client, "/sign-up", {**SIGN_UP, **change}, page="/sign-up")
        assert response.status_code == status, (change, response.status_code)
        assert text.lower() in response.text.lower()
        assert 'aria-invalid="true"' in response.text
    assert await count(runtime, User) == 0 and await count(runtime, Organization) == 0


async def test_duplicate_email_is_409(client, runtime) -> None:
    a = await make_org(runtime)
    response = await form_post(client, "/sign-up", {**SIGN_UP, "email": a.owner.email.upper()})
    assert response.status_code == 409 and "already exists" in response.text
    assert await count(runtime, Organization) == 1


async def test_form_without_csrf_token_is_403_and_changes_nothing(client, runtime) -> None:
    await client.get("/sign-up")  # has the cookie, but sends no token
    response = await client.post("/sign-up", data=SIGN_UP)
    assert response.status_code == 403 and "did not come from SoftDukan" in response.text
    response = await client.post("/sign-up", data={**SIGN_UP, "csrf_token": "forged"})
    assert response.status_code == 403
    assert await count(runtime, User) == 0


async def test_sign_in_rotates_the_session_and_sign_out_ends_it(client, runtime) -> None:
    a = await make_org(runtime)
    await browser_sign_in(client, a.owner.email)
    first = client.cookies.get("sd_session")
    await browser_sign_in(client, a.owner.email)
    second = client.cookies.get("sd_session")
    assert first and second and first != second
    assert await count(runtime, UserSession) == 1  # the replaced session was deleted
    token = csrf_from((await client.get("/")).text)
    response = await client.post("/sign-out", data={"csrf_token": token})
    assert response.status_code == 303
    assert await count(runtime, UserSession) == 0
    assert (await client.get("/")).status_code == 303


async def test_wrong_password_is_401_and_audited_then_throttled_with_retry_time(client, runtime, settings) -> None:
    a = await make_org(runtime)
    for _ in range(settings.signin_attempts):
        page = await client.get("/sign-in")
        response = await client.post("/sign-in", data={"email": a.owner.email, "password": "wrong-password-1",
                                                       "csrf_token": csrf_from(page.text)})
        assert response.status_code == 401 and "match an account" in response.text
    page = await client.get("/sign-in")
    response = await client.post("/sign-in", data={"email": a.owner.email, "password": PASSWORD,
                                                   "csrf_token": csrf_from(page.text)})
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) > 0
    async with runtime.sessionmaker() as session:
        failed = (await session.execute(select(func.count()).select_from(AuditEvent)
                                        .where(AuditEvent.action == "auth.sign_in_failed"))).scalar_one()
    assert failed == settings.signin_attempts


async def test_open_redirect_after_sign_in_is_refused(client, runtime) -> None:
    a = await make_org(runtime)
    page = await client.get("/sign-in")
    response = await client.post("/sign-in", data={"email": a.owner.email, "password": PASSWORD,
                                                   "next": "//evil.example.com", "csrf_token": csrf_from(page.text)})
    assert response.headers["location"] == "/"


async def test_pages_need_sign_in(client) -> None:
    response = await client.get("/")
    assert response.status_code == 303 and response.headers["location"].startswith("/sign-in")
