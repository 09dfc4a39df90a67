"""Sign up → sign in → invite a member → accept from the mailbox link → the member sees the team
page with the agent role's limits. A real browser, a real server, nothing mocked."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, Page, expect

pytestmark = pytest.mark.browser

OWNER = {"business": "Gupta Electronics", "name": "Vikram Gupta", "email": "vikram@gupta-electronics.example.com",
         "mobile": "+91 98765 43210", "password": "volt-and-watt-2026"}
AGENT = {"email": "sana@gupta-electronics.example.com", "name": "Sana Khan", "password": "helpdesk-quiet-2026"}


async def sign_in(page: Page, base: str, email: str, password: str) -> None:
    await page.goto(f"{base}/sign-in")
    await page.get_by_label("E-mail").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(re.compile(rf"^{re.escape(base)}/(\?.*)?$"))


async def test_sign_up_invite_accept_and_agent_limits(runtime, live_server, browser: Browser) -> None:
    base = live_server.url
    owner = await (await browser.new_context()).new_page()

    # sign up, which signs the owner in, then sign out and in again
    await owner.goto(f"{base}/sign-up")
    await owner.get_by_label("Business name").fill(OWNER["business"])
    await owner.get_by_label("Your name").fill(OWNER["name"])
    await owner.get_by_label("Work e-mail").fill(OWNER["email"])
    await owner.get_by_label("Mobile number").fill(OWNER["mobile"])
    await owner.get_by_label("Password").fill(OWNER["password"])
    await owner.get_by_role("button", name="Create account").click()
    await expect(owner.get_by_role("heading", name=OWNER["business"], exact=True)).to_be_visible()
    await owner.get_by_role("button", name=OWNER["name"]).click()
    await owner.get_by_role("button", name="Sign out").click()
    await expect(owner).to_have_url(re.compile(r"/sign-in"))
    await sign_in(owner, base, OWNER["email"], OWNER["password"])

    # a team for the agent to look at
    await owner.goto(f"{base}/settings/teams")
    form = owner.locator("#team-create-form")
    await form.get_by_label("Name", exact=False).first.fill("Store Support")
    await form.get_by_role("button").click()
    await expect(owner.get_by_text("Store Support").first).to_be_visible()

    # invite the agent
    await owner.goto(f"{base}/settings/members")
    await owner.get_by_label("E-mail", exact=False).first.fill(AGENT["email"])
    await owner.get_by_label("Role", exact=False).first.select_option(label="agent")
    await owner.get_by_role("button", name=re.compile("invite", re.I)).first.click()
    await expect(owner.get_by_text(f"Invitation sent to {AGENT['email']}")).to_be_visible()

    # the agent opens the e-mail in the mailbox (a different browser, signed out) and follows the link
    agent = await (await browser.new_context()).new_page()
    await agent.goto(f"{base}/mailbox")
    await agent.get_by_text(re.compile(f"invited to {OWNER['business']}")).first.click(timeout=30_000)
    body = await agent.content()
    link = re.search(r'(http://[^"\s<]+/invitations/accept\?token=[\w-]+)', body)
    assert link, "the invitation e-mail shows its link"
    await agent.goto(link.group(1))
    await agent.get_by_label("Your name").fill(AGENT["name"])
    await agent.get_by_label("Choose a password").fill(AGENT["password"])
    await agent.get_by_role("button", name="Create account and join").click()
    await expect(agent.get_by_role("heading", name=OWNER["business"], exact=True)).to_be_visible()

    # the agent sees the team page, read-only, and no settings its role can't use
    nav = agent.get_by_role("navigation", name="Main")
    await expect(nav.get_by_role("link", name="Teams")).to_be_visible()
    for hidden in ("API keys", "Roles", "Audit log"):
        await expect(nav.get_by_role("link", name=hidden)).to_have_count(0)
    await nav.get_by_role("link", name="Teams").click()
    await expect(agent.locator("#teams-table")).to_contain_text("Store Support")
    await expect(agent.locator("#read-only-note")).to_contain_text("agent")
    await expect(agent.locator("#team-create-form")).to_have_count(0)
    response = await agent.goto(f"{base}/settings/api-keys")
    assert response is not None and response.status == 403
