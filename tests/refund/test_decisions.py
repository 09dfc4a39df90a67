"""Staff decide refund requests under review (policy clause 4): a part refund goes back to the original payment
through Razorpay with an idempotency key, takes the credit back out of the wallet, reverses the ledger and issues a
GST credit note; never more than paid and not yet refunded, nor more credit than is unused; two staff approving at
once refund once; Razorpay's refund webhooks, duplicated, change nothing more; a failed payout is reversed and can
be retried."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import func, select

from softdukan.backoffice.models import StaffUser
from softdukan.billing.models import BillingDocument
from softdukan.notification.models import OutboundEmail
from softdukan.sandbox.razorpay.models import SandboxRzpRefund, SandboxRzpWebhookDelivery
from softdukan.wallet import accounts
from tests.refund.helpers import counts, request_row, review_ready, staff_row, under_review
from tests.support_tickets.helpers import csrf_from, staff_session
from tests.wallet.support import ledger_findings


async def _decide(staff: httpx.AsyncClient, request_id: int, action: str, data: dict[str, str]) -> httpx.Response:
    page = await staff.get(f"/backoffice/refunds/{request_id}")
    return await staff.post(f"/backoffice/refunds/{request_id}/{action}",
                            data={**data, "csrf_token": csrf_from(page.text)})


async def _wallet_units(runtime, org_id: int) -> int:  # type: ignore[no-untyped-def]
    async with runtime.sessionmaker() as session:
        wallet = await accounts.peek_wallet(session, org_id)
    assert wallet is not None
    return wallet.credits_posted - wallet.debits_posted - wallet.debits_pending


async def test_clause_4_staff_refund_part_of_a_top_up_with_a_credit_note(client, runtime, settings, app,
                                                                         drain_jobs, shop) -> None:
    topup, request_id = await review_ready(client, runtime, settings, shop, drain_jobs)  # ₹1,000 + GST = ₹1,180
    before = await _wallet_units(runtime, shop.org.id)
    async with staff_session(app) as staff:
        queue = await staff.get("/backoffice/refunds")
        assert f'id="refund-{request_id}"' in queue.text
        page = await staff.get(f"/backoffice/refunds/{request_id}")
        assert "No template message was delivered" in page.text and "₹1,180.00" in page.text
        for data, field in (({"amount": "abc", "note": "Two weeks of outage."}, "Enter the amount in rupees"),
                            ({"amount": "0.50", "note": "Two weeks of outage."}, "at least ₹1.00"),
                            ({"amount": "1180.01", "note": "Two weeks of outage."}, "At most ₹1,180.00"),
                            ({"amount": "500", "note": ""}, "Write the reason for the decision")):
            refused = await _decide(staff, request_id, "approve", data)
            assert refused.status_code == 422 and field in refused.text, (data, refused.text[-800:])
        assert (await request_row(runtime, request_id)).state == "under_review"  # nothing changed
        assert await counts(runtime) == {"razorpay_refunds": 0, "approvals": 0, "paid": 0, "credit_notes": 0}

        approved = await _decide(staff, request_id, "approve", {"amount": "500", "note": "Two weeks of outage."})
        assert approved.status_code == 303, approved.text[-800:]
    row = await request_row(runtime, request_id)
    assert row.state == "refunded" and 49_997 <= (row.approved_paise or 0) <= 50_000  # a credit note rounds
    assert (row.decided_by, row.decision_policy_version) == ("Sam Staff", 1)
    assert await _wallet_units(runtime, shop.org.id) == before - (row.approved_taxable_paise or 0) * 100
    async with runtime.sessionmaker() as session:
        note = await session.get(BillingDocument, row.credit_note_id)
        assert note is not None and note.doc_type == "credit_note" and note.original_id == topup.invoice_id
        assert (note.total_paise, note.taxable_paise) == (row.approved_paise, row.approved_taxable_paise)
        mails = [m.subject for m in (await session.execute(select(OutboundEmail).where(
            OutboundEmail.to_address == shop.owner.email))).scalars()]
    assert f"Refund request {request_id}: approved" in mails and f"Refund request {request_id}: refunded" in mails
    assert await counts(runtime) == {"razorpay_refunds": 1, "approvals": 1, "paid": 1, "credit_notes": 1}
    await drain_jobs()  # refund.created and refund.processed arrive after the call recorded it: nothing more
    assert await counts(runtime) == {"razorpay_refunds": 1, "approvals": 1, "paid": 1, "credit_notes": 1}
    assert await ledger_findings(runtime) == []

    seen = (await client.get(f"/v1/refund-requests/{request_id}", headers=shop.auth)).json()
    assert (seen["state"], seen["decided_by"], seen["credit_note_id"]) == ("refunded", "Sam Staff", note.id)
    assert [e["kind"] for e in seen["events"]] == ["submitted", "under_review", "approved", "processing", "refunded"]
    assert all(e["policy_version"] == 1 for e in seen["events"])

    # what is left: ₹1,180 − the refund; a second request may get at most that
    again = await under_review(client, shop, topup.razorpay_payment_id)
    async with staff_session(app) as staff:
        over = await _decide(staff, again, "approve", {"amount": "700", "note": "The rest of the outage."})
        assert over.status_code == 422 and "At most ₹" in over.text
        assert (await request_row(runtime, again)).state == "under_review"


async def test_refunds_of_credits_stop_at_the_unused_purchased_credit(client, runtime, settings, app, drain_jobs,
                                                                      shop) -> None:
    _, request_id = await review_ready(client, runtime, settings, shop, drain_jobs)
    from softdukan.ledger import service as ledger
    from softdukan.platform.uow import unit_of_work

    # sign-up credit (granted, no payment) is counted as unused first; spend all but ₹100 of what was bought
    async with unit_of_work(runtime) as uow:
        spendable = await _wallet_units(runtime, shop.org.id) - settings.signup_credit_units - 100 * 10_000
        hold = await accounts.hold(uow.session, shop.org.id, key="spend", amount=spendable,
                                   expires_at=uow.clock.now(), now=uow.clock.now())
        await ledger.settle(uow.session, hold, amount=spendable, resolution_key="spend:settled", now=uow.clock.now())
    async with staff_session(app) as staff:
        over = await _decide(staff, request_id, "approve", {"amount": "200", "note": "Two weeks of outage."})
        assert over.status_code == 422 and "of purchased credit is unused" in over.text
        ok = await _decide(staff, request_id, "approve", {"amount": "118", "note": "Two weeks of outage."})
        assert ok.status_code == 303, ok.text[-600:]
    assert (await request_row(runtime, request_id)).state == "refunded"
    assert await _wallet_units(runtime, shop.org.id) == settings.signup_credit_units  # the grant stays
    assert await ledger_findings(runtime) == []


async def test_two_staff_approving_at_once_refund_once(client, runtime, settings, app, drain_jobs, shop) -> None:
    _, request_id = await review_ready(client, runtime, settings, shop, drain_jobs)
    from tests.support_tickets.helpers import make_staff

    await make_staff(settings, email="kim@staff.example.com", name="Kim Staff")
    async with staff_session(app) as sam, staff_session(app, "kim@staff.example.com") as kim:
        pages = [await who.get(f"/backoffice/refunds/{request_id}") for who in (sam, kim)]
        answers = await asyncio.gather(*(who.post(f"/backoffice/refunds/{request_id}/approve", data={
            "amount": amount, "note": "Two weeks of outage.", "csrf_token": csrf_from(page.text)})
            for who, page, amount in ((sam, pages[0], "600"), (kim, pages[1], "700"))))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [303, 409], [a.text[-400:] for a in answers]
    loser = next(answer for answer in answers if answer.status_code == 409)
    assert "already" in loser.text
    row = await request_row(runtime, request_id)
    assert row.state == "refunded" and row.approved_paise in (60_000, 70_000)
    await drain_jobs()
    assert await counts(runtime) == {"razorpay_refunds": 1, "approvals": 1, "paid": 1, "credit_notes": 1}
    assert await ledger_findings(runtime) == []


async def test_duplicated_refund_webhooks_change_nothing_more(client, runtime, settings, app, drain_jobs,
                                                              shop) -> None:
    topup, request_id = await review_ready(client, runtime, settings, shop, drain_jobs)
    async with staff_session(app) as staff:
        assert (await _decide(staff, request_id, "approve", {"amount": "1180", "note": "The whole outage."})
                ).status_code == 303
    await drain_jobs()
    async with runtime.sessionmaker() as session:
        processed = (await session.execute(select(SandboxRzpWebhookDelivery.event_id).where(
            SandboxRzpWebhookDelivery.event == "refund.processed"))).scalars().first()
    assert processed
    for _ in range(3):  # Razorpay redelivers: the same event id and body
        redelivered = await client.post(f"/sandbox/razorpay/_sandbox/events/{processed}/redeliver")
        assert redelivered.status_code == 200, redelivered.text
    await drain_jobs()
    await drain_jobs()
    row = await request_row(runtime, request_id)
    assert (row.state, row.approved_paise) == ("refunded", topup.total_paise)  # all of it: the exact remainder
    assert await counts(runtime) == {"razorpay_refunds": 1, "approvals": 1, "paid": 1, "credit_notes": 1}
    assert await ledger_findings(runtime) == []


async def test_a_failed_payout_is_reversed_and_can_be_retried(client, runtime, settings, app, drain_jobs,
                                                              shop) -> None:
    topup, request_id = await review_ready(client, runtime, settings, shop, drain_jobs)
    before = await _wallet_units(runtime, shop.org.id)
    failing = await client.post(f"/sandbox/razorpay/_sandbox/payments/{topup.razorpay_payment_id}/fail-refunds",
                                json={})
    assert failing.status_code == 200
    async with staff_session(app) as staff:
        assert (await _decide(staff, request_id, "approve", {"amount": "300", "note": "A week of outage."})
                ).status_code == 303
        await drain_jobs()
        row = await request_row(runtime, request_id)
        assert row.state == "failed" and "could not pay" in (row.failure or "")
        assert await _wallet_units(runtime, shop.org.id) == before  # the approval is reversed
        assert await counts(runtime) == {"razorpay_refunds": 0, "approvals": 1, "paid": 0, "credit_notes": 0}
        assert await ledger_findings(runtime) == []

        await client.post(f"/sandbox/razorpay/_sandbox/payments/{topup.razorpay_payment_id}/fail-refunds",
                          json={"fail": False})
        retried = await _decide(staff, request_id, "retry", {})
        assert retried.status_code == 303, retried.text[-600:]
    await drain_jobs()
    row = await request_row(runtime, request_id)
    assert (row.state, row.attempt) == ("refunded", 2)
    assert await counts(runtime) == {"razorpay_refunds": 1, "approvals": 2, "paid": 1, "credit_notes": 1}
    assert await ledger_findings(runtime) == []


async def test_staff_reject_or_ask_and_the_customer_answers_or_withdraws(client, runtime, settings, app,
                                                                         drain_jobs, shop) -> None:
    topup, request_id = await review_ready(client, runtime, settings, shop, drain_jobs)
    async with staff_session(app) as staff:
        asked = await _decide(staff, request_id, "ask", {"note": "Which numbers were affected, and when?"})
        assert asked.status_code == 303
        early = await _decide(staff, request_id, "approve", {"amount": "100", "note": "Too early to approve."})
        assert early.status_code == 409 and "needs info" in early.text
    answered = await client.post(f"/v1/refund-requests/{request_id}/answer", headers=shop.auth,
                                 json={"info": "Both numbers, from 3 to 17 November, every broadcast."})
    assert answered.status_code == 200 and answered.json()["state"] == "under_review"
    async with staff_session(app) as staff:
        rejected = await _decide(staff, request_id, "reject", {"note": "The outage was on Meta's side."})
        assert rejected.status_code == 303
        twice = await _decide(staff, request_id, "reject", {"note": "The outage was on Meta's side."})
        assert twice.status_code == 409
    seen = (await client.get(f"/v1/refund-requests/{request_id}", headers=shop.auth)).json()
    assert (seen["state"], seen["decided_by"], seen["decision_note"]) == ("rejected", "Sam Staff",
                                                                          "The outage was on Meta's side.")
    assert [e["kind"] for e in seen["events"]] == ["submitted", "under_review", "needs_info", "under_review",
                                                   "rejected"]
    assert await counts(runtime) == {"razorpay_refunds": 0, "approvals": 0, "paid": 0, "credit_notes": 0}

    other = await under_review(client, shop, topup.razorpay_payment_id)  # a rejected request is closed
    withdrawn = await client.post(f"/v1/refund-requests/{other}/withdraw", headers=shop.auth)
    assert withdrawn.status_code == 200 and withdrawn.json()["state"] == "withdrawn"
    again = await client.post(f"/v1/refund-requests/{other}/withdraw", headers=shop.auth)
    assert again.status_code == 409


@pytest.fixture
def web_only_server(runtime, settings):  # type: ignore[no-untyped-def]
    """The product on a real port without its own job runner (the test runs the jobs)."""
    from softdukan.main import create_app
    from tests.support.services import LiveServer

    server = LiveServer(lambda: create_app(served, background=False))
    served = settings.model_copy(update={"base_url": server.url})
    server.settings = served  # type: ignore[attr-defined]
    server.start()
    yield server
    server.stop()


async def test_a_crash_around_the_razorpay_call_recovers_through_the_payout_job(client, runtime, settings, app,
                                                                                web_only_server, drain_jobs,
                                                                                shop) -> None:
    """Crash points of the reference: after the approval commits but before Razorpay is asked, and after Razorpay
    refunded but before we recorded it. The `refund.execute` job (real HTTP, as a worker runs it) finishes both,
    and Razorpay's idempotency key makes the second call return the first refund."""
    from softdukan.platform.runtime import build_runtime
    from softdukan.platform.uow import unit_of_work
    from softdukan.refund import decision, execution
    from softdukan.wallet.recharge import client_for

    worker = build_runtime(web_only_server.settings)  # a worker process: no app in reach, Razorpay over HTTP
    try:
        for crash_after_call in (False, True):
            topup, request_id = await review_ready(client, runtime, settings, shop, drain_jobs)
            async with unit_of_work(runtime) as uow:  # the staff page's transaction commits, then the process dies
                member = await uow.session.get(StaffUser, (await staff_row(runtime)).id)
                assert member is not None
                approved = await decision.approve(uow, member, request_id, "250", "A short outage.")
                key, amount, attempt = execution.idempotency_key(approved), approved.approved_paise, approved.attempt
            if crash_after_call:  # Razorpay refunded; the process died before recording it
                async with client_for(settings, app) as razorpay:
                    await razorpay.refund(topup.razorpay_payment_id, amount=amount, idempotency_key=key, notes={
                        "refund_request_id": str(request_id), "attempt": str(attempt)})
            assert (await request_row(runtime, request_id)).state == "approved"
            async with unit_of_work(worker) as uow:
                await execution.execute(uow, request_id, attempt)
            row = await request_row(runtime, request_id)
            assert row.state == "refunded" and row.credit_note_id is not None
            await drain_jobs()  # the webhooks of it, late: nothing more
            await drain_jobs()
            # a new request for the rest of the payment next round: withdraw nothing, the first is closed
            async with runtime.sessionmaker() as session:
                refunds = await session.scalar(select(func.count()).select_from(SandboxRzpRefund))
            assert refunds == (1 if not crash_after_call else 2)  # one Razorpay refund per request, never two
        assert await counts(runtime) == {"razorpay_refunds": 2, "approvals": 2, "paid": 2, "credit_notes": 2}
        assert await ledger_findings(runtime) == []
    finally:
        await worker.close()


async def test_clause_8_a_decision_records_the_policy_version_in_force_when_it_is_made(client, runtime, settings,
                                                                                       app, drain_jobs,
                                                                                       shop) -> None:
    from softdukan.platform.uow import unit_of_work
    from softdukan.policy.service import policy_service

    _, request_id = await review_ready(client, runtime, settings, shop, drain_jobs)  # weighed under version 1
    async with unit_of_work(runtime) as uow:  # staff amend the policy while the request waits
        member = await uow.session.get(StaffUser, (await staff_row(runtime)).id)
        assert member is not None
        await policy_service.post(uow, member, "refund_policy", title="Cancellation & Refund Policy",
                                  body="## 4. Technical issues\n\nStaff may refund part or all.",
                                  change_summary="Clause 4 reworded.")
    async with staff_session(app) as staff:
        assert (await _decide(staff, request_id, "approve", {"amount": "100", "note": "A day of outage."})
                ).status_code == 303
    seen = (await client.get(f"/v1/refund-requests/{request_id}", headers=shop.auth)).json()
    assert (seen["policy_version"], seen["decision_policy_version"]) == (1, 2)
    versions = {e["kind"]: e["policy_version"] for e in seen["events"]}
    assert (versions["submitted"], versions["approved"]) == (1, 2)
