"""The wallet's ledger accounts: one credit-normal wallet per organization (never below zero), the usage revenue
account its holds and charges go to (one per organization too), and the promotional-credit expense that grants come
from. All in wcc units (`INR/4`). Created on first use."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from softdukan.ledger import service as ledger
from softdukan.ledger.models import WCC, LedgerAccount, LedgerHold

PROMO = "expense:promo_credits"


def wallet_code(organization_id: int) -> str:
    return f"wallet:{organization_id}"


async def wallet(session: AsyncSession, organization_id: int, now: datetime) -> LedgerAccount:
    return await ledger.account(session, wallet_code(organization_id), asset=WCC, kind="wallet",
                                organization_id=organization_id, no_overdraft=True, now=now)


async def locked_wallet(session: AsyncSession, organization_id: int, now: datetime) -> LedgerAccount:
    """The wallet row locked for this transaction (PostgreSQL `FOR UPDATE`; on SQLite the write lock), so what it
    shows as available stays true until commit."""
    account = await wallet(session, organization_id, now)
    locked = await session.scalar(select(LedgerAccount).where(LedgerAccount.id == account.id).with_for_update()
                                  .execution_options(populate_existing=True))
    assert locked is not None
    return locked


def usage_code(organization_id: int) -> str:
    return f"usage:{organization_id}"


async def usage(session: AsyncSession, organization_id: int, now: datetime) -> LedgerAccount:
    """The organization's usage revenue: holds are pending credits here, charges posted ones. One per organization,
    so no two organizations' sends wait for each other's lock on a shared row (PostgreSQL)."""
    return await ledger.account(session, usage_code(organization_id), asset=WCC, kind="revenue",
                                organization_id=organization_id, now=now)


async def promo(session: AsyncSession, now: datetime) -> LedgerAccount:
    return await ledger.account(session, PROMO, asset=WCC, kind="expense", now=now)


async def peek_wallet(session: AsyncSession, organization_id: int) -> LedgerAccount | None:
    """The wallet without creating it (pages that only read), as the database has it now: holds and settlements
    move balances with Core UPDATEs, which an object loaded earlier in this session would not show."""
    return await session.scalar(select(LedgerAccount).where(LedgerAccount.code == wallet_code(organization_id))
                                .execution_options(populate_existing=True))


async def hold(session: AsyncSession, organization_id: int, *, key: str, amount: int, expires_at: datetime,
               now: datetime) -> LedgerHold:
    """Sets `amount` aside on the organization's wallet for its usage (`ledger.reserve` by account code: no lookup
    on the hot path). An organization's first hold creates its accounts. `InsufficientCredits` when the wallet
    can't cover it."""
    try:
        return await ledger.reserve(session, key=key, organization_id=organization_id,
                                    wallet=wallet_code(organization_id), counter=usage_code(organization_id),
                                    amount=amount, expires_at=expires_at, now=now)
    except ledger.UnknownAccount:
        await wallet(session, organization_id, now)
        await usage(session, organization_id, now)
    return await ledger.reserve(session, key=key, organization_id=organization_id,
                                wallet=wallet_code(organization_id), counter=usage_code(organization_id),
                                amount=amount, expires_at=expires_at, now=now)


async def purchase_legs(session: AsyncSession, organization_id: int, *, taxable_paise: int, units: int,
                        now: datetime) -> list[ledger.Leg]:
    """Money into credit: `taxable_paise` converted (through the wcc conversion accounts) into `units` on the
    organization's wallet. A refund of credit is these legs flipped."""
    from softdukan.ledger.models import PAISE

    bridge_money = await ledger.account(session, "conversion:wcc:INR/2", asset=PAISE, kind="clearing", now=now)
    bridge_credit = await ledger.account(session, "conversion:wcc:INR/4", asset=WCC, kind="clearing", now=now)
    wallet_account = await wallet(session, organization_id, now)
    return [ledger.Leg(bridge_money.id, "credit", taxable_paise), ledger.Leg(bridge_credit.id, "debit", units),
            ledger.Leg(wallet_account.id, "credit", units)]
