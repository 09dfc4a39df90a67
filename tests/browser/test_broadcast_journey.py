"""The broadcast journey in a real browser against a real server, Meta played by the built-in sandbox:

the owner signs up and connects a number → imports a CSV with a few bad rows and sees the error report → builds a
segment from the imported tag → creates a template and sees it approved → creates a broadcast to the segment with a
per-contact preview and the breakdown, and sends it → watches the funnel move live (SSE) → the phone simulator shows
the message on one recipient's phone. Nothing mocked; waits are the page's own expect/wait APIs."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.async_api import Browser, Locator, Page, expect

from tests.browser.test_whatsapp_journey import OWNER, connect_number, sign_up

pytestmark = pytest.mark.browser

LIVE = 30_000  # ms: webhooks, jobs, pacing, SSE and the phone's polling all in between
RECIPIENTS = {"919812300001": "Asha Rao", "919812300002": "Bilal Khan", "919812300003": "Chitra Iyer"}
# Meta's pace, shortened; nobody reads a message until the phone opens the chat
FAST_META = {"sent_after_seconds": 0.1, "delivered_after_seconds": 0.5, "read_ratio": 0.0,
             "template_review_delay_seconds": 0.0, "display_name_review_delay_seconds": 0.0,
             "retry_schedule_seconds": [0.5, 1.0, 2.0]}
CSV = ("phone,name,tags\n"
       + "".join(f"+{wa_id},{name},diwali\n" for wa_id, name in RECIPIENTS.items())
       + "12345,Too Short,diwali\nnot a number,Nobody,diwali\n")


async def choose(select: Locator, text: str) -> None:
    """Select the option whose label contains `text`."""
    option = select.locator("option", has_text=text).first
    await expect(option).to_be_attached()
    await select.select_option(value=await option.get_attribute("value"))


async def upload_contacts(page: Page, base: str, name: str, csv: str, *, created: int, errors: int) -> None:
    """Imports a CSV through the dashboard and waits for its counts."""
    await page.goto(f"{base}/contacts/import")
    await page.locator("#f-file").set_input_files(files=[{"name": name, "mimeType": "text/csv",
                                                          "buffer": csv.encode()}])
    await page.get_by_role("button", name="Upload").click()
    await expect(page.locator("#import-mapping-form")).to_be_visible()
    await page.get_by_role("button", name="Import contacts").click()
    progress = page.locator("#import-progress")
    await expect(progress).to_have_attribute("data-status", re.compile("done|finished|completed"), timeout=LIVE)
    await expect(page.locator("#import-created")).to_have_text(str(created))
    await expect(page.locator("#import-errors")).to_have_text(str(errors))


async def import_contacts(page: Page, base: str) -> None:
    await upload_contacts(page, base, "diwali.csv", CSV, created=3, errors=2)
    report_link = page.locator("#error-report-link")
    await expect(report_link).to_be_visible()
    report = await page.request.get(base + str(await report_link.get_attribute("href")))
    assert report.ok, await report.text()
    text = await report.text()
    assert "12345" in text and "not a number" in text, text


async def build_segment(page: Page, base: str) -> None:
    await page.goto(f"{base}/segments/new")
    await page.locator("#f-name").fill("Diwali customers")
    await page.locator("#c0-value").fill("diwali")
    await expect(page.locator("#live-count")).to_have_text("3", timeout=LIVE)
    await page.locator("#save-segment").click()
    await expect(page.locator("#segment-total")).to_have_text("3")


async def approved_template(page: Page, base: str) -> None:
    await page.goto(f"{base}/templates/new")
    await page.locator("#f-name").fill("diwali_sweets")
    await page.locator("#f-category").select_option("MARKETING")
    await page.locator("#f-body").fill("Hi {{1}}, our Diwali sweets are 20% off this week!")
    await page.locator("#f-body_examples").fill("Asha")
    await page.locator("#f-footer").fill("Reply STOP to opt out")
    await page.locator("#submit-template").click()
    await expect(page).to_have_url(re.compile(r"/templates/\d+"))
    # the status card updates live; a review that finished before the page's live stream connected shows on reload
    status = page.locator('#template-status [data-field="status"]')
    for _ in range(20):
        try:
            await expect(status).to_have_text("APPROVED", timeout=1_500)
            break
        except AssertionError:
            await page.reload()
    await expect(status).to_have_text("APPROVED")


async def send_broadcast(page: Page, base: str) -> None:
    await page.goto(f"{base}/broadcasts/new")
    await page.locator("#f-name").fill("Diwali sweets")
    await page.locator("#f-segment_id").select_option(label="Diwali customers")
    await choose(page.locator("#f-template_id"), "diwali_sweets")
    variables = page.locator("#variable-rows")
    await expect(variables.locator('[data-variable="body.1"]')).to_be_visible(timeout=LIVE)
    # the live panel: the first contact's message, then another contact's, and who gets it
    check = page.locator("#broadcast-check")
    await expect(check.locator('[data-count="eligible"]')).to_have_text("3", timeout=LIVE)
    await expect(check.locator('#preview-bubble [data-part="body"]')).to_contain_text("Hi Asha,", timeout=LIVE)
    await choose(check.locator("#preview-contact"), "Bilal Khan")
    await expect(check.locator('#preview-bubble [data-part="body"]')).to_contain_text("Hi Bilal,", timeout=LIVE)
    await expect(check.locator("#estimate")).to_contain_text("₹")
    await page.locator("#send-now").click()
    await expect(page).to_have_url(re.compile(r"/broadcasts/\d+\?flash=launched"))


async def test_import_segment_template_broadcast_and_the_phone_shows_it(runtime, live_server, browser: Browser
                                                                          ) -> None:
    base = live_server.url
    async with httpx.AsyncClient(timeout=20) as http:
        response = await http.put(f"{base}/sandbox/graph/_sandbox/profile", json=FAST_META)
    assert response.status_code == 200, response.text

    owner = await (await browser.new_context()).new_page()
    await sign_up(owner, base)
    await connect_number(owner, base)
    await import_contacts(owner, base)
    await build_segment(owner, base)
    await approved_template(owner, base)
    await send_broadcast(owner, base)

    # the funnel moves without a reload: the page re-fetches it on each broadcast.progressed event
    funnel = owner.locator("#funnel")
    await expect(funnel.locator('[data-stage="sent"] [data-count]')).to_have_text("3", timeout=LIVE)
    await expect(funnel.locator('[data-stage="delivered"] [data-count]')).to_have_text("3", timeout=LIVE)
    await expect(owner.locator('#broadcast-status [data-part="status"]')).to_have_text("Completed", timeout=LIVE)

    # one recipient's phone shows the message, filled in for them (the sandbox knows its customers already)
    phone = await (await browser.new_context()).new_page()
    await phone.goto(f"{base}/sandbox/phone")
    await choose(phone.get_by_label("Business number"), OWNER["business"])
    await phone.get_by_role("button", name="Open").click()
    await choose(phone.get_by_label("Existing customer"), "+919812300001")
    await phone.get_by_role("button", name="Chat", exact=True).click()
    await expect(phone.locator(".bubble.theirs", has_text="Hi Asha, our Diwali sweets are 20% off this week!")
                 ).to_be_visible(timeout=LIVE)

    # the customer opened the chat: the read shows up in the funnel, live
    await expect(funnel.locator('[data-stage="read"] [data-count]')).to_have_text("1", timeout=LIVE)
