"""The wallet as an organization sees it: balance, held, available; promotional grants; the low-balance alert.

    summary = await wallet_summary(uow, subject)        # WalletSummary(balance_units, held_units, available_units…)
    await grant(uow, organization_id, units=500_000, key="signup:42", reason="Welcome credit")
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from softdukan.auth.subject import Subject
from softdukan.kit.money import credits as rupees
from softdukan.ledger import service as ledger
from softdukan.organization.models import Membership
from softdukan.platform.errors import Invalid
from softdukan.platform.uow import UnitOfWork
from softdukan.wallet import accounts
from softdukan.wallet.events import WalletLow
from softdukan.wallet.models import DEFAULT_LOW_BALANCE_UNITS, WalletSettings

MAX_THRESHOLD = 10_000_000_000  # ₹10 lakh
MAX_GRANT = 100_000_000_000  # ₹1 crore


@dataclass(frozen=True)
class WalletSummary:
    balance_units: int  # credited minus charged
    held_units: int  # set aside for messages on their way
    available_units: int  # what new sends can hold
    low_balance_units: int
    low: bool

    def as_json(self) -> dict[str, object]:
        return {"balance_units": self.balance_units, "held_units": self.held_units,
                "available_units": self.available_units, "low_balance_threshold_units": self.low_balance_units,
                "low": self.low, "balance": rupees(self.balance_units), "held": rupees(self.held_units),
                "available": rupees(self.available_units), "unit": "INR/10000"}


async def settings_for(uow: UnitOfWork, organization_id: int) -> WalletSettings:
    row = await uow.session.scalar(select(WalletSettings).where(WalletSettings.organization_id == organization_id))
    if row is None:
        row = WalletSettings(organization_id=organization_id, low_balance_units=DEFAULT_LOW_BALANCE_UNITS,
                             created_at=uow.clock.now())
        uow.session.add(row)
        await uow.flush()
    return row


async def summary_for(uow: UnitOfWork, organization_id: int) -> WalletSummary:
    wallet = await accounts.peek_wallet(uow.session, organization_id)
    row = await uow.session.scalar(select(WalletSettings).where(WalletSettings.organization_id == organization_id))
    threshold = row.low_balance_units if row else DEFAULT_LOW_BALANCE_UNITS
    balance = wallet.credits_posted - wallet.debits_posted if wallet else 0
    held = wallet.debits_pending if wallet else 0
    return WalletSummary(balance, held, balance - held, threshold, balance - held < threshold)


async def wallet_summary(uow: UnitOfWork, subject: Subject) -> WalletSummary:
    subject.require("wallet:read")
    return await summary_for(uow, subject.organization_id)


async def set_threshold(uow: UnitOfWork, subject: Subject, units: int) -> WalletSummary:
    subject.require("wallet:write")
    if isinstance(units, bool) or not isinstance(units, int) or not 0 <= units <= MAX_THRESHOLD:
        raise Invalid("invalid_threshold", f"The alert threshold is an amount from ₹0 to {rupees(MAX_THRESHOLD)}.",
                      {"low_balance_threshold": "out of range"})
    row = await settings_for(uow, subject.organization_id)
    row.low_balance_units, row.low_alert_sent_at = units, None  # re-armed: a new threshold alerts afresh
    await uow.flush()
    return await summary_for(uow, subject.organization_id)


async def grant(uow: UnitOfWork, organization_id: int, *, units: int, key: str, reason: str,
                at: datetime | None = None) -> None:
    """Promotional credit (no payment, so no tax): from the promo expense account into the wallet, once per key."""
    if isinstance(units, bool) or not isinstance(units, int) or not 0 < units <= MAX_GRANT:
        raise Invalid("invalid_amount", f"A grant is from ₹0.0001 to {rupees(MAX_GRANT)}.")
    now = at or uow.clock.now()
    wallet = await accounts.wallet(uow.session, organization_id, now)
    source = await accounts.promo(uow.session, now)
    await ledger.post(uow.session, key=f"grant:{key}", kind="grant", effective_at=now, details={"reason": reason},
                      legs=[ledger.Leg(source.id, "debit", units), ledger.Leg(wallet.id, "credit", units)])
    await credited(uow, organization_id)


async def credited(uow: UnitOfWork, organization_id: int) -> None:
    """Money came into the wallet (a grant, a recharge): the low-balance alert re-arms and broadcasts paused for
    credits resume."""
    from softdukan.broadcast.pausing import resume_after_recharge

    await rearm_alert(uow, organization_id)
    await resume_after_recharge(uow, organization_id)


async def rearm_alert(uow: UnitOfWork, organization_id: int) -> None:
    """After money comes in: the next fall below the threshold alerts again."""
    row = await uow.session.scalar(select(WalletSettings).where(WalletSettings.organization_id == organization_id))
    summary = await summary_for(uow, organization_id)
    if row is not None and row.low_alert_sent_at is not None and not summary.low:
        row.low_alert_sent_at = None
        await uow.flush()


async def check_low_balance(uow: UnitOfWork, organization_id: int) -> None:
    """After spending: below the threshold and not alerted since the last recharge → e-mail the people who can add
    credits, and a live banner event. Once per fall (a guarded claim of `low_alert_sent_at`)."""
    summary = await summary_for(uow, organization_id)
    if not summary.low:
        return
    row = await settings_for(uow, organization_id)
    if row.low_alert_sent_at is not None:
        return
    row.low_alert_sent_at = uow.clock.now()
    await uow.flush()
    text = (f"WhatsApp credits are low: {rupees(summary.available_units)} available, below your alert at "
            f"{rupees(summary.low_balance_units)}. Add credits so messages keep going out.")
    uow.emit(WalletLow(organization_id=organization_id, available_units=summary.available_units,
                       threshold_units=summary.low_balance_units, text=text))
    from softdukan.notification.service import mail_service
    from softdukan.organization.models import Organization

    org = await uow.session.get(Organization, organization_id)
    for email in await _billing_emails(uow, organization_id):
        await mail_service.send(uow, to=email, subject=f"{org.name if org else 'SoftDukan'}: WhatsApp credits low",
                                text=f"{text}\n\nAdd credits: {uow.settings.base_url.rstrip('/')}/settings/credits\n")


async def _billing_emails(uow: UnitOfWork, organization_id: int) -> list[str]:
    """Owners and members whose role may add credits (wallet:write)."""
    from softdukan.auth.models import Role, User

    rows = (await uow.session.execute(
        select(User.email, Membership.is_owner, Role.permissions).join(Membership, Membership.user_id == User.id)
        .outerjoin(Role, Role.id == Membership.role_id).where(Membership.organization_id == organization_id))).all()
    return sorted({r.email for r in rows if r.is_owner or "wallet:write" in (r.permissions or [])})
