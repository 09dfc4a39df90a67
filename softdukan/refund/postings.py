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

from softdukan.ledger import service as ledger
from softdukan.ledger.models import PAISE, WCC, LedgerTransaction
from softdukan.platform.errors import Invalid
from softdukan.platform.uow import UnitOfWork
from softdukan.refund.models import RefundRequest
from softdukan.subscription.models import PlanOrder
from softdukan.wallet import accounts

REFUNDS = "clearing:refunds"


def _revenue_code(kind: str) -> str:
    return "revenue:setup" if kind == "setup_fee" else (
        "revenue:integration" if kind == "integration" else "deferred_revenue:subscription")


async def _plan_legs(uow: UnitOfWork, request: RefundRequest, taxable: int) -> list[ledger.Leg]:
    """The taxable part spread over the order's revenue accounts in proportion; the last takes the remainder."""
    order = await uow.session.scalar(select(PlanOrder).where(PlanOrder.organization_id == request.organization_id,
                                                            PlanOrder.id == request.source_id))
    assert order is not None
    by_code: dict[str, int] = {}
    for line in order.lines:
        code = _revenue_code(str(line.get("kind")))
        by_code[code] = by_code.get(code, 0) + int(line["taxable_paise"])
    whole, left, legs = sum(by_code.values()), taxable, []
    codes = sorted(by_code)
    now = uow.clock.now()
    for index, code in enumerate(codes):
        share = left if index == len(codes) - 1 else taxable * by_code[code] // whole
        left -= share
        if share:
            kind = "revenue" if code.startswith("revenue") else "clearing"
            account = await ledger.account(uow.session, code, asset=PAISE, kind=kind, now=now)
            legs.append(ledger.Leg(account.id, "debit", share))
    return legs


async def post_approval(uow: UnitOfWork, request: RefundRequest) -> LedgerTransaction:
    session, now = uow.session, uow.clock.now()
    taxable, total = int(request.approved_taxable_paise or 0), int(request.approved_paise or 0)
    refunds = await ledger.account(session, REFUNDS, asset=PAISE, kind="clearing", now=now)
    legs = [ledger.Leg(refunds.id, "credit", total)]
    if request.source == "topup":
        units = int(request.credits_units or 0)
        wallet = await accounts.wallet(session, request.organization_id, now)
        bridge_money = await ledger.account(session, "conversion:wcc:INR/2", asset=PAISE, kind="clearing", now=now)
        bridge_credit = await ledger.account(session, "conversion:wcc:INR/4", asset=WCC, kind="clearing", now=now)
        legs += [ledger.Leg(wallet.id, "debit", units), ledger.Leg(bridge_credit.id, "credit", units),
                 ledger.Leg(bridge_money.id, "debit", taxable)]
    else:
        legs += await _plan_legs(uow, request, taxable)
    for head in ("cgst", "sgst", "igst"):
        amount = int((request.approved_tax or {}).get(head, 0))
        if amount:
            tax = await ledger.account(session, f"gst_output:{head}", asset=PAISE, kind="tax", now=now)
            legs.append(ledger.Leg(tax.id, "debit", amount))
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
