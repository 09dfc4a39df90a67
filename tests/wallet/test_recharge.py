"""Recharging the wallet (issue 5 item 5): amount + GST → Razorpay order → the sandbox's checkout → credited with a
GST invoice on the verified payment (the checkout's return, fetched server side, or the signed webhook), once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urlparse

import httpx
import pytest
from sqlalchemy import func, select

from softdukan.billing.models import BillingDocument
from softdukan.ledger.models import LedgerTransaction
from softdukan.sandbox.graph.webhooks import use_transport
from softdukan.wallet.models import Topup
from tests.support.factories import browser_sign_in, form_post, make_org
from tests.wallet.support import ledger_findings, wallet

RUPEES_1000 = 1000 * 100  # paise


@pytest.fixture
async def shop(runtime, app, client) -> AsyncIterator:  # type: ignore[no-untyped-def]
    org = await make_org(runtime, "Chai Point")
    use_transport(httpx.ASGITransport(app=app))  # the sandbox's webhooks come back into this app
    try:
        yield org
    finally:
        use_transport(None)


async def topups(runtime) -> list[Topup]:  # type: ignore[no-untyped-def]
    async with runtime.sessionmaker() as session:
        return list((await session.execute(select(Topup).order_by(Topup.id))).scalars())


async def invoices(runtime) -> list[BillingDocument]:  # type: ignore[no-untyped-def]
    async with runtime.sessionmaker() as session:
        return list((await session.execute(select(BillingDocument).where(
            BillingDocument.doc_type == "invoice"))).scalars())


async def topup_transactions(runtime) -> int:  # type: ignore[no-untyped-def]
    async with runtime.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(LedgerTransaction).where(
            LedgerTransaction.kind == "topup")) or 0)


async def pay(client: httpx.AsyncClient, order_id: str) -> dict[str, str]:
    response = await client.post(f"/sandbox/razorpay/_sandbox/orders/{order_id}/pay", json={})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_add_credits_from_the_dashboard_credits_once_with_a_gst_invoice(client, runtime, drain_jobs,
                                                                               shop) -> None:
    before = await wallet(runtime, shop.org.id)
    await browser_sign_in(client, shop.owner.email)
    page = await client.get("/settings/credits")
    assert page.status_code == 200 and "Add credits" in page.text and "18% GST" in page.text
    started = await form_post(client, "/settings/credits/recharge", {"amount": "1,000"}, page="/settings/credits")
    assert started.status_code == 303, started.text
    (topup,) = await topups(runtime)
    assert (topup.state, topup.taxable_paise, topup.cgst_paise, topup.sgst_paise, topup.total_paise) == (
        "paying", RUPEES_1000, 9000, 9000, 118000)  # no billing profile: the supplier's state, CGST + SGST
    assert urlparse(started.headers["location"]).path == f"/settings/credits/recharges/{topup.id}/pay"
    pay_page = await client.get(started.headers["location"])  # Razorpay Checkout opens over it (checkout.js)
    assert pay_page.status_code == 200, pay_page.text
    order_id = topup.razorpay_order_id
    assert order_id and f'"order_id": "{order_id}"' in pay_page.text and '"amount": 118000' in pay_page.text
    assert f'"key": "{runtime.settings.razorpay_keys[0]}"' in pay_page.text
    assert 'src="http://testserver/sandbox/razorpay/v1/checkout.js"' in pay_page.text  # the sandbox's stand-in
    script = await client.get("/sandbox/razorpay/v1/checkout.js")
    assert script.status_code == 200 and "window.Razorpay = Razorpay" in script.text
    paid = await pay(client, order_id)  # what the checkout's handler receives, signed
    back = f"/settings/credits/recharges/{topup.id}/return"
    returned = await client.get(back, params={k: paid[k] for k in ("razorpay_payment_id", "razorpay_order_id",
                                                                     "razorpay_signature")})
    assert returned.status_code == 303 and returned.headers["location"].endswith("flash=credited")
    after = await wallet(runtime, shop.org.id)
    assert after.balance_units == before.balance_units + RUPEES_1000 * 100
    (invoice,) = await invoices(runtime)
    assert (invoice.total_paise, invoice.cgst_paise, invoice.sgst_paise, invoice.source) == (
        118000, 9000, 9000, "wallet_recharge")
    await drain_jobs()  # payment.captured and order.paid arrive, signed: they find it credited
    assert (await wallet(runtime, shop.org.id)).balance_units == after.balance_units
    assert await topup_transactions(runtime) == 1 and len(await invoices(runtime)) == 1
    page = await client.get("/settings/credits")
    assert invoice.number is not None and invoice.number in page.text and 'data-state="credited"' in page.text
    again = await client.get(f"/settings/credits/recharges/{topup.id}/pay")  # paid: nothing to pay any more
    assert again.status_code == 303 and again.headers["location"].endswith("flash=credited")
    assert await ledger_findings(runtime) == []


async def test_the_webhook_alone_credits_and_replays_change_nothing(client, runtime, drain_jobs, shop) -> None:
    before = await wallet(runtime, shop.org.id)
    created = await client.post("/v1/wallet/recharges", json={"amount_paise": 50_000}, headers=shop.auth)
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["state"], body["total_paise"]) == ("paying", 59_000) and "/checkout/" in body["checkout_url"]
    assert body["razorpay_key_id"] == runtime.settings.razorpay_keys[0]
    await pay(client, body["razorpay_order_id"])
    await drain_jobs()
    assert (await wallet(runtime, shop.org.id)).balance_units == before.balance_units + 50_000 * 100
    deliveries = (await client.get("/sandbox/razorpay/_sandbox/deliveries")).json()["data"]
    captured = [d for d in deliveries if d["event"] in ("payment.captured", "order.paid")]
    assert len(captured) == 2
    for delivery in captured * 2:  # Razorpay retries and replays: same event ids, same bodies
        assert (await client.post(f"/sandbox/razorpay/_sandbox/events/{delivery['event_id']}/redeliver")
                ).status_code == 200
    await drain_jobs()
    assert (await wallet(runtime, shop.org.id)).balance_units == before.balance_units + 50_000 * 100
    assert await topup_transactions(runtime) == 1 and len(await invoices(runtime)) == 1
    got = (await client.get(f"/v1/wallet/recharges/{body['id']}", headers=shop.auth)).json()
    assert got["state"] == "credited" and got["invoice_id"] is not None
    assert await ledger_findings(runtime) == []


async def test_a_failed_or_abandoned_payment_credits_nothing(client, runtime, drain_jobs, shop) -> None:
    before = await wallet(runtime, shop.org.id)
    failed = (await client.post("/v1/wallet/recharges", json={"amount_paise": 10_000}, headers=shop.auth)).json()
    abandoned = (await client.post("/v1/wallet/recharges", json={"amount_paise": 20_000}, headers=shop.auth)).json()
    response = await client.post(f"/sandbox/razorpay/_sandbox/orders/{failed['razorpay_order_id']}/fail", json={})
    assert response.status_code == 200, response.text
    await drain_jobs()
    states = {t.id: t.state for t in await topups(runtime)}
    assert (states[failed["id"]], states[abandoned["id"]]) == ("failed", "paying")
    assert await wallet(runtime, shop.org.id) == before and await invoices(runtime) == []


async def test_a_forged_checkout_return_credits_nothing(client, runtime, drain_jobs, shop) -> None:
    await browser_sign_in(client, shop.owner.email)
    created = (await client.post("/v1/wallet/recharges", json={"amount_paise": 10_000}, headers=shop.auth)).json()
    before = await wallet(runtime, shop.org.id)
    response = await client.get(f"/settings/credits/recharges/{created['id']}/return", params={
        "razorpay_payment_id": "pay_forged000001", "razorpay_order_id": created["razorpay_order_id"],
        "razorpay_signature": "0" * 64})
    assert response.status_code == 422 and "not genuine" in response.text
    assert await wallet(runtime, shop.org.id) == before and await invoices(runtime) == []


@pytest.mark.parametrize("amount", [0, -500, 99, 50_000_001, "1000", 10.5, True])
async def test_absurd_amounts_are_refused_and_nothing_is_ordered(client, runtime, shop, amount) -> None:
    response = await client.post("/v1/wallet/recharges", json={"amount_paise": amount}, headers=shop.auth)
    assert response.status_code in (400, 422), response.text
    assert response.json()["error"]["code"] in ("invalid_amount", "validation_error", "invalid_input")
    assert await topups(runtime) == []
    assert (await client.get("/sandbox/razorpay/_sandbox/deliveries")).json()["data"] == []


async def test_the_dashboard_explains_a_bad_amount(client, runtime, shop) -> None:
    await browser_sign_in(client, shop.owner.email)
    response = await form_post(client, "/settings/credits/recharge", {"amount": "12.345"}, page="/settings/credits")
    assert response.status_code == 422 and "at most two decimals" in response.text
    response = await form_post(client, "/settings/credits/recharge", {"amount": "-5"}, page="/settings/credits")
    assert response.status_code == 422 and "₹1 to ₹5,00,000" in response.text
    assert await topups(runtime) == []
