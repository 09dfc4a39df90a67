"""Rate cards: what Meta charges per delivered message, by category and market, effective-dated; plus the
platform's markup per plan. Prices are integers in wcc units (₹0.0001).

    table = await price_table(session, {"IN", "AE"}, on=date(2026, 11, 30), plan="basic")
    table.hold_units("IN", "marketing")        # what a marketing template to India holds
    table.charge_units("IN", "authentication_international")

Cards are seeded (India from the reference, a handful of other markets from Meta's USD card at ₹88/USD,
approximate until staff enter Meta's INR card) the first time a price is needed on an empty table.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from softdukan.kit.upsert import insert_ignore
from softdukan.platform.errors import Conflict, Invalid
from softdukan.wallet.markets import MARKETS
from softdukan.wallet.models import CATEGORIES, RateCard, RateMarkup

FALLBACK = "OTHER"
MAX_RATE = 1_000_000  # ₹100 a message: anything above is a typo
DEFAULT_PLAN = "basic"
_SINCE = date(2025, 7, 1)  # per-message pricing began

# (market, from, until, marketing, utility, authentication, authentication_international) — reference §8.3
SEED: tuple[tuple[str, date, date | None, int, int, int, int], ...] = (
    ("IN", _SINCE, date(2026, 1, 1), 7846, 1150, 1150, 24640),
    ("IN", date(2026, 1, 1), None, 8631, 1150, 1150, 24640),
    # Meta's USD card × ₹88 (approximate; staff replace them with Meta's INR card in the backoffice)
    ("AE", _SINCE, None, 33792, 13816, 15664, 15664),
    ("ID", _SINCE, None, 36168, 22000, 22000, 120120),
    ("GB", _SINCE, None, 46552, 19360, 31504, 31504),
    ("NA", _SINCE, None, 22000, 3520, 11880, 11880),
    ("OTHER", _SINCE, None, 53152, 6776, 24640, 24640),
)
SEED_MARKUPS = {"basic": (1000, 200, 200, 200, 0), "pro": (500, 100, 100, 100, 0), "enterprise": (0, 0, 0, 0, 0)}


def billed_category(category: str | None) -> str | None:
    """Meta's pricing category → the rate card column that prices it; None: free (entry point)."""
    value = (category or "").lower().replace("-", "_")
    if value in ("marketing", "marketing_lite", "group_marketing"):
        return "marketing"
    if value in ("utility", "group_utility"):
        return "utility"
    if value in ("service", "group_service", "general_purpose_ai"):
        return "service"
    if value in ("authentication", "authentication_international"):
        return value
    if value == "referral_conversion":
        return None
    return "unknown"


@dataclass
class PriceTable:
    cards: dict[str, RateCard]  # market → the card in force
    markups: dict[str, int] = field(default_factory=dict)  # category → units

    def _card(self, market: str) -> RateCard:
        return self.cards.get(market) or self.cards[FALLBACK]

    def market_priced(self, market: str) -> str:
        return market if market in self.cards else FALLBACK

    def charge_units(self, market: str, category: str) -> int:
        """Meta's rate for the category in the market, plus the plan's markup."""
        card = self._card(market)
        if category not in CATEGORIES:
            raise Invalid("unknown_category", f"No rate for category {category!r}.")
        return int(getattr(card, category)) + self.markups.get(category, 0)

    def hold_units(self, market: str, template_category: str) -> int:
        """What a template of this category holds: authentication may be billed at the international rate, so it
        holds the higher of the two (the settlement charges what Meta's pricing says, never more than held)."""
        category = template_category.lower()
        if category == "authentication":
            return max(self.charge_units(market, "authentication"),
                       self.charge_units(market, "authentication_international"))
        return self.charge_units(market, category if category in CATEGORIES else "marketing")


async def seed(session: AsyncSession, now: Any) -> None:
    """The seed cards and markups; present rows are left alone (insert-or-ignore on their unique keys)."""
    await session.execute(insert_ignore(session, RateCard, ["market", "effective_from"]), [
        {"market": m, "effective_from": start, "effective_until": until, "marketing": mk, "utility": ut,
         "authentication": au, "authentication_international": ai, "service": 0, "created_at": now,
         "note": "seeded", "created_by": "seed"} for m, start, until, mk, ut, au, ai in SEED])
    await session.execute(insert_ignore(session, RateMarkup, ["plan", "category"]), [
        {"plan": plan, "category": category, "units": units, "created_at": now}
        for plan, values in SEED_MARKUPS.items() for category, units in zip(CATEGORIES, values, strict=True)])


def _in_force(on: date) -> Any:
    return (RateCard.effective_from <= on) & or_(RateCard.effective_until.is_(None), RateCard.effective_until > on)


async def price_table(session: AsyncSession, markets: Iterable[str], *, on: date, plan: str, now: Any
                      ) -> PriceTable:
    wanted = {*markets, FALLBACK}
    query = select(RateCard).where(RateCard.market.in_(wanted), _in_force(on))
    cards = {card.market: card for card in (await session.execute(query)).scalars()}
    if FALLBACK not in cards:
        if not await session.scalar(select(func.count()).select_from(RateCard)):
            await seed(session, now)
            cards = {card.market: card for card in (await session.execute(query)).scalars()}
        if FALLBACK not in cards:
            raise Conflict("no_rate_card", f"No rate card for '{FALLBACK}' is in force on {on}: staff must add one "
                                           "before messages can be priced.")
    markups = dict((await session.execute(select(RateMarkup.category, RateMarkup.units)
                                          .where(RateMarkup.plan == plan))).all())
    if not markups and plan != DEFAULT_PLAN:  # a plan staff added without markups of its own: priced as Basic
        markups = dict((await session.execute(select(RateMarkup.category, RateMarkup.units)
                                              .where(RateMarkup.plan == DEFAULT_PLAN))).all())
    return PriceTable(cards, markups)


def _quarter_start(value: date) -> bool:
    return value.day == 1 and value.month in (1, 4, 7, 10)


def _rate(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_RATE:
        raise Invalid("invalid_rate", f"The {name.replace('_', ' ')} rate must be a whole number of ₹0.0001 "
                                      f"units from 0 to {MAX_RATE:,}, not {value!r}.", {name: "out of range"})
    return value


async def add_card(session: AsyncSession, *, market: str, effective_from: date, effective_until: date | None,
                   rates: dict[str, int], note: str, created_by: str, now: Any) -> RateCard:
    """A new card. Dates are quarter starts (Meta changes rates only then). A card may not overlap another card of
    its market, except that an open-ended card that began earlier is closed at the new card's start (the usual
    quarterly change)."""
    if market not in MARKETS:
        raise Invalid("unknown_market", f"{market!r} is not a market.", {"market": "Choose a market from the list."})
    for name, value in (("effective_from", effective_from), ("effective_until", effective_until)):
        if value is not None and not _quarter_start(value):
            raise Invalid("not_a_quarter_start", f"Rates change on the first day of a quarter (1 Jan, 1 Apr, 1 Jul, "
                                                 f"1 Oct); {value} is not one.", {name: "a quarter start"})
    if effective_until is not None and effective_until <= effective_from:
        raise Invalid("invalid_dates", "The card must end after it starts.", {"effective_until": "after the start"})
    values = {name: _rate(name, rates.get(name)) for name in CATEGORIES}
    others = (await session.execute(select(RateCard).where(RateCard.market == market)
                                    .order_by(RateCard.effective_from).with_for_update())).scalars().all()
    for other in others:
        overlaps = other.effective_from < (effective_until or date.max) and effective_from < (
            other.effective_until or date.max)
        if not overlaps:
            continue
        if other.effective_until is None and other.effective_from < effective_from:
            other.effective_until = effective_from  # superseded from the new card's start
            continue
        until = f"until {other.effective_until}" if other.effective_until else "with no end"
        raise Conflict("overlapping_rate_card", f"A {MARKETS[market]} card from {other.effective_from} {until} "
                                                "overlaps these dates.", {"effective_from": "overlaps"})
    card = RateCard(market=market, effective_from=effective_from, effective_until=effective_until, note=note[:300],
                    created_by=created_by[:200], created_at=now, **values)
    session.add(card)
    await session.flush()
    return card


async def set_markup(session: AsyncSession, *, plan: str, category: str, units: int, now: Any) -> None:
    """The markup of one category for one plan of the catalogue (staff add plans at /backoffice/plans)."""
    from softdukan.plan.service import plans as catalogue

    if plan not in {p.code for p in await catalogue(session, now)}:
        raise Invalid("unknown_plan", f"{plan!r} is not a plan of the catalogue.")
    if category not in CATEGORIES:
        raise Invalid("unknown_category", f"{category!r} is not a category.")
    value = _rate("markup", units)
    row = await session.scalar(select(RateMarkup).where(RateMarkup.plan == plan, RateMarkup.category == category)
                               .with_for_update())
    if row is None:
        session.add(RateMarkup(plan=plan, category=category, units=value, created_at=now))
    else:
        row.units = value
    await session.flush()


async def all_cards(session: AsyncSession) -> list[RateCard]:
    return list((await session.execute(select(RateCard).order_by(RateCard.market, RateCard.effective_from)))
                .scalars())


async def all_markups(session: AsyncSession) -> list[RateMarkup]:
    return list((await session.execute(select(RateMarkup).order_by(RateMarkup.plan, RateMarkup.id))).scalars())
