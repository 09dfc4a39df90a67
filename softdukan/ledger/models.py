"""The double-entry ledger (../shared/reference/billing-india.md §1): accounts with cached balances, append-only
transactions and entries, and holds. Integer units only: paise (`INR/2`) and wcc units of ₹0.0001 (`INR/4`).

What the database enforces itself: one transaction per idempotency key, one reversal per transaction, one hold
per key and per wamid, positive entry amounts, non-negative cached balances, no overdraft on wallet accounts
(`debits_posted + debits_pending <= credits_posted`), a posted hold amount never above the held one. What it
cannot (each transaction balanced per asset, caches equal to the fold of entries and posted holds, pending holds
equal to pending debits) `ledger.check` verifies, from `softdukan ledger check` and the scheduled reconciliation.

Two journals, both double-entry:
- transactions with their entries: any number of legs, balanced per asset (top-ups, grants, reversals);
- holds: a hold is a transfer from one wallet to one counter account, as in TigerBeetle. Pending, only the
  debited account caches it (`debits_pending`, which the no-overdraft guard reads; the credited side has no guard
  to serve, so its pending credits are the sum of its pending holds). Posted, the row is the journal line itself:
  `posted_amount` debited from the wallet and credited to the counter, balanced by construction, posted once by
  its state guard. No entries are copied from it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from softdukan.kit.db import BigId, Model

PAISE, WCC = "INR/2", "INR/4"  # assets: money in paise; wallet credit in 1/10,000 rupee
DEBIT, CREDIT = "debit", "credit"
POSTED, PENDING = "posted", "pending"
HOLD_PENDING, HOLD_POSTED, HOLD_VOIDED, HOLD_EXPIRED = "pending", "posted", "voided", "expired"


class LedgerAccount(Model):
    __tablename__ = "ledger_accounts"
    __table_args__ = (
        CheckConstraint("debits_posted >= 0 AND credits_posted >= 0 AND debits_pending >= 0", name="non_negative"),
        CheckConstraint("NOT no_overdraft OR debits_posted + debits_pending <= credits_posted", name="no_overdraft"),
        CheckConstraint("asset IN ('INR/2', 'INR/4')", name="asset"),
    )

    code: Mapped[str] = mapped_column(String(120), unique=True)  # "wallet:42:purchased", "revenue:wcc_usage"
    organization_id: Mapped[int | None] = mapped_column(  # the owner of a wallet; platform accounts have none
        BigId, ForeignKey("organizations.id", ondelete="RESTRICT"), index=True)
    asset: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(20))  # wallet | clearing | revenue | tax | expense | external
    no_overdraft: Mapped[bool] = mapped_column(Boolean, default=False)
    debits_posted: Mapped[int] = mapped_column(BigInteger, default=0)
    credits_posted: Mapped[int] = mapped_column(BigInteger, default=0)
    debits_pending: Mapped[int] = mapped_column(BigInteger, default=0)  # pending holds debiting it

    @property
    def available(self) -> int:
        """For a credit-normal account (a wallet): what can still be held or spent."""
        return self.credits_posted - self.debits_posted - self.debits_pending


class LedgerTransaction(Model):
    __tablename__ = "ledger_transactions"

    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)  # from the external fact
    fingerprint: Mapped[str] = mapped_column(String(64))  # of the entries: the same key with others is refused
    kind: Mapped[str] = mapped_column(String(40))
    effective_at: Mapped[datetime]
    reverses_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("ledger_transactions.id"), unique=True)
    external_ref: Mapped[str | None] = mapped_column(String(200))  # pay_…, rfnd_…, a wamid
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class LedgerEntry(Model):
    __tablename__ = "ledger_entries"
    __table_args__ = (CheckConstraint("amount > 0", name="positive"),
                      CheckConstraint("direction IN ('debit', 'credit')", name="direction"),
                      CheckConstraint("status IN ('posted', 'pending')", name="status"),
                      Index("ix_ledger_entries_account", "account_id", "id"))

    transaction_id: Mapped[int] = mapped_column(BigId, ForeignKey("ledger_transactions.id"), index=True)
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("ledger_accounts.id"))
    direction: Mapped[str] = mapped_column(String(6))
    amount: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(7))
    hold_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("ledger_holds.id"), index=True)


class LedgerHold(Model):
    """Money set aside on a wallet before a send leaves; settled (≤ the hold) or released exactly once."""

    __tablename__ = "ledger_holds"
    __table_args__ = (CheckConstraint("amount > 0", name="positive"),
                      CheckConstraint("posted_amount IS NULL OR (posted_amount >= 0 AND posted_amount <= amount)",
                                      name="posted_within_hold"),
                      CheckConstraint("state IN ('pending', 'posted', 'voided', 'expired')", name="state"),
                      Index("ix_ledger_holds_pending", "state", "expires_at"))

    key: Mapped[str] = mapped_column(String(200), unique=True)  # "hold:{send request id}"
    organization_id: Mapped[int] = mapped_column(BigId, ForeignKey("organizations.id", ondelete="RESTRICT"),
                                                 index=True)
    wallet_account_id: Mapped[int] = mapped_column(BigId, ForeignKey("ledger_accounts.id"))
    counter_account_id: Mapped[int] = mapped_column(BigId, ForeignKey("ledger_accounts.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(8), default=HOLD_PENDING)
    posted_amount: Mapped[int | None] = mapped_column(BigInteger)
    expires_at: Mapped[datetime]
    wamid: Mapped[str | None] = mapped_column(String(128), unique=True)
    resolved_at: Mapped[datetime | None]
    resolution_key: Mapped[str | None] = mapped_column(String(200), unique=True)  # the fact that resolved it
