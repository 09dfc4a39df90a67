"""The refund journey in a real browser against a real server, Razorpay played by the sandbox (refund policy clause 4):

the owner signs up and adds ₹1,000 of WhatsApp credits (₹1,180 with GST) through Razorpay's checkout → opens a
technical-issue ticket in Support → a staff member, in the backoffice, verifies the issue with its start and impact →
the owner asks for a refund of that invoice on Billing → Refunds and sees it under review, the policy citing the
ticket → staff approve ₹500 of it with a note → the owner sees it refunded, with the amount, who decided, the policy
version and a credit note, and opens the credit note. Nothing mocked; waits are the page's own expect/wait APIs and
the polling helper the other journeys use."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy import select

from softdukan.billing.models import BillingDocument
from softdukan.platform.runtime import Runtime
from softdukan.refund.models import RefundRequest
from softdukan.wallet.models import Topup
from tests.browser.test_whatsapp_journey import OWNER, sign_up
from tests.support.polling import eventually
from tests.support_tickets.helpers import STAFF_PASSWORD, make_staff
from tests.wallet.support import ledger_findings

pytestmark = pytest.mark.browser

STAFF = {"email": "meera@softdukan-staff.example.com", "name": "Meera Iyer"}
TICKET = {"subject": "Broadcasts stuck in sending", "body": "Since yesterday morning no broadcast message goes out; "
          "every broadcast stays at 'sending'."}
IMPACT = "No broadcast message was delivered"
REASON = "Our broadcasts have not gone out since yesterday, so the credits we bought could not be used."
STAFF_NOTE = "Refunding the part of the credits the outage kept you from using. Sorry for the trouble."
APPROVED_RUPEES = "500"
# ₹500 with GST is not a whole number of paise of taxable value + 9% CGST + 9% SGST: the credit note carries the
# largest split not above it, ₹423.72 + ₹38.13 + ₹38.13 (refund/decision.py, split_for_total)
REFUNDED = "₹499.98"


async def recharge(page: Page, base: str) -> str:
    """₹1,000 of credits through Razorpay's checkout; returns the invoice number shown on the recharge row."""
    await page.goto(f"{base}/settings/credits")
    form = page.locator("#add-credits")
    await form.get_by_label("Credits (₹)").fill("1000")
    await expect(form.locator("#gst-note")).to_contain_text("₹1,000.00 + 18% GST (₹180.00) = ₹1,180.00 to pay.")
    await form.get_by_role("button", name="Pay with Razorpay").click()
    await expect(page).to_have_url(re.compile(r"/settings/credits/recharges/\d+/pay$"))
    await expect(page.get_by_test_id("total")).to_have_text("₹1,180.00")
    checkout = page.frame_locator('iframe[name="razorpay-checkout"]')
    await expect(checkout.locator("[data-amount]")).to_have_attribute("data-amount", "118000")
    await checkout.get_by_role("button", name="Pay (success)").click()
    await expect(page).to_have_url(re.compile(r"/settings/credits\?flash=credited"))
    row = page.locator('#recharges tbody tr[data-state="credited"]')
    await expect(row).to_have_count(1)
    await expect(row).to_contain_text("₹1,180.00")
    invoice_link = row.locator('a[href^="/billing/documents/"]').first
    await expect(invoice_link).to_have_text(re.compile(r"^SD/\d{4}/\d+$"))
    return (await invoice_link.inner_text()).strip()


async def open_technical_ticket(page: Page) -> tuple[int, str]:
    """Support → New ticket, a technical issue; returns the ticket's id and its number as the customer sees it."""
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Support").click()
    await page.get_by_role("link", name="New ticket").click()
    await page.get_by_label("Technical issue").check()
    await page.get_by_label("Subject").fill(TICKET["subject"])
    await page.get_by_label("What happened?").fill(TICKET["body"])
    await page.get_by_role("button", name="Open ticket").click()
    await expect(page).to_have_url(re.compile(r"/support/\d+\?flash=opened$"))
    await expect(page.locator("#flash")).to_contain_text("Your ticket is open")
    heading = page.get_by_role("heading", name=re.compile(rf"^#\d+ {re.escape(TICKET['subject'])}$"))
    await expect(heading).to_be_visible()
    found_id, found_number = re.search(r"/support/(\d+)", page.url), re.match(r"#(\d+)", await heading.inner_text())
    assert found_id and found_number
    return int(found_id.group(1)), found_number.group(1)


async def staff_sign_in(page: Page, base: str) -> None:
    await page.goto(f"{base}/backoffice/sign-in")
    await page.get_by_label("E-mail").fill(STAFF["email"])
    await page.get_by_label("Password").fill(STAFF_PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(f"{base}/backoffice")
    await expect(page.locator("#staff-name")).to_have_text(STAFF["name"])


async def verify_issue(page: Page, base: str, ticket_id: int, started: datetime) -> None:
    """The backoffice ticket: the technical issue verified as ongoing since `started` (organization's time)."""
    await page.goto(f"{base}/backoffice/tickets")
    await page.locator(f"#ticket-{ticket_id}").get_by_role("link").click()
    await expect(page).to_have_url(f"{base}/backoffice/tickets/{ticket_id}")
    await expect(page.get_by_role("heading", name=TICKET["subject"])).to_be_visible()
    await expect(page.locator("#organization")).to_contain_text(OWNER["business"])
    await page.get_by_label(re.compile(r"^Issue started")).fill(started.strftime("%Y-%m-%dT%H:%M"))
    await page.get_by_label("Impact: what the customer could not do").fill(IMPACT)
    await page.get_by_role("button", name="Verify technical issue").click()
    await expect(page).to_have_url(f"{base}/backoffice/tickets/{ticket_id}?done=verified")
    await expect(page.locator("#flash")).to_contain_text("The technical issue is verified")
    verification = page.locator("#verification")
    await expect(verification).to_contain_text("ongoing")
    await expect(verification).to_contain_text(IMPACT)
    await expect(page.get_by_text(f"Verified by {STAFF['name']}")).to_be_visible()


async def request_refund(page: Page, invoice_number: str) -> int:
    """Billing → Refunds: the invoice and the reason; returns the request's id."""
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Refunds").click()
    await expect(page.get_by_role("heading", name="Refunds", exact=True)).to_be_visible()
    form = page.locator("#refund-form")
    await form.get_by_label("Payment id (pay_…) or invoice number").fill(invoice_number)
    await form.get_by_label("Why are you asking for a refund?").fill(REASON)
    await form.get_by_role("button", name="Request a refund").click()
    await expect(page).to_have_url(re.compile(r"/billing/refunds/\d+$"))
    found = re.search(r"/billing/refunds/(\d+)$", page.url)
    assert found is not None
    return int(found.group(1))


async def approve_part(page: Page, base: str, request_id: int) -> None:
    """The backoffice queue → the request → ₹500 of the ₹1,180 approved with a note."""
    await page.get_by_role("navigation", name="Backoffice").get_by_role("link", name="Refunds").click()
    await expect(page).to_have_url(f"{base}/backoffice/refunds")
    row = page.locator(f"#refund-{request_id}")
    for text in (OWNER["business"], "credits", "₹1,180.00", "under review", "Verified: ticket #"):
        await expect(row).to_contain_text(text)
    await row.get_by_role("link", name=str(request_id), exact=True).click()
    await expect(page).to_have_url(f"{base}/backoffice/refunds/{request_id}")
    await expect(page.locator("#reason")).to_have_text(REASON)
    await expect(page.locator("#verified-issues")).to_contain_text(IMPACT)
    await expect(page.locator("#cap")).to_have_text("₹1,180.00")
    form = page.locator("#approve-form")
    await form.get_by_label("Amount to refund, ₹ with GST").fill(APPROVED_RUPEES)
    await form.get_by_label("Note to the customer").fill(STAFF_NOTE)
    await form.get_by_role("button", name="Approve and refund").click()
    await expect(page).to_have_url(re.compile(rf"/backoffice/refunds/{request_id}\?done=approved$"))
    await expect(page.locator("#flash")).to_contain_text("Approved; the refund is on its way")
    await expect(page.locator("#decision")).to_contain_text(f"by {STAFF['name']}")
    await expect(page.locator("#decision")).to_contain_text(REFUNDED)


async def request_row(runtime: Runtime, request_id: int) -> RefundRequest:
    async with runtime.sessionmaker() as session:
        found = await session.get(RefundRequest, request_id)
    assert found is not None
    return found


async def test_verified_outage_refund_is_approved_in_part_and_the_customer_gets_a_credit_note(
        runtime, live_server, browser: Browser) -> None:
    base = live_server.url
    await make_staff(live_server.settings, email=STAFF["email"], name=STAFF["name"])

    # the owner signs up and adds ₹1,000 of credits through Razorpay's checkout: ₹1,180 paid, a tax invoice
    owner = await (await browser.new_context()).new_page()
    await sign_up(owner, base)
    invoice_number = await recharge(owner, base)

    # something does not work: the owner opens a technical-issue ticket
    ticket_id, ticket_number = await open_technical_ticket(owner)
    await expect(owner.locator("#verification")).to_have_count(0)

    # support, in the backoffice, verifies the issue: ongoing since yesterday, nothing delivered
    staff = await (await browser.new_context()).new_page()
    await staff_sign_in(staff, base)
    started = datetime.now(ZoneInfo("Asia/Kolkata")).replace(second=0, microsecond=0) - timedelta(days=1)
    await verify_issue(staff, base, ticket_id, started)

    # the owner sees the verification on the ticket
    await owner.reload()
    await expect(owner.locator("#verification")).to_contain_text("Technical issue verified by SoftDukan support")
    await expect(owner.locator("#verification")).to_contain_text(IMPACT)

    # Invoices shows the recharge's tax invoice; the owner names it on Billing → Refunds
    await owner.get_by_role("navigation", name="Main").get_by_role("link", name="Invoices").click()
    invoice_row = owner.locator("#documents tbody tr", has_text=invoice_number)
    await expect(invoice_row).to_contain_text("Tax invoice")
    await expect(invoice_row).to_contain_text("1,180.00")
    request_id = await request_refund(owner, invoice_number)

    # under review: credits are non-refundable (clause 3), but the verified issue lets staff decide (clause 4)
    await expect(owner.locator("#state")).to_have_text("under review")
    reasoning = owner.get_by_test_id("reasoning")
    await expect(reasoning).to_contain_text("non-refundable under clause 3")
    # dated in the organization's timezone, as the ticket pages are
    await expect(reasoning).to_contain_text(f"ticket #{ticket_number} from {started:%d %b %Y} (ongoing): {IMPACT}")
    await expect(owner.locator("#decision")).to_have_count(0)
    await expect(owner.locator("#credit-note")).to_have_count(0)

    # staff approve ₹500 of the ₹1,180 with a note; the sandbox's Razorpay refunds it to the payment
    await approve_part(staff, base, request_id)
    await eventually(lambda: _refunded(runtime, request_id), what="the refund processed", within=60)

    # the owner's request page: refunded, how much, who decided under which policy version, and the credit note
    request = await request_row(runtime, request_id)
    await owner.reload()
    await expect(owner.locator("#state")).to_have_text("refunded")
    await expect(owner.locator("#refunded")).to_contain_text(f"{REFUNDED} was refunded to payment {request.payment_id}")
    decision = owner.locator("#decision")
    await expect(decision).to_contain_text(f"Approved by {STAFF['name']}")
    await expect(decision).to_contain_text(f"under policy version {request.decision_policy_version}")
    await expect(decision).to_contain_text(f"{REFUNDED} (₹423.72 + GST)")
    await expect(decision).to_contain_text(STAFF_NOTE)
    credit_note_link = owner.locator("#credit-note")
    await expect(credit_note_link).to_have_text(re.compile(r"^SDCN/\d{4}/\d+$"))
    credit_note_number = (await credit_note_link.inner_text()).strip()
    await expect(owner.locator("#refund-events")).to_contain_text(f"credit note {credit_note_number}")

    # the credit note: its number, against the recharge's invoice, for the refunded amount
    await credit_note_link.click()
    await expect(owner).to_have_url(re.compile(r"/billing/documents/\d+$"))
    await expect(owner.locator("#billing-document")).to_contain_text("Credit note", ignore_case=True)
    await expect(owner.locator("#document-number")).to_have_text(credit_note_number)
    await expect(owner.get_by_role("link", name=invoice_number)).to_be_visible()
    await expect(owner.locator("#total")).to_have_text(REFUNDED)

    # the books: refunded once, one credit note for the approved part of the invoice, nothing drifted
    request = await request_row(runtime, request_id)
    assert (request.state, request.approved_paise, request.approved_taxable_paise) == ("refunded", 49_998, 42_372)
    async with runtime.sessionmaker() as session:
        notes = list((await session.execute(select(BillingDocument).where(
            BillingDocument.doc_type == "credit_note"))).scalars())
        (topup,) = (await session.execute(select(Topup))).scalars()
    assert [(n.id, n.number, n.total_paise) for n in notes] == [(request.credit_note_id, credit_note_number, 49_998)]
    assert (topup.razorpay_payment_id, topup.total_paise) == (request.payment_id, 118_000)
    assert await ledger_findings(runtime) == []


async def _refunded(runtime: Runtime, request_id: int) -> bool:
    request = await request_row(runtime, request_id)
    return request.state == "refunded" and request.credit_note_id is not None
