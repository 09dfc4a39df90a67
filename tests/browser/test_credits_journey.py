"""The WhatsApp credits journey in a real browser against a real server, Meta and Razorpay played by the sandbox:

an organization with a connected number, an approved marketing template and 20 contacts has credit for only a few
messages → the owner signs in and sees the low-balance banner → sends a broadcast to everyone, which pauses when
the credits run out, saying to add credits → adds ₹500 (+ GST) on Settings → WhatsApp credits, pays on Razorpay's
checkout, comes back credited with a GST invoice and opens it → the broadcast resumes by itself and completes, one
message per contact → the month's usage shows the charged marketing messages to India, and the list behind them.
Nothing mocked; waits are the page's own expect/wait APIs and the polling helper the other journeys use."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.async_api import Browser, Locator, Page, expect
from sqlalchemy import func, select

from softdukan.billing.models import BillingDocument
from softdukan.kit.money import credits as rupees
from softdukan.organization.models import Organization
from softdukan.platform.runtime import Runtime
from softdukan.sandbox.models import SandboxMessage
from softdukan.wallet.models import CHARGED, MessageCharge, Topup
from softdukan.wallet.rates import DEFAULT_PLAN, price_table
from tests.browser.test_broadcast_journey import FAST_META, LIVE, approved_template, choose, upload_contacts
from tests.browser.test_team_journey import sign_in
from tests.browser.test_whatsapp_journey import OWNER, connect_number, sign_up
from tests.support.polling import eventually
from tests.wallet.support import empty_wallet, fund, ledger_findings, wallet

pytestmark = pytest.mark.browser

CONTACTS = {f"9198123{i:05d}": f"Regular {i:02d}" for i in range(1, 21)}
CSV = "phone,name,tags\n" + "".join(f"+{wa_id},{name},regulars\n" for wa_id, name in CONTACTS.items())
AFFORDABLE = 3  # messages the wallet covers before the recharge
RECHARGE_RUPEES = 500
THRESHOLD_RUPEES = 50


async def marketing_price_in_india(runtime: Runtime) -> int:
    """What one marketing template to India holds and is charged today (Meta's rate + the plan's markup)."""
    async with runtime.sessionmaker() as session:
        table = await price_table(session, {"IN"}, on=runtime.clock.now().date(), plan=DEFAULT_PLAN,
                                  now=runtime.clock.now())
        await session.commit()  # the first price seeds the rate cards
    return table.hold_units("IN", "MARKETING")


async def organization_id(runtime: Runtime) -> int:
    async with runtime.sessionmaker() as session:
        found = await session.scalar(select(Organization.id).where(Organization.name == OWNER["business"]))
    assert found is not None
    return int(found)


async def shown(page: Page, locator: Locator, text: str | re.Pattern[str]) -> None:
    """The page updates live; an update that came before its live stream connected shows on reload."""
    for _ in range(20):
        try:
            await expect(locator).to_contain_text(text, timeout=1_500)
            return
        except AssertionError:
            await page.reload()
    await expect(locator).to_contain_text(text, timeout=LIVE)


async def import_regulars(page: Page, base: str) -> None:
    await upload_contacts(page, base, "regulars.csv", CSV, created=len(CONTACTS), errors=0)


async def set_alert(page: Page, base: str) -> None:
    await page.goto(f"{base}/settings/credits")
    await page.get_by_label("Alert me below (₹)").fill(str(THRESHOLD_RUPEES))
    await page.locator("form[action='/settings/credits/alert']").get_by_role("button", name="Save").click()
    await expect(page.locator("#flash")).to_contain_text("Saved.")


async def launch_to_everyone(page: Page, base: str) -> int:
    await page.goto(f"{base}/broadcasts/new")
    await page.locator("#f-name").fill("Regulars offer")
    await page.get_by_label("All contacts").check()
    await choose(page.locator("#f-template_id"), "diwali_sweets")
    await expect(page.locator('#variable-rows [data-variable="body.1"]')).to_be_visible(timeout=LIVE)
    check = page.locator("#broadcast-check")
    await expect(check.locator('[data-count="eligible"]')).to_have_text(str(len(CONTACTS)), timeout=LIVE)
    await expect(check.locator("#estimate")).to_contain_text("₹")
    await page.locator("#send-now").click()
    await expect(page).to_have_url(re.compile(r"/broadcasts/\d+\?flash=launched"))
    found = re.search(r"/broadcasts/(\d+)", page.url)
    assert found is not None
    return int(found.group(1))


async def recharge(page: Page, base: str) -> str:
    """Add credits through Razorpay's checkout; returns the invoice number shown on the recharge row."""
    await page.goto(f"{base}/settings/credits")
    form = page.locator("#add-credits")
    await form.get_by_label("Credits (₹)").fill(str(RECHARGE_RUPEES))
    await expect(form.locator("#gst-note")).to_contain_text("₹500.00 + 18% GST (₹90.00) = ₹590.00 to pay.")
    await form.get_by_role("button", name="Pay with Razorpay").click()

    # the pay page opens Razorpay Checkout over itself (checkout.js; the sandbox's plays Razorpay's): the amount
    # with GST, and the customer pays inside it; the signed answer reaches the page's handler by postMessage
    await expect(page).to_have_url(re.compile(r"/settings/credits/recharges/\d+/pay$"))
    await expect(page.get_by_test_id("total")).to_have_text("₹590.00")
    checkout = page.frame_locator('iframe[name="razorpay-checkout"]')
    await expect(checkout.locator("[data-amount]")).to_have_attribute("data-amount", "59000")
    await expect(checkout.locator("[data-amount]")).to_contain_text("590.00")
    await checkout.get_by_role("button", name="Pay (success)").click()

    # back on the credits page: credited at once (the return is verified server side), with its invoice
    await expect(page).to_have_url(re.compile(r"/settings/credits\?flash=credited"))
    await expect(page.locator("#flash")).to_contain_text("Payment received: the credits are in your wallet")
    row = page.locator('#recharges tbody tr[data-state="credited"]')
    await expect(row).to_have_count(1)
    for text in ("Credited", "₹500.00", "₹90.00", "₹590.00"):
        await expect(row).to_contain_text(text)
    invoice_link = row.locator('a[href^="/billing/documents/"]').first
    await expect(invoice_link).to_have_text(re.compile(r"^SD/\d{4}/\d+$"))
    return (await invoice_link.inner_text()).strip()


async def per_customer_sent(runtime: Runtime) -> dict[str, int]:
    async with runtime.sessionmaker() as session:
        return dict((await session.execute(select(SandboxMessage.wa_id, func.count()).where(
            SandboxMessage.direction == "out").group_by(SandboxMessage.wa_id))).all())


async def charged_count(runtime: Runtime, org_id: int) -> int:
    async with runtime.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(MessageCharge).where(
            MessageCharge.organization_id == org_id, MessageCharge.state == CHARGED)) or 0)


async def test_broadcast_pauses_on_empty_credits_recharge_resumes_it_and_usage_shows_the_charges(
        runtime, live_server, browser: Browser) -> None:
    base = live_server.url
    async with httpx.AsyncClient(timeout=20) as http:
        response = await http.put(f"{base}/sandbox/graph/_sandbox/profile", json=FAST_META)
    assert response.status_code == 200, response.text

    # the organization: a connected number, 20 contacts, an approved marketing template and a ₹50 alert
    setup = await browser.new_context()
    page = await setup.new_page()
    await sign_up(page, base)
    await connect_number(page, base)
    await import_regulars(page, base)
    await approved_template(page, base)
    await set_alert(page, base)
    await setup.close()

    # the welcome credit taken back; credit left for three messages and a bit
    price = await marketing_price_in_india(runtime)
    org_id = await organization_id(runtime)
    await empty_wallet(runtime, org_id)
    start = AFFORDABLE * price + price // 2
    await fund(runtime, org_id, start, f"journey:{org_id}")
    assert (await wallet(runtime, org_id)).available_units == start

    # the owner signs in: the low-balance banner says how much is left
    owner = await (await browser.new_context()).new_page()
    await sign_in(owner, base, OWNER["email"], OWNER["password"])
    banner = owner.locator('#wallet-banner [data-testid="low-balance"]')
    await expect(banner).to_contain_text("WhatsApp credits are low", timeout=LIVE)
    await expect(banner).to_contain_text(f"{rupees(start)} available")
    await expect(banner).to_contain_text(f"alert below ₹{THRESHOLD_RUPEES}.00")

    # a broadcast to everyone: three go out, then it pauses, saying to add credits
    broadcast_id = await launch_to_everyone(owner, base)
    await shown(owner, owner.locator('#broadcast-status [data-part="status"]'), "Paused")
    notice = owner.locator("#broadcast-notice")
    await expect(notice).to_contain_text("WhatsApp credits ran out")
    await expect(notice).to_contain_text("as soon as you add credits")
    await expect(owner.locator('#funnel [data-stage="sent"] [data-count]')).to_have_text(str(AFFORDABLE),
                                                                                        timeout=LIVE)
    assert len(await per_customer_sent(runtime)) == AFFORDABLE

    # Settings → WhatsApp credits: ₹500 + GST through Razorpay's checkout, credited with a GST invoice
    number = await recharge(owner, base)
    await owner.locator("#recharges").get_by_role("link", name=number).click()
    await expect(owner).to_have_url(re.compile(r"/billing/documents/\d+$"))
    document = owner.locator("#billing-document")
    await expect(document).to_contain_text("Tax invoice", ignore_case=True)
    await expect(owner.locator("#document-number")).to_have_text(number)
    totals = owner.locator("#totals")
    await expect(totals.locator("tr", has_text="Taxable value")).to_contain_text("₹500.00")
    await expect(totals.locator("tr", has_text="CGST")).to_contain_text("₹45.00")
    await expect(totals.locator("tr", has_text="SGST")).to_contain_text("₹45.00")
    await expect(owner.locator("#total")).to_have_text("₹590.00")

    # the broadcast resumed by itself and finishes: every contact got exactly one message
    await owner.goto(f"{base}/broadcasts/{broadcast_id}")
    await shown(owner, owner.locator('#broadcast-status [data-part="status"]'), "Completed")
    await expect(owner.locator("#broadcast-notice")).to_have_count(0)
    funnel = owner.locator("#funnel")
    await expect(funnel.locator('[data-stage="sent"] [data-count]')).to_have_text(str(len(CONTACTS)), timeout=LIVE)
    await shown(owner, funnel.locator('[data-stage="delivered"] [data-count]'), str(len(CONTACTS)))
    sent = await per_customer_sent(runtime)
    assert set(sent) == set(CONTACTS) and set(sent.values()) == {1}, sent

    # the month's usage once every delivery has been charged: marketing, India, 20 messages
    await eventually(lambda: _all_charged(runtime, org_id), what="every delivered message charged", within=60)
    total = len(CONTACTS) * price
    await owner.reload()  # the broadcast's cost, from its charges
    cost = f"₹{total / 10_000:,.2f} charged for {len(CONTACTS)}"
    await expect(owner.locator("#broadcast-cost")).to_contain_text(cost)
    await owner.goto(f"{base}/settings/credits")
    await expect(owner.get_by_test_id("month-total")).to_have_text(rupees(total))
    category = owner.locator("#usage-by-category tbody tr")
    await expect(category).to_have_count(1)
    await expect(category.locator("td")).to_have_text(["Marketing", str(len(CONTACTS)), rupees(total)])
    country = owner.locator("#usage-by-country tbody tr")
    await expect(country).to_have_count(1)
    await expect(country.locator("td")).to_have_text(["India", str(len(CONTACTS)), rupees(total)])
    await expect(owner.get_by_test_id("held")).to_have_text(rupees(0))
    balance = start + RECHARGE_RUPEES * 100 * 100 - total
    await expect(owner.get_by_test_id("balance")).to_have_text(rupees(balance))

    # the drill-down: the charged messages behind the Marketing line, one per contact at the price
    await category.get_by_role("link", name="Marketing").click()
    await expect(owner).to_have_url(re.compile(r"/settings/credits/charges\?month=\d{4}-\d{2}&category=marketing"))
    charges = owner.locator("#charges tbody tr")
    await expect(charges).to_have_count(len(CONTACTS))
    shown_numbers = {(await charges.nth(i).locator("td").nth(1).inner_text()).strip()
                     for i in range(len(CONTACTS))}
    assert shown_numbers == {f"+{wa_id}" for wa_id in CONTACTS}
    for i in range(len(CONTACTS)):
        await expect(charges.nth(i)).to_contain_text("India")
        await expect(charges.nth(i).locator("td").last).to_have_text(rupees(price))

    # the books: the recharge's credit came in, exactly the 20 charges went out, nothing held, nothing drifted
    after = await wallet(runtime, org_id)
    assert (after.balance_units, after.held_units, after.available_units) == (balance, 0, balance)
    async with runtime.sessionmaker() as session:
        (topup,) = (await session.execute(select(Topup).where(Topup.organization_id == org_id))).scalars()
        invoice = await session.get(BillingDocument, topup.invoice_id)
    assert topup.state == "credited" and topup.credits_units == RECHARGE_RUPEES * 100 * 100
    assert invoice is not None and (invoice.number, invoice.total_paise) == (number, 59_000)
    assert await ledger_findings(runtime) == []


async def _all_charged(runtime: Runtime, org_id: int) -> bool:
    return await charged_count(runtime, org_id) == len(CONTACTS)
