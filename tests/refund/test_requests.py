"""Refund requests at submission (policy clauses 3, 4 and 7): a request names its transaction and gives a reason
or is refused with nothing stored; the engine refuses non-refundable charges citing clause 3 and the policy
version, unless support verified technical issues since the payment (clause 4), which send it to staff."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from softdukan.backoffice.models import StaffUser
from softdukan.billing.models import BillingDocument
from softdukan.platform.uow import unit_of_work
from softdukan.refund.models import RefundRequest
from softdukan.support.service import ticket_service
from tests.refund.helpers import REASON, paid_recharge
from tests.support.factories import browser_sign_in, form_post, make_org
from tests.support_tickets.helpers import make_staff, open_ticket


async def _count(runtime) -> int:  # type: ignore[no-untyped-def]
    async with runtime.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(RefundRequest)) or 0)


async def test_clause_7_refund_process_a_request_names_its_transaction_and_gives_a_reason(client, runtime,
                                                                                          drain_jobs, shop) -> None:
    topup = await paid_recharge(client, runtime, shop, drain_jobs)
    for body, code in (({"reason": REASON}, "transaction_required"),
                       ({"transaction_ref": "   ", "reason": REASON}, "transaction_required"),
                       ({"transaction_ref": topup.razorpay_payment_id, "reason": "refund pls"}, "reason_required"),
                       ({"transaction_ref": topup.razorpay_payment_id}, "reason_required")):
        refused = await client.post("/v1/refund-requests", json=body, headers=shop.auth)
        assert (refused.status_code, refused.json()["error"]["code"]) == (422, code), refused.text
    other = await make_org(runtime, "Other Shop")  # another organization's payment does not exist for it
    foreign = await client.post("/v1/refund-requests", json={"transaction_ref": topup.razorpay_payment_id,
                                                             "reason": REASON}, headers=other.auth)
    assert foreign.status_code == 404 and foreign.json()["error"]["code"] == "transaction_not_found"
    assert await _count(runtime) == 0  # nothing stored for any of them

    await browser_sign_in(client, shop.owner.email)  # the dashboard says the same, keeping what was typed
    page = await form_post(client, "/billing/refunds", {"transaction_ref": "", "reason": REASON},
                           page="/billing/refunds")
    assert page.status_code == 422 and "Name the transaction" in page.text and REASON in page.text
    assert await _count(runtime) == 0


async def test_clause_3_non_refundable_charges_are_refused_citing_the_clause_and_the_policy_version(
        client, runtime, drain_jobs, shop) -> None:
    topup = await paid_recharge(client, runtime, shop, drain_jobs)
    made = await client.post("/v1/refund-requests", json={"transaction_ref": topup.razorpay_payment_id,
                                                          "reason": REASON}, headers=shop.auth)
    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["state"], body["clause"], body["charge_class"], body["policy_version"]) == (
        "rejected", "3", "credits", 1)
    assert "non-refundable (clause 3" in body["reasoning"] and body["paid_paise"] == topup.total_paise
    assert [e["kind"] for e in body["events"]] == ["submitted", "rejected"]
    async with runtime.sessionmaker() as session:  # the invoice number names the same payment
        invoice = await session.get(BillingDocument, topup.invoice_id)
    assert invoice is not None and invoice.number
    by_invoice = await client.post("/v1/refund-requests", json={"transaction_ref": invoice.number.lower(),
                                                                "reason": REASON}, headers=shop.auth)
    assert by_invoice.status_code == 201 and by_invoice.json()["payment_id"] == topup.razorpay_payment_id

    await browser_sign_in(client, shop.owner.email)
    page = await client.get(f"/billing/refunds/{body['id']}")
    assert page.status_code == 200 and "clause 3" in page.text and "policy version 1" in page.text


async def test_clause_4_verified_technical_issues_send_the_request_to_staff(client, runtime, settings,
                                                                            drain_jobs, shop) -> None:
    topup = await paid_recharge(client, runtime, shop, drain_jobs)
    staff = await make_staff(settings)
    ticket = await open_ticket(runtime, shop, category="technical", subject="Messages not delivered",
                               body="Nothing has gone out since Monday.")
    async with unit_of_work(runtime) as uow:
        member = await uow.session.get(StaffUser, staff.id)
        assert member is not None
        now = uow.clock.now()
        await ticket_service.verify(uow, member, ticket.id, started_at=now - timedelta(days=1), ended_at=None,
                                    impact="No template message was delivered")
    made = await client.post("/v1/refund-requests", json={"transaction_ref": topup.razorpay_payment_id,
                                                          "reason": REASON}, headers=shop.auth)
    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["state"], body["clause"]) == ("under_review", "4")
    assert "ticket #1" in body["reasoning"] and "No template message was delivered" in body["reasoning"]
    again = await client.post("/v1/refund-requests", json={"transaction_ref": topup.razorpay_payment_id,
                                                           "reason": REASON}, headers=shop.auth)
    assert again.status_code == 409 and again.json()["error"]["code"] == "refund_request_open"
