"""The ledger side of a refund (billing reference §1.4 and §3, "Execution"):

- approved: Dr what the payment credited — the wallet (through the wcc conversion accounts) for a top-up, the plan
  order's revenue accounts in proportion for a plan — and the output GST heads; Cr `clearing:refunds`. Keyed
  `refund:{id}:approved:{attempt}`. Taking credit back out of the wallet is guarded like any debit of it: credit
  spent meanwhile makes the approval fail, never the wallet negative.
- `refund.processed`: Dr `clearing:refunds` / Cr `clearing:razorpay`, keyed by Razorpay's refund id.
- `refund.failed`: the approval is reversed (a new transaction; a transaction is reversed once).
"""

from __future__ import annotations

from sqlalchemy import select

from softdukan.billing.postings import gst_legs
from softdukan.ledger import service as ledger
from softdukan.ledger.models import PAISE, LedgerTransaction
from softdukan.platform.errors import Invalid
from softdukan.platform.uow import UnitOfWork
from softdukan.refund.models import RefundRequest
from softdukan.subscription.models import PlanOrder
from softdukan.subscription.purchase import revenue_by_account, revenue_legs
from softdukan.wallet import accounts

REFUNDS = "clearing:refunds"


def _in_proportion(whole: dict[str, int], part: int) -> dict[str, int]:
    """`part` of the order's taxable value spread over its revenue accounts in proportion; the last (in code
    order) takes the remainder, so the shares add up exactly."""
    codes, total, left, shares = sorted(whole), sum(whole.values()), part, {}
    for index, code in enumerate(codes):
        shares[code] = left if index == len(codes) - 1 else part * whole[code] // total
        left -= shares[code]
    return shares


async def post_approval(uow: UnitOfWork, request: RefundRequest) -> LedgerTransaction:
    """The sale's own legs for the approved part, flipped: what the payment credited is debited back."""
    session, now = uow.session, uow.clock.now()
    taxable, total, tax = int(request.approved_taxable_paise or 0), int(request.approved_paise or 0), {
        head: int((request.approved_tax or {}).get(head, 0)) for head in ("cgst", "sgst", "igst")}
    refunds = await ledger.account(session, REFUNDS, asset=PAISE, kind="clearing", now=now)
    if request.source == "topup":
        sale = await accounts.purchase_legs(session, request.organization_id, taxable_paise=taxable,
                                            units=int(request.credits_units or 0), now=now)
    else:
        order = await session.scalar(select(PlanOrder).where(PlanOrder.organization_id == request.organization_id,
                                                             PlanOrder.id == request.source_id))
        assert order is not None
        sale = await revenue_legs(uow, _in_proportion(revenue_by_account(order.lines), taxable), direction="credit")
    sale += await gst_legs(session, **tax, direction="credit", now=now)
    legs = [ledger.Leg(refunds.id, "credit", total), *ledger.flipped(sale)]
    try:
        return await ledger.post(session, key=f"refund:{request.id}:approved:{request.attempt}", kind="refund",
                                 effective_at=now, legs=legs, external_ref=request.payment_id,
                                 details={"refund_request_id": request.id, "attempt": request.attempt})
    except ledger.InsufficientCredits:
        raise Invalid("refund_above_unused_credit", "The wallet no longer holds that much unused purchased credit "
                                                    "(it was spent on messages); approve less.",
                      {"amount": "above the unused credit"}) from None


async def post_processed(uow: UnitOfWork, request: RefundRequest, refund_id: str, amount: int) -> None:
    session, now = uow.session, uow.clock.now()
    refunds = await ledger.account(session, REFUNDS, asset=PAISE, kind="clearing", now=now)
    clearing = await ledger.account(session, "clearing:razorpay", asset=PAISE, kind="clearing", now=now)
    await ledger.post(session, key=f"rzp:rfnd:{refund_id}:processed", kind="refund_paid", effective_at=now,
                      legs=[ledger.Leg(refunds.id, "debit", amount), ledger.Leg(clearing.id, "credit", amount)],
                      external_ref=refund_id, details={"refund_request_id": request.id})


async def reverse_approval(uow: UnitOfWork, request: RefundRequest, key: str) -> None:
    if request.approval_transaction_id is None:
        return
    original = await uow.session.get(LedgerTransaction, request.approval_transaction_id)
    if original is not None:
        await ledger.reverse(uow.session, original, key=key, now=uow.clock.now())
