"""Usage of WhatsApp credits: what was charged, by month (India time), category and country, summed from the
charge rows (each one settled on the ledger). Months are calendar months in Asia/Kolkata, as Indian invoices and
Meta's INR billing count them.

    report = await month_usage(uow, org_id, "2026-11")   # MonthUsage(by_category, by_market, total_units, …)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from softdukan.platform.errors import Invalid, NotFound
from softdukan.platform.uow import UnitOfWork
from softdukan.wallet.markets import market_name
from softdukan.wallet.models import CHARGED, HELD, MessageCharge

IST = ZoneInfo("Asia/Kolkata")


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """'2026-11' → its start and end in UTC (India time months)."""
    try:
        year, number = (int(part) for part in month.split("-"))
        start = datetime(year, number, 1, tzinfo=IST)
    except (ValueError, TypeError):
        raise Invalid("invalid_month", f"'{month[:20]}' is not a month; use YYYY-MM, e.g. 2026-11.",
                      {"month": "YYYY-MM"}) from None
    if not 2020 <= year <= 2100:
        raise Invalid("invalid_month", "Pick a month between 2020 and 2100.", {"month": "out of range"})
    end = datetime(year + (number == 12), number % 12 + 1, 1, tzinfo=IST)
    return start.astimezone(UTC), end.astimezone(UTC)


def month_of(at: datetime) -> str:
    return at.astimezone(IST).strftime("%Y-%m")


def last_months(now: datetime, count: int) -> list[str]:
    local = now.astimezone(IST)
    year, month = local.year, local.month
    months = []
    for _ in range(count):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return months


@dataclass(frozen=True)
class Line:
    key: str
    label: str
    messages: int
    units: int


@dataclass(frozen=True)
class MonthUsage:
    month: str
    total_units: int
    messages: int
    by_category: list[Line]
    by_market: list[Line]

    def as_json(self) -> dict[str, Any]:
        def lines(items: list[Line]) -> list[dict[str, Any]]:
            return [{"key": i.key, "label": i.label, "messages": i.messages, "units": i.units} for i in items]
        return {"month": self.month, "total_units": self.total_units, "messages": self.messages,
                "by_category": lines(self.by_category), "by_country": lines(self.by_market)}


def _charged(organization_id: int, start: datetime, end: datetime) -> Any:
    c = MessageCharge.__table__.c
    return (c.organization_id == organization_id) & (c.state == CHARGED) & (c.charged_at >= start) & (
        c.charged_at < end)


async def month_usage(uow: UnitOfWork, organization_id: int, month: str) -> MonthUsage:
    start, end = month_bounds(month)
    c = MessageCharge.__table__.c
    where = _charged(organization_id, start, end)
    by_category = [Line(k, k.replace("_", " ").capitalize(), int(n), int(u)) for k, n, u in (await uow.session.execute(
        select(c.category, func.count(), func.sum(c.charged_units)).where(where).group_by(c.category)
        .order_by(func.sum(c.charged_units).desc()))).all()]
    by_market = [Line(k, market_name(k), int(n), int(u)) for k, n, u in (await uow.session.execute(
        select(c.market, func.count(), func.sum(c.charged_units)).where(where).group_by(c.market)
        .order_by(func.sum(c.charged_units).desc()))).all()]
    return MonthUsage(month, sum(x.units for x in by_category), sum(x.messages for x in by_category),
                      by_category, by_market)


async def monthly_totals(uow: UnitOfWork, organization_id: int, months: list[str]) -> list[tuple[str, int, int]]:
    """(month, messages, units) for each month, newest first."""
    c = MessageCharge.__table__.c
    totals = []
    for month in months:
        start, end = month_bounds(month)
        count, units = (await uow.session.execute(select(func.count(), func.coalesce(func.sum(c.charged_units), 0))
                                                  .where(_charged(organization_id, start, end)))).one()
        totals.append((month, int(count), int(units)))
    return totals


async def charges(uow: UnitOfWork, organization_id: int, month: str | None, *, category: str | None = None,
                  market: str | None = None, broadcast_id: int | None = None, before_id: int | None = None,
                  limit: int = 100) -> list[MessageCharge]:
    """The charged messages behind a usage line (drill-down), newest first; all months when `month` is None."""
    if broadcast_id is not None:
        await _own_broadcast(uow, organization_id, broadcast_id)
    if month is None:
        query = select(MessageCharge).where(MessageCharge.organization_id == organization_id,
                                            MessageCharge.state == CHARGED)
    else:
        start, end = month_bounds(month)
        query = select(MessageCharge).where(_charged(organization_id, start, end))
    if category:
        query = query.where(MessageCharge.category == category)
    if market:
        query = query.where(MessageCharge.market == market)
    if broadcast_id is not None:
        query = query.where(MessageCharge.broadcast_id == broadcast_id)
    if before_id is not None:
        query = query.where(MessageCharge.id < before_id)
    return list((await uow.session.execute(query.order_by(MessageCharge.id.desc()).limit(limit))).scalars())


async def _own_broadcast(uow: UnitOfWork, organization_id: int, broadcast_id: int) -> None:
    """Another organization's broadcast id is a 404, not an empty list."""
    from softdukan.broadcast.models import Broadcast

    found = await uow.session.scalar(select(Broadcast.id).where(Broadcast.organization_id == organization_id,
                                                                Broadcast.id == broadcast_id))
    if found is None:
        raise NotFound("broadcast_not_found", "No such broadcast in this organization.")


async def broadcast_cost(uow: UnitOfWork, organization_id: int, broadcast_id: int) -> tuple[int, int, int]:
    """(charged units, held units still pending, charged messages) of one broadcast."""
    c = MessageCharge.__table__.c
    rows = dict((state, (n, charged or 0, held or 0)) for state, n, charged, held in (await uow.session.execute(
        select(c.state, func.count(), func.sum(c.charged_units), func.sum(c.held_units))
        .where(c.organization_id == organization_id, c.broadcast_id == broadcast_id)
        .group_by(c.state))).all())
    charged = rows.get(CHARGED, (0, 0, 0))
    return int(charged[1]), int(rows.get(HELD, (0, 0, 0))[2]), int(charged[0])


@dataclass(frozen=True)
class ChargedMessage:
    id: int
    conversation_id: int
    wamid: str | None
    wa_id: str
    preview: str


async def charged_messages(uow: UnitOfWork, organization_id: int, message_ids: list[int]
                           ) -> dict[int, ChargedMessage]:
    from softdukan.contact.models import Contact
    from softdukan.conversation.models import Message

    if not message_ids:
        return {}
    rows = (await uow.session.execute(
        select(Message.id, Message.conversation_id, Message.wamid, Contact.wa_id, Message.preview)
        .join(Contact, Contact.id == Message.contact_id)
        .where(Message.organization_id == organization_id, Message.id.in_(message_ids)))).all()
    return {r.id: ChargedMessage(r.id, r.conversation_id, r.wamid, r.wa_id, r.preview) for r in rows}


async def charges_for(uow: UnitOfWork, organization_id: int, message_ids: list[int]) -> dict[int, MessageCharge]:
    """Each message's charge (what the thread and the API show on the message)."""
    if not message_ids:
        return {}
    rows = await uow.session.execute(select(MessageCharge).where(
        MessageCharge.organization_id == organization_id, MessageCharge.message_id.in_(message_ids)))
    return {row.message_id: row for row in rows.scalars()}
