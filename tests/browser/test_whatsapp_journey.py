"""The WhatsApp journey in a real browser against a real server, Meta played by the built-in sandbox:

the owner signs up → connects a number through "Connect WhatsApp" (code by SMS, PIN, webhooks) → a customer says hi
in the phone simulator (a second browser) → it appears in the conversations live → the agent replies → the phone
shows the reply → the agent sees it delivered, then read when the customer opens the chat. Nothing mocked."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

pytestmark = pytest.mark.browser

OWNER = {"business": "Sharma Sweets", "name": "Neha Sharma", "email": "neha@sharma-sweets.example.com",
         "mobile": "+91 98111 22334", "password": "laddu-and-barfi-2026"}
BUSINESS_NUMBER = "+91 98000 12345"
CUSTOMER = {"wa_id": "919812345678", "name": "Ravi Kumar"}
LIVE = 20_000  # ms: webhooks, routing job, SSE and the phone's polling all in between


async def sign_up(page: Page, base: str) -> None:
    await page.goto(f"{base}/sign-up")
    await page.get_by_label("Business name").fill(OWNER["business"])
    await page.get_by_label("Your name").fill(OWNER["name"])
    await page.get_by_label("Work e-mail").fill(OWNER["email"])
    await page.get_by_label("Mobile number").fill(OWNER["mobile"])
    await page.get_by_label("Password").fill(OWNER["password"])
    await page.get_by_role("button", name="Create account").click()
    await expect(page.get_by_role("heading", name=OWNER["business"], exact=True)).to_be_visible()


async def connect_number(page: Page, base: str) -> None:
    """Meta's embedded signup as the wizard walks it: account, number, SMS code, PIN, webhooks, finish."""
    await page.goto(f"{base}/numbers/connect")
    account = page.locator("#account-form")
    await account.get_by_label("Business name").fill(OWNER["business"])
    await account.get_by_role("button", name="Continue with Facebook").click()
    number = page.locator("#number-form")
    await number.get_by_label("Phone number").fill(BUSINESS_NUMBER)
    await number.get_by_label("Display name").fill(OWNER["business"])
    await number.get_by_role("button", name="Add number").click()
    await page.get_by_role("button", name="Send code by SMS").click()
    code = (await page.locator("#sandbox-code-hint strong").inner_text()).strip()
    assert re.fullmatch(r"\d{6}", code), code
    await page.get_by_label("Code").fill(code)
    await page.get_by_role("button", name="Verify").click()
    await page.get_by_label("Two-step verification PIN").fill("246810")
    await page.get_by_role("button", name="Register").click()
    await page.get_by_role("button", name="Subscribe").click()
    await page.get_by_role("button", name="Finish").click()
    await page.goto(f"{base}/numbers")
    await expect(page.get_by_text("+91 98000 12345").first).to_be_visible()


async def open_phone(phone: Page, base: str) -> None:
    """The simulator: pick the business number, create the customer, open the chat."""
    await phone.goto(f"{base}/sandbox/phone")
    await phone.get_by_label("Business number").select_option(label=f"{OWNER['business']} · {BUSINESS_NUMBER}")
    await phone.get_by_role("button", name="Open").click()
    await phone.get_by_label("WhatsApp number").fill(CUSTOMER["wa_id"])
    await phone.get_by_label("Profile name").fill(CUSTOMER["name"])
    await phone.get_by_role("button", name="Start chatting").click()
    await expect(phone.locator("#business-name")).to_have_text(OWNER["business"])


async def customer_says(phone: Page, text: str) -> None:
    await phone.get_by_label("Message", exact=True).fill(text)
    await phone.get_by_role("button", name="Send", exact=True).click()
    await expect(phone.locator(".bubble.mine", has_text=text)).to_be_visible()


async def test_connect_a_number_then_chat_with_a_customer_live(runtime, live_server, browser: Browser) -> None:
    base = live_server.url
    async with httpx.AsyncClient(timeout=20) as http:  # Meta's pace, shortened; the phone alone sends reads
        response = await http.put(f"{base}/sandbox/graph/_sandbox/profile", json={
            "sent_after_seconds": 0.1, "delivered_after_seconds": 0.3, "read_ratio": 0.0,
            "template_review_delay_seconds": 0.0, "display_name_review_delay_seconds": 0.0,
            "retry_schedule_seconds": [0.5, 1.0, 2.0]})
        assert response.status_code == 200, response.text

    owner = await (await browser.new_context()).new_page()
    await sign_up(owner, base)
    await connect_number(owner, base)
    await owner.goto(f"{base}/conversations")
    await expect(owner.locator("#no-conversations")).to_be_visible()

    # the customer, on another device, writes first
    phone = await (await browser.new_context()).new_page()
    await open_phone(phone, base)
    await customer_says(phone, "hi")

    # the conversation shows up in the agent's list without a reload, and opens on the message
    entry = owner.locator("#conversation-list a", has_text=CUSTOMER["name"])
    await expect(entry).to_be_visible(timeout=LIVE)
    await entry.click()
    thread = owner.locator("#thread")
    await expect(thread.locator('[data-direction="in"]', has_text="hi")).to_be_visible()

    # a second message arrives live on the open conversation page
    await customer_says(phone, "Do you have kaju katli today?")
    await expect(thread.locator('[data-direction="in"]', has_text="Do you have kaju katli today?")
                 ).to_be_visible(timeout=LIVE)

    # the customer puts the phone away: messages reach it but are not read yet
    await phone.get_by_label("Chat open on screen (sends read receipts)").uncheck()
    await expect(phone).to_have_url(re.compile(r"read=0"))

    # the agent replies; the phone shows it; the agent sees it delivered
    await owner.get_by_label("Message", exact=True).fill("Yes! Fresh kaju katli, ₹900 a kilo.")
    await owner.get_by_role("button", name="Send").click()
    reply = thread.locator('[data-direction="out"]', has_text="Fresh kaju katli")
    await expect(reply).to_be_visible(timeout=LIVE)
    await expect(phone.locator(".bubble.theirs", has_text="Fresh kaju katli")).to_be_visible(timeout=LIVE)
    await expect(reply).to_have_attribute("data-status", "delivered", timeout=LIVE)

    # the customer opens the chat: read receipts go out, the agent's ticks turn blue
    await phone.get_by_label("Chat open on screen (sends read receipts)").check()
    await expect(reply).to_have_attribute("data-status", "read", timeout=LIVE)

