"""Refund test helpers: a paid top-up or plan, a verified technical issue, a request under review, and the staff
member who decides it — all through the product's own paths and the Razorpay sandbox."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import func, select

from softdukan.backoffice.models import StaffUser
from softdukan.billing.models import BillingDocument
from softdukan.config import Settings
from softdukan.ledger.models import LedgerTransaction
from softdukan.platform.runtime import Runtime
from softdukan.platform.uow import unit_of_work
from softdukan.refund.models import RefundRequest
from softdukan.sandbox.razorpay.models import SandboxRzpRefund
from softdukan.support.service import ticket_service
from softdukan.wallet.models import Topup
from tests.support.factories import OrgFixture
from tests.support_tickets.helpers import make_staff, open_ticket

REASON = "The numbers kept disconnecting for two weeks and no message went out."


async def paid_recharge(client: httpx.AsyncClient, runtime: Runtime, org: OrgFixture, drain_jobs,  # type: ignore[no-untyped-def]
                        amount_paise: int = 100_000) -> Topup:
    created = (await client.post("/v1/wallet/recharges", json={"amount_paise": amount_paise},
                                 headers=org.auth)).json()
    paid = await client.post(f"/sandbox/razorpay/_sandbox/orders/{created['razorpay_order_id']}/pay", json={})
    assert paid.status_code == 200, paid.text
    await drain_jobs()
    async with runtime.sessionmaker() as session:
        topup = await session.get(Topup, created["id"])
    assert topup is not None and topup.state == "credited" and topup.razorpay_payment_id
    return topup


async def verified_issue(runtime: Runtime, settings: Settings, org: OrgFixture, *,
                         staff_email: str = "sam@staff.example.com") -> StaffUser:
    """A technical-issue ticket support verified (ongoing since yesterday); the verifying staff member."""
    async with unit_of_work(runtime) as uow:
        found = await uow.session.scalar(select(StaffUser).where(StaffUser.email == staff_email))
    staff = found or await make_staff(settings, email=staff_email)
    ticket = await open_ticket(runtime, org, category="technical", subject="Messages not delivered",
                               body="Nothing has gone out since Monday.")
    async with unit_of_work(runtime) as uow:
        member = await uow.session.get(StaffUser, staff.id)
        assert member is not None
        await ticket_service.verify(uow, member, ticket.id, started_at=uow.clock.now() - timedelta(days=1),
                                    ended_at=None, impact="No template message was delivered")
    return staff


async def under_review(client: httpx.AsyncClient, org: OrgFixture, payment_id: str) -> int:
    made = await client.post("/v1/refund-requests", json={"transaction_ref": payment_id, "reason": REASON},
                             headers=org.auth)
    assert made.status_code == 201 and made.json()["state"] == "under_review", made.text
    return int(made.json()["id"])


async def staff_row(runtime: Runtime, email: str = "sam@staff.example.com") -> StaffUser:
    async with runtime.sessionmaker() as session:
        found = await session.scalar(select(StaffUser).where(StaffUser.email == email))
    assert found is not None
    return found


async def review_ready(client: httpx.AsyncClient, runtime: Runtime, settings: Settings, org: OrgFixture,
                       drain_jobs) -> tuple[Topup, int]:  # type: ignore[no-untyped-def]
    """A paid ₹1,000 top-up (₹1,180 with GST), a verified technical issue, and a refund request under review."""
    topup = await paid_recharge(client, runtime, org, drain_jobs)
    await verified_issue(runtime, settings, org)
    return topup, await under_review(client, org, topup.razorpay_payment_id)


async def request_row(runtime: Runtime, request_id: int) -> RefundRequest:
    async with runtime.sessionmaker() as session:
        found = await session.get(RefundRequest, request_id)
    assert found is not None
    return found


async def counts(runtime: Runtime) -> dict[str, int]:
    """What exists for a payment: Razorpay's refunds in the sandbox, our ledger postings, credit notes."""
    async with runtime.sessionmaker() as session:
        def count(statement):  # type: ignore[no-untyped-def]
            return session.scalar(select(func.count()).select_from(statement.subquery()))

        refunds = await count(select(SandboxRzpRefund.id).where(SandboxRzpRefund.status == "processed"))
        approvals = await count(select(LedgerTransaction.id).where(LedgerTransaction.kind == "refund"))
        paid = await count(select(LedgerTransaction.id).where(LedgerTransaction.kind == "refund_paid"))
        notes = await count(select(BillingDocument.id).where(BillingDocument.doc_type == "credit_note"))
    return {"razorpay_refunds": int(refunds or 0), "approvals": int(approvals or 0), "paid": int(paid or 0),
            "credit_notes": int(notes or 0)}
