"""Profile, password and organization settings pages."""

from __future__ import annotations

import httpx

from softdukan.auth.models import User
from softdukan.auth.repository import UserRepository
from softdukan.platform.uow import unit_of_work
from tests.dashboard import add_member, form_post, forms_missing_token, has_inline_error, sign_in_as
from tests.support.factories import PASSWORD, browser_sign_in, make_org

NEW_PASSWORD = "another-long-secret-42"


async def _user(runtime, user_id: int) -> User:  # type: ignore[no-untyped-def]
    async with unit_of_work(runtime) as uow:
        user = await UserRepository(uow.session).by_id(user_id)
        assert user is not None
        return user


async def _member_names(client: httpx.AsyncClient, org) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {m["email"]: m["name"] for m in (await client.get("/v1/members", headers=org.auth)).json()}


# -- profile -------------------------------------------------------------------------------------------------

async def test_profile_needs_sign_in(client) -> None:
    response = await client.get("/settings/profile")
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?next=/settings/profile"


async def test_profile_renders_for_any_member(client, runtime) -> None:
    a = await make_org(runtime)
    agent, _ = await add_member(runtime, a, "agent")
    await browser_sign_in(client, agent.email)
    page = await client.get("/settings/profile")
    assert page.status_code == 200
    assert agent.email in page.text and f'value="{agent.name}"' in page.text
    assert 'action="/settings/profile"' in page.text and 'action="/settings/password"' in page.text


async def test_profile_update_saves_name_and_mobile(client, runtime) -> None:
    a = await make_org(runtime)
    await browser_sign_in(client, a.owner.email)
    response = await form_post(client, "/settings/profile", {"name": "  Asha   Rao ", "mobile": "+91 98765 43210"})
    assert response.status_code == 303
    assert response.headers["location"] == "/settings/profile?flash=profile_saved"
    assert (await _member_names(client, a))[a.owner.email] == "Asha Rao"
    assert (await _user(runtime, a.owner.id)).mobile == "919876543210"
    page = await client.get(response.headers["location"])
    assert "Your profile was saved." in page.text and 'value="+919876543210"' in page.text


async def test_profile_bad_mobile_shows_inline_error_and_changes_nothing(client, runtime) -> None:
    a = await make_org(runtime)
    await browser_sign_in(client, a.owner.email)
    response = await form_post(client, "/settings/profile", {"name": "New Name", "mobile": "12"})
    assert response.status_code == 422
    assert has_inline_error(response.text, "mobile")
    assert 'value="New Name"' in response.text and 'value="12"' in response.text  # typed values kept
    assert (await _member_names(client, a))[a.owner.email] == a.owner.name  # the valid name was not saved either
    assert (await _user(runtime, a.owner.id)).mobile == "919812345678"


async def test_profile_empty_and_too_long_names_are_refused(client, runtime) -> None:
    a = await make_org(runtime)
    await browser_sign_in(client, a.owner.email)
    empty = await form_post(client, "/settings/profile", {"name": "   ", "mobile": ""})
    assert empty.status_code == 422 and has_inline_error(empty.text, "name", "Your name is required.")
    long = await form_post(client, "/settings/profile", {"name": "x" * 500, "mobile": ""})
    assert long.status_code == 422 and has_inline_error(long.text, "name")
    assert (await _member_names(client, a))[a.owner.email] == a.owner.name


async def test_profile_post_without_csrf_is_refused(client, runtime) -> None:
    a = await make_org(runtime)
    await browser_sign_in(client, a.owner.email)
    response = await client.post("/settings/profile", data={"name": "Forged", "mobile": ""})
    assert response.status_code == 403
    assert (await _member_names(client, a))[a.owner.email] == a.owner.name


async def test_change_password(client, runtime) -> None:
    a = await make_org(runtime)
    await browser_sign_in(client, a.owner.email)
    response = await form_post(client, "/settings/password", {
        "current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
        page="/settings/profile")
    assert response.status_code == 303
    assert "Your password was changed." in (await client.get(response.headers["location"])).text
    client.cookies.clear()
    await browser_sign_in(client, a.owner.email, NEW_PASSWORD)


async def test_change_password_errors_are_inline_and_change_nothing(client, runtime) -> None:
    a = await make_org(runtime)
    await browser_sign_in(client, a.owner.email)
    wrong = await form_post(client, "/settings/password", {
        "current_password": "not-my-password", "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
        page="/settings/profile")
    assert wrong.status_code == 422
    assert has_inline_error(wrong.text, "current_password", "Not your current password.")
    weak = await form_post(client, "/settings/password", {
        "current_password": PASSWORD, "new_password": "short", "confirm_password": "short"}, page="/settings/profile")
    assert weak.status_code == 422 and has_inline_error(weak.text, "new_password", "at least 10")
    differ = await form_post(client, "/settings/password", {
        "current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD + "x"},
        page="/settings/profile")
    assert differ.status_code == 422 and has_inline_error(differ.text, "confirm_password")
    assert NEW_PASSWORD not in differ.text  # passwords are never echoed back
    no_csrf = await client.post("/settings/password", data={
        "current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert no_csrf.status_code == 403
    client.cookies.clear()
    await browser_sign_in(client, a.owner.email, PASSWORD)  # the old password still works


# -- organization --------------------------------------------------------------------------------------------

async def test_organization_page_is_editable_by_owner_and_read_only_for_agent(client, runtime) -> None:
    a = await make_org(runtime, "Chai Point")
    agent, _ = await add_member(runtime, a, "agent")
    await browser_sign_in(client, a.owner.email)
    page = await client.get("/settings/organization")
    assert page.status_code == 200
    assert 'id="organization-form"' in page.text and '<option value="Asia/Kolkata" selected>' in page.text
    await sign_in_as(client, agent.email)
    page = await client.get("/settings/organization")
    assert page.status_code == 200
    assert "Chai Point" in page.text and 'id="read-only-note"' in page.text
    assert 'id="organization-form"' not in page.text


async def test_organization_page_forbidden_without_organization_read(client, runtime) -> None:
    a = await make_org(runtime)
    viewer, _ = await add_member(runtime, a, "team viewer", permissions=["teams:read"])
    await browser_sign_in(client, viewer.email)
    assert (await client.get("/settings/organization")).status_code == 403


async def test_organization_update(client, runtime) -> None:
    a = await make_org(runtime)
    await browser_sign_in(client, a.owner.email)
    response = await form_post(client, "/settings/organization", {"name": "Masala Mart", "timezone": "Asia/Dubai"})
    assert response.status_code == 303
    org = (await client.get("/v1/organization", headers=a.auth)).json()
    assert (org["name"], org["timezone"]) == ("Masala Mart", "Asia/Dubai")
    page = await client.get(response.headers["location"])
    assert "were saved" in page.text and '<option value="Asia/Dubai" selected>' in page.text


async def test_organization_bad_input_changes_nothing(client, runtime) -> None:
    a = await make_org(runtime, "Before")
    agent, _ = await add_member(runtime, a, "agent")
    await browser_sign_in(client, a.owner.email)
    bad_zone = await form_post(client, "/settings/organization", {"name": "After", "timezone": "Mars/Olympus"})
    assert bad_zone.status_code == 422 and has_inline_error(bad_zone.text, "timezone", "Unknown time zone.")
    assert 'value="After"' in bad_zone.text
    empty = await form_post(client, "/settings/organization", {"name": "", "timezone": "Asia/Kolkata"})
    assert empty.status_code == 422 and has_inline_error(empty.text, "name")
    no_csrf = await client.post("/settings/organization", data={"name": "Forged", "timezone": "UTC"})
    assert no_csrf.status_code == 403
    await sign_in_as(client, agent.email)
    forbidden = await form_post(client, "/settings/organization", {"name": "Agent's", "timezone": "UTC"})
    assert forbidden.status_code == 403 and "organization:write" in forbidden.text
    org = (await client.get("/v1/organization", headers=a.auth)).json()
    assert (org["name"], org["timezone"]) == ("Before", "Asia/Kolkata")


async def test_every_form_on_the_settings_pages_carries_the_csrf_token(client, runtime) -> None:
    a = await make_org(runtime)
    _, member_id = await add_member(runtime, a, "agent")
    team = (await client.post("/v1/teams", json={"name": "Support"}, headers=a.auth)).json()
    role = (await client.post("/v1/roles", json={"name": "helper", "permissions": ["teams:read"]},
                              headers=a.auth)).json()
    await client.post(f"/v1/teams/{team['id']}/members", json={"membership_id": member_id}, headers=a.auth)
    await client.post("/v1/invitations", json={"email": "new@example.com", "role_id": role["id"]}, headers=a.auth)
    await browser_sign_in(client, a.owner.email)
    for path in ("/settings/profile", "/settings/organization", "/settings/members", "/settings/teams",
                 f"/settings/teams/{team['id']}", "/settings/roles", f"/settings/roles/{role['id']}",
                 "/settings/api-keys", "/settings/audit"):
        page = await client.get(path)
        assert page.status_code == 200, path
        assert forms_missing_token(page.text) == [], path
