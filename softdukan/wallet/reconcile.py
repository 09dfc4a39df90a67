"""The scheduled reconciliation (issue 5 item 1): every hour, the ledger's own invariants (`ledger.check`) plus
the wallet's books against the ledger:

- each organization's charged messages (`message_charges`) add up to what the ledger charged its wallet;
- each top-up marked credited has exactly one ledger posting, of its amount.

A run that finds something staff were not told about yet e-mails every active staff member and is logged at
error level; the findings are kept (`ledger_reconciliations`) and shown in the backoffice.
"""

from __future__ import annotations

from datetime import timedelta

import structlog
from sqlalchemy import func, select

from softdukan.backoffice.models import StaffUser
from softdukan.ledger.check import findings as ledger_findings
from softdukan.ledger.models import (
    DEBIT,
    HOLD_POSTED,
    POSTED,
    LedgerAccount,
    LedgerEntry,
    LedgerHold,
    LedgerTransaction,
)
from softdukan.notification.service import mail_service
from softdukan.platform.jobs.registry import periodic
from softdukan.platform.uow import UnitOfWork
from softdukan.wallet.models import CHARGED, CREDITED, MessageCharge, Reconciliation, Topup

log = structlog.get_logger(__name__)
EVERY = timedelta(hours=1)


async def wallet_findings(uow: UnitOfWork) -> list[str]:
    session, found = uow.session, []
    c, e, t, a, h = (MessageCharge.__table__.c, LedgerEntry.__table__.c, LedgerTransaction.__table__.c,
                     LedgerAccount.__table__.c, LedgerHold.__table__.c)
    charged = dict((await session.execute(select(c.organization_id, func.sum(c.charged_units))
                                          .where(c.state == CHARGED).group_by(c.organization_id))).all())
    late = (await session.execute(  # charges posted after their hold expired (`charging._late_charge`)
        select(a.organization_id, func.sum(e.amount)).select_from(LedgerEntry.__table__)
        .join(LedgerTransaction.__table__, t.id == e.transaction_id).join(LedgerAccount.__table__, a.id == e.account_id)
        .where(t.kind == "charge", e.direction == DEBIT, e.status == POSTED, a.kind == "wallet")
        .group_by(a.organization_id))).all()
    held = (await session.execute(  # posted holds: each is the journal line of its charge
        select(a.organization_id, func.sum(h.posted_amount)).select_from(LedgerHold.__table__)
        .join(LedgerAccount.__table__, a.id == h.wallet_account_id)
        .where(h.state == HOLD_POSTED, a.kind == "wallet").group_by(a.organization_id))).all()
    ledger: dict[int, int] = {}
    for org, amount in [*late, *held]:
        ledger[org] = ledger.get(org, 0) + int(amount or 0)
    for org in sorted(set(charged) | set(ledger)):
        ours, books = int(charged.get(org) or 0), int(ledger.get(org) or 0)
        if ours != books:
            found.append(f"organization {org}: charged messages add up to {ours} units, the ledger charged {books}")
    credited = (await session.execute(select(Topup.id, Topup.razorpay_payment_id, Topup.credits_units)
                                      .where(Topup.state == CREDITED))).all()
    keys = {f"rzp:pay:{row.razorpay_payment_id}:captured": row for row in credited}
    posted = set((await session.execute(select(LedgerTransaction.idempotency_key).where(
        LedgerTransaction.idempotency_key.in_(list(keys))))).scalars()) if keys else set()
    for key, row in keys.items():
        if key not in posted:
            found.append(f"top-up {row.id} is marked credited but the ledger has no posting {key}")
    return found


async def reconcile(uow: UnitOfWork) -> Reconciliation:
    now = uow.clock.now()
    found = [str(f) for f in await ledger_findings(uow.session, now)] + await wallet_findings(uow)
    previous = await uow.session.scalar(select(Reconciliation).order_by(Reconciliation.id.desc()).limit(1))
    new = sorted(set(found) - set(previous.findings if previous is not None else []))
    run = Reconciliation(findings=found, ok=not found, alerted=bool(new), created_at=now)
    uow.session.add(run)
    await uow.flush()
    if new:
        log.error("ledger_reconciliation_failed", findings=found)
        staff = (await uow.session.execute(select(StaffUser.email).where(StaffUser.disabled_at.is_(None))))
        text = "The hourly reconciliation found differences in the books:\n\n" + "\n".join(f"- {f}" for f in found)
        for email in staff.scalars():
            await mail_service.send(uow, to=email, subject=f"Ledger reconciliation: {len(found)} finding(s)",
                                    text=text + f"\n\n{uow.settings.base_url.rstrip('/')}/backoffice/rates\n")
    return run


@periodic("wallet.reconcile", every=EVERY)
async def scheduled_reconcile(uow: UnitOfWork) -> None:
    await reconcile(uow)
