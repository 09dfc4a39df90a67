"""Charging messages (issue 5 item 3; reference billing-india.md §1.3): every template send holds its price
before it leaves; the first status that settles it charges (≤ the hold) or releases it.

- Hold: a template message holds its category's price (Meta's rate for the recipient's market + the plan's
  markup) on the organization's wallet, in the transaction that writes the message. The wallet can't cover it →
  `InsufficientCredits` (402): the send is refused (single sends) or the broadcast pauses (broadcast chunks).
  Free-form messages only go inside the customer-service window, which is free: they hold nothing.
- Settle, from the message's pricing as status webhooks record it (statuses arrive shuffled and twice; the
  decision depends only on what is known, and a hold resolves once):
  failed → released · free_customer_service / free_entry_point / not billable → released as free ·
  billable and delivered (delivered, read, played) → charged at the billed category's price, at most the hold
  (above it, the difference is recorded as a shortfall, never taken) · billable but only `sent` → wait.
  Legacy conversation-based pricing (CBP) charges the first message of each Meta conversation; the others in it
  are free.
- Sweep: a hold nobody resolved within HOLD_TTL is released as expired (we never charge without Meta's word);
  if the delivery is reported later, the charge is taken then from the available balance, or recorded as
  uncollected if it can't be covered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import structlog
from sqlalchemy import bindparam, insert, select, update

from softdukan.conversation import status as st
from softdukan.conversation.models import Message
from softdukan.kit.money import credits as rupees
from softdukan.kit.upsert import insert_ignore
from softdukan.ledger import service as ledger
from softdukan.ledger.models import LedgerAccount, LedgerHold
from softdukan.platform.uow import UnitOfWork
from softdukan.wallet import accounts
from softdukan.wallet.markets import market_name, market_of
from softdukan.wallet.models import (
    CHARGED,
    DEFAULT_LOW_BALANCE_UNITS,
    EXPIRED,
    FREE,
    HELD,
    RELEASED,
    UNCOLLECTED,
    MessageCharge,
    WalletSettings,
)
from softdukan.wallet.rates import PriceTable, billed_category, price_table

log = structlog.get_logger(__name__)
HOLD_TTL = timedelta(hours=72)
SETTLE_TASK = "wallet.settle"
DELIVERED = frozenset({st.DELIVERED, st.READ, st.PLAYED})
FREE_TYPES = frozenset({"free_customer_service", "free_entry_point"})


async def plan_of(uow: UnitOfWork, organization_id: int) -> str:
    """The organization's plan decides the markup (Basic while trialing; a plan staff added without markups of its
    own is priced as Basic by `price_table`)."""
    from softdukan.subscription.service import plan_of as subscribed

    return await subscribed(uow, organization_id)


async def prices(uow: UnitOfWork, organization_id: int, markets: set[str], on: date) -> PriceTable:
    return await price_table(uow.session, markets, on=on, plan=await plan_of(uow, organization_id),
                             now=uow.clock.now())


def _refusal(category: str, market: str, need: int, available: int, count: int = 1) -> ledger.InsufficientCredits:
    what = f"{count:,} {category} messages" if count > 1 else f"This {category} message to {market_name(market)}"
    error = ledger.InsufficientCredits(
        f"{what} needs {rupees(need)} in WhatsApp credits and the wallet has {rupees(max(available, 0))} "
        "available. Add credits in Settings → WhatsApp credits to send it.")
    error.details = {"required_units": need, "available_units": max(available, 0), "category": category,
                     "market": market}
    return error


async def hold_for_message(uow: UnitOfWork, message: Message, wa_id: str, category: str) -> MessageCharge:
    """Holds a template message's price before it is queued; refuses with 402 when the wallet can't cover it."""
    now, session = uow.clock.now(), uow.session
    market = market_of(wa_id)
    table = await prices(uow, message.organization_id, {market}, now.date())
    units = table.hold_units(market, category)
    try:
        hold = await accounts.hold(session, message.organization_id, key=f"hold:msg:{message.id}", amount=units,
                                   expires_at=now + HOLD_TTL, now=now)
    except ledger.InsufficientCredits:  # the guard said no: tell how much there is
        wallet = await accounts.peek_wallet(session, message.organization_id)
        raise _refusal(category.lower(), market, units, wallet.available if wallet else 0) from None
    charge = MessageCharge(organization_id=message.organization_id, message_id=message.id, hold_id=hold.id,
                           market=table.market_priced(market), category=category.lower(), held_units=units,
                           state=HELD, created_at=now)
    session.add(charge)
    await session.flush()
    from softdukan.wallet.service import check_low_balance

    await check_low_balance(uow, message.organization_id)
    return charge


@dataclass(frozen=True)
class ChunkPrice:
    units: list[int]  # per recipient, in order
    markets: list[str]
    available: int  # the wallet's available balance, locked until commit


async def price_chunk(uow: UnitOfWork, organization_id: int, wa_ids: list[str], category: str) -> ChunkPrice:
    now = uow.clock.now()
    markets = [market_of(wa_id) for wa_id in wa_ids]
    table = await prices(uow, organization_id, set(markets), now.date())
    wallet = await accounts.locked_wallet(uow.session, organization_id, now)
    return ChunkPrice([table.hold_units(m, category) for m in markets],
                      [table.market_priced(m) for m in markets], wallet.available)


def affordable(price: ChunkPrice) -> int:
    """How many of the chunk, in order, the available balance covers."""
    left, count = price.available, 0
    for units in price.units:
        if units > left:
            break
        left, count = left - units, count + 1
    return count


async def hold_for_chunk(uow: UnitOfWork, organization_id: int, message_ids: list[int], price: ChunkPrice,
                         category: str, broadcast_id: int | None) -> None:
    """Holds for a chunk's messages (all of them: `affordable` trimmed it first) and their charge rows."""
    if not message_ids:
        return
    now, session = uow.clock.now(), uow.session
    ids = await ledger.reserve_many(
        session, organization_id=organization_id, wallet=await accounts.wallet(session, organization_id, now),
        counter=await accounts.usage(session, organization_id, now), expires_at=now + HOLD_TTL, now=now,
        holds=[(f"hold:msg:{mid}", units) for mid, units in zip(message_ids, price.units, strict=False)])
    await session.execute(insert(MessageCharge.__table__), [
        {"organization_id": organization_id, "message_id": mid, "hold_id": ids[f"hold:msg:{mid}"],
         "broadcast_id": broadcast_id, "market": market, "category": category.lower(), "held_units": units,
         "shortfall_units": 0, "state": HELD, "created_at": now}
        for mid, units, market in zip(message_ids, price.units, price.markets, strict=False)])


async def release_messages(uow: UnitOfWork, organization_id: int, message_ids: list[int], reason: str) -> None:
    """The messages never left, or failed: their holds go back to the wallet."""
    if not message_ids:
        return
    now, c = uow.clock.now(), MessageCharge.__table__.c
    rows = (await uow.session.execute(select(c.id, c.hold_id).where(
        c.organization_id == organization_id, c.message_id.in_(message_ids), c.state == HELD))).all()
    released = set(await ledger.release_many(uow.session, [r.hold_id for r in rows if r.hold_id], now=now,
                                             resolution=f"release:{reason}"))
    done = [r.id for r in rows if r.hold_id in released]
    if done:
        await uow.session.execute(update(MessageCharge.__table__).where(c.id.in_(done), c.state == HELD)
                                  .values(state=RELEASED, resolved_at=now))


def _decision(message: Message) -> str:
    """charge | free | release | wait, from what the message's statuses told so far."""
    if message.status == st.FAILED:
        return "release"
    pricing_known = message.pricing_type is not None or message.billable is not None or (
        message.pricing_model is not None)
    if not pricing_known:
        return "wait"
    free = (message.pricing_type in FREE_TYPES or message.billable is False
            or billed_category(message.pricing_category) is None)
    if free:
        return "free"
    return "charge" if message.status in DELIVERED else "wait"


async def _cbp_already_charged(uow: UnitOfWork, message: Message) -> bool:
    if message.pricing_model != "CBP" or not message.meta_conversation_id:
        return False
    m, c = Message.__table__.c, MessageCharge.__table__.c
    found = await uow.session.scalar(
        select(c.id).join(Message.__table__, m.id == c.message_id).where(
            m.organization_id == message.organization_id, m.meta_conversation_id == message.meta_conversation_id,
            c.state == CHARGED, c.message_id != message.id).limit(1))
    return found is not None


async def _charge_units(uow: UnitOfWork, charge: MessageCharge, message: Message) -> int:
    billed = billed_category(message.pricing_category)
    category = charge.category if billed in (None, "unknown") else billed
    table = await prices(uow, charge.organization_id, {charge.market}, charge.created_at.date())
    return table.charge_units(charge.market, category)


async def on_message_status(uow: UnitOfWork, message: Message) -> None:
    """Called by status routing after the status is recorded: settles or releases the message's hold once."""
    if message.type != "template":
        return
    charge = await uow.session.scalar(select(MessageCharge).where(
        MessageCharge.organization_id == message.organization_id, MessageCharge.message_id == message.id))
    if charge is None or charge.state not in (HELD, EXPIRED):
        return
    decision = _decision(message)
    if decision == "wait":
        return
    if decision == "charge" and await _cbp_already_charged(uow, message):
        decision = "free"
    if charge.state == EXPIRED:
        if decision == "charge":
            await _late_charge(uow, charge, message)
        return
    await _decide(uow, charge, message, decision)


async def _decide(uow: UnitOfWork, charge: MessageCharge, message: Message, decision: str, *,
                  queue: bool = True) -> None:
    """Records what the hold comes to (once: a guarded UPDATE of the charge) and makes sure a settlement job is
    queued for the organization; the job moves the money for every decided charge in one batch (`settle_decided`).
    The hold covers the message until then, so the available balance is right all along."""
    now = uow.clock.now()
    values: dict[str, object] = {"decision": decision, "pricing_model": message.pricing_model,
                                 "pricing_type": message.pricing_type}
    if decision == "charge":
        cost = await _charge_units(uow, charge, message)
        values |= {"charged_units": min(cost, charge.held_units), "shortfall_units": max(0, cost - charge.held_units)}
        billed = billed_category(message.pricing_category)
        if billed not in (None, "unknown"):
            values["category"] = billed
        if cost > charge.held_units:
            log.warning("charge_above_hold", message_id=message.id, cost=cost, held=charge.held_units)
    decided = await uow.session.execute(
        update(MessageCharge).where(MessageCharge.id == charge.id, MessageCharge.state == HELD,
                                    MessageCharge.decision.is_(None))
        .values(**values).execution_options(synchronize_session=False))
    if decided.rowcount == 1 and queue:  # type: ignore[attr-defined]
        await _queue_settlement(uow, charge.organization_id, now)


async def _queue_settlement(uow: UnitOfWork, organization_id: int, now: datetime) -> None:
    """One queued settlement job per organization at a time: the flag is set by whoever queues it and cleared by
    the job as it starts, so a decision made while the job runs queues the next one."""
    s = WalletSettings.__table__.c
    flagged = await uow.session.execute(update(WalletSettings.__table__).where(
        s.organization_id == organization_id, s.settle_queued.is_(False)).values(settle_queued=True))
    if flagged.rowcount != 1:  # type: ignore[attr-defined]
        created = (await uow.session.execute(insert_ignore(uow.session, WalletSettings, ["organization_id"])
                                             .returning(s.id), [{
            "organization_id": organization_id, "low_balance_units": DEFAULT_LOW_BALANCE_UNITS, "settle_queued": True,
            "created_at": now}])).scalar()
        if created is None:
            return  # queued already
    uow.enqueue(SETTLE_TASK, organization_id=organization_id, org_id=organization_id)


async def settle_decided(uow: UnitOfWork, organization_id: int, limit: int = 2000) -> int:
    """The settlement job's work: every decided charge of the organization, settled or released in one batch
    (`ledger.settle_many`, `ledger.release_many`). Returns how many it resolved."""
    now, c = uow.clock.now(), MessageCharge.__table__.c
    s = WalletSettings.__table__.c
    await uow.session.execute(update(WalletSettings.__table__).where(s.organization_id == organization_id)
                              .values(settle_queued=False))
    rows = (await uow.session.execute(select(c.id, c.hold_id, c.decision, c.charged_units, c.message_id).where(
        c.organization_id == organization_id, c.state == HELD, c.decision.is_not(None)).order_by(c.id)
        .limit(limit))).all()
    if not rows:
        return 0
    charges = {r.hold_id: r for r in rows if r.decision == "charge" and r.hold_id}
    settled = await ledger.settle_many(uow.session, [(h, int(r.charged_units or 0)) for h, r in charges.items()],
                                       resolution="meta", now=now)
    released: dict[str, list[int]] = {}
    for decision in ("free", "release"):
        holds = [r.hold_id for r in rows if r.decision == decision and r.hold_id]
        released[decision] = await ledger.release_many(uow.session, holds, resolution=f"meta-{decision}", now=now)
    updates = [{"c_id": charges[h].id, "c_state": CHARGED, "c_at": now} for h in settled] + [
        {"c_id": r.id, "c_state": FREE if r.decision == "free" else RELEASED, "c_at": None}
        for r in rows if r.decision in ("free", "release") and r.hold_id in released[r.decision]]
    if updates:
        await uow.session.execute(update(MessageCharge.__table__).where(
            c.id == bindparam("c_id"), c.state == HELD).values(
            state=bindparam("c_state"), charged_at=bindparam("c_at"), resolved_at=now), updates)
    if settled:
        from softdukan.wallet.events import credits_deducted

        charged = (await uow.session.execute(select(MessageCharge).where(
            MessageCharge.id.in_([charges[h].id for h in settled])))).scalars().all()
        messages = {m.id: m for m in (await uow.session.execute(select(Message).where(
            Message.organization_id == organization_id,
            Message.id.in_([ch.message_id for ch in charged])))).scalars()}
        for charge in charged:
            if charge.message_id in messages:
                credits_deducted(uow, charge, messages[charge.message_id])
    return len(rows)


async def _late_charge(uow: UnitOfWork, charge: MessageCharge, message: Message) -> None:
    """Delivery reported after the hold expired: charge now if the balance covers it, else record it."""
    now, session = uow.clock.now(), uow.session
    cost = await _charge_units(uow, charge, message)
    claimed = await session.execute(update(MessageCharge).where(MessageCharge.id == charge.id,
                                                                MessageCharge.state == EXPIRED)
                                    .values(state=UNCOLLECTED, resolved_at=now)
                                    .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return
    wallet = await accounts.locked_wallet(session, charge.organization_id, now)
    await session.refresh(charge)
    if cost and wallet.available >= cost:
        usage_account = await accounts.usage(session, charge.organization_id, now)
        await ledger.post(session, key=f"late:{charge.id}", kind="charge", effective_at=now,
                          external_ref=message.wamid,
                          legs=[ledger.Leg(wallet.id, "debit", cost),
                                ledger.Leg(usage_account.id, "credit", cost)])
        charge.state, charge.charged_units, charge.charged_at = CHARGED, cost, now
    else:
        charge.shortfall_units = cost
    charge.pricing_model, charge.pricing_type = message.pricing_model, message.pricing_type
    await uow.flush()


async def sweep(uow: UnitOfWork, limit: int = 500) -> int:
    """Holds past their expiry. One whose message has Meta's word by now is decided as a status would decide it
    and settled through the same batch as every other (`settle_decided`, for each organization met); one still
    without it is released as expired (a delivery reported later is charged then: `_late_charge`)."""
    now, c, h = uow.clock.now(), MessageCharge.__table__.c, LedgerHold.__table__.c
    rows = (await uow.session.execute(select(c.id).join(LedgerHold.__table__, h.id == c.hold_id).where(
        c.state == HELD, h.state == "pending", h.expires_at < now).order_by(h.expires_at).limit(limit))).all()
    decided: set[int] = set()
    for (charge_id,) in rows:
        charge = await uow.session.get(MessageCharge, charge_id)
        message = await uow.session.get(Message, charge.message_id) if charge else None
        if charge is None or message is None:
            continue
        decision = charge.decision or _decision(message)
        if decision == "charge" and charge.decision is None and await _cbp_already_charged(uow, message):
            decision = "free"
        if decision != "wait":
            if charge.decision is None:  # a decision made before stays; only its settlement was missing
                await _decide(uow, charge, message, decision, queue=False)
            decided.add(charge.organization_id)
            continue
        hold = await uow.session.get(LedgerHold, charge.hold_id)
        if hold is not None and await ledger.release(uow.session, hold, resolution_key=f"sweep:{hold.id}",
                                                     now=now, expired=True):
            charge.state, charge.resolved_at = EXPIRED, now
    for organization_id in sorted(decided):
        await settle_decided(uow, organization_id)
    orphans = (await uow.session.execute(select(h.id).outerjoin(MessageCharge.__table__, c.hold_id == h.id).where(
        h.state == "pending", h.expires_at < now, h.key.like("hold:msg:%"), c.id.is_(None)).limit(limit))
    ).scalars().all()
    await ledger.release_many(uow.session, list(orphans), resolution="sweep-orphan", now=now, expired=True)
    await uow.flush()
    return len(rows) + len(orphans)


async def wallet_of(uow: UnitOfWork, organization_id: int) -> LedgerAccount | None:
    return await accounts.peek_wallet(uow.session, organization_id)
