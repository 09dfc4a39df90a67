"""What the organization sees (issue 5 items 4 and 7): balance and held amount, usage by month, category and country
with the messages behind it and a CSV, the charge on each message, the low-balance alert (e-mail and banner)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from sqlalchemy import select

from softdukan.notification.models import OutboundEmail
from tests.conversation.test_statuses import send_statuses
from tests.support.factories import browser_sign_in, form_post
from tests.support.whatsapp import status
from tests.support.whatsapp_fixtures import T0
from tests.wallet.support import held_template, wallet

REGULAR = {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "marketing"}
UTILITY = {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "utility"}


async def charged(client, runtime, drain_jobs, wa) -> list[int]:  # type: ignore[no-untyped-def]
    """Two marketing messages to India, one utility to the UAE, delivered; one more marketing to the first customer
    still held."""
    ids = [await held_template(runtime, wa, wamid="wamid.a", to="919800000001"),
           await held_template(runtime, wa, wamid="wamid.b", to="919800000002"),
           await held_template(runtime, wa, wamid="wamid.c", to="971501234567", category="UTILITY"),
           await held_template(runtime, wa, wamid="wamid.d", to="919800000001")]  # a's conversation
    await send_statuses(client, drain_jobs, wa,
                        status("wamid.a", "delivered", T0, recipient="919800000001", pricing=REGULAR),
                        status("wamid.b", "read", T0, recipient="919800000002", pricing=REGULAR),
                        status("wamid.c", "delivered", T0, recipient="971501234567", pricing=UTILITY))
    return ids


async def test_the_api_shows_balance_held_usage_and_the_charges_behind_it(client, runtime, drain_jobs, wa) -> None:
    ids = await charged(client, runtime, drain_jobs, wa)
    auth = wa.org.auth
    body = (await client.get("/v1/wallet", headers=auth)).json()
    assert body["held_units"] == 8846 and body["available_units"] == body["balance_units"] - 8846
    usage = (await client.get("/v1/wallet/usage", params={"month": "2025-09"}, headers=auth)).json()
    assert usage["total_units"] == 2 * 8846 + 13816 + 200 and usage["messages"] == 3
    assert {line["key"]: (line["messages"], line["units"]) for line in usage["by_category"]} == {
        "marketing": (2, 2 * 8846), "utility": (1, 13816 + 200)}
    assert {line["key"]: line["messages"] for line in usage["by_country"]} == {"IN": 2, "AE": 1}
    assert [m["month"] for m in usage["months"]][:1] == ["2025-09"]
    india = (await client.get("/v1/wallet/charges", params={"month": "2025-09", "country": "IN"},
                              headers=auth)).json()
    assert sorted(c["message_id"] for c in india) == sorted(ids[:2])
    message = (await client.get(f"/v1/messages/{ids[0]}", headers=auth)).json()
    assert message["charge"] == {"state": "charged", "category": "marketing", "market": "IN", "held_units": 8846,
                                 "charged_units": 8846}
    empty = (await client.get("/v1/wallet/usage", params={"month": "2025-08"}, headers=auth)).json()
    assert (empty["total_units"], empty["by_category"]) == (0, [])
    bad = await client.get("/v1/wallet/usage", params={"month": "2025-13"}, headers=auth)
    assert bad.status_code in (400, 422) and bad.json()["error"]["code"] in ("invalid_month", "validation_error")


async def test_the_credits_page_drills_down_exports_and_shows_charges_on_messages(client, runtime, drain_jobs,
                                                                                  wa) -> None:
    ids = await charged(client, runtime, drain_jobs, wa)
    await browser_sign_in(client, wa.org.owner.email)
    page = await client.get("/settings/credits", params={"month": "2025-09"})
    assert page.status_code == 200
    assert 'id="usage-by-category"' in page.text and "United Arab Emirates" in page.text and "₹1.4016" in page.text
    drill = await client.get("/settings/credits/charges", params={"month": "2025-09", "category": "utility"})
    assert drill.status_code == 200 and "+971501234567" in drill.text and "+919800000001" not in drill.text
    exported = await client.get("/settings/credits/usage.csv", params={"month": "2025-09"})
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert exported.headers["content-type"].startswith("text/csv") and len(rows) == 3
    assert sum(int(r["charged_units"]) for r in rows) == 2 * 8846 + 14016
    message = (await client.get(f"/v1/messages/{ids[3]}", headers=wa.org.auth)).json()
    thread = await client.get(f"/conversations/{message['conversation_id']}")
    assert 'data-charge-state="charged"' in thread.text and 'data-charge-state="held"' in thread.text


async def test_the_low_balance_alert_mails_once_per_fall_and_shows_a_banner(client, runtime, drain_jobs, wa,
                                                                           clock) -> None:
    await browser_sign_in(client, wa.org.owner.email)
    summary = await wallet(runtime, wa.org.org.id)
    threshold = (summary.available_units - 8846 * 2 + 5000) // 10_000  # in rupees: crossed by the second message
    saved = await form_post(client, "/settings/credits/alert", {"threshold": str(threshold)},
                            page="/settings/credits")
    assert saved.status_code == 303
    assert "low-balance" not in (await client.get("/settings/credits/banner")).text
    for i in range(4):
        await held_template(runtime, wa, wamid=f"wamid.l{i}", to=f"91980000010{i}")
    async with runtime.sessionmaker() as session:
        mails = (await session.execute(select(OutboundEmail).where(
            OutboundEmail.subject.like("%credits low%")))).scalars().all()
    assert [m.to_address for m in mails] == [wa.org.owner.email]
    assert 'data-testid="low-balance"' in (await client.get("/settings/credits/banner")).text
    bad = await form_post(client, "/settings/credits/alert", {"threshold": "-3"}, page="/settings/credits")
    assert bad.status_code == 422 and "not less than 0" in bad.text
    patched = await client.patch("/v1/wallet", json={"low_balance_threshold_units": 0}, headers=wa.org.auth)
    assert patched.status_code == 200 and patched.json()["low"] is False
    assert (await client.patch("/v1/wallet", json={"low_balance_threshold_units": -1},
                               headers=wa.org.auth)).status_code == 422
    clock.advance(seconds=timedelta(hours=1).total_seconds())


async def test_a_new_organization_with_the_welcome_credit_starts_without_an_alert(runtime) -> None:
    from tests.support.factories import make_org
    from tests.wallet.support import empty_wallet, fund

    org = await make_org(runtime)
    await empty_wallet(runtime, org.org.id)
    await fund(runtime, org.org.id, 500_000, "welcome-size")  # ₹50, the default welcome credit
    summary = await wallet(runtime, org.org.id)
    assert (summary.available_units, summary.low) == (500_000, False)
    assert summary.low_balance_units < 500_000
