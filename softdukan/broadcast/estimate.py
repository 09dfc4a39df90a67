"""The credit estimate shown before sending: each eligible recipient priced as its send will hold (the rate card
of the recipient's market for the template's category, plus the plan's markup; softdukan/wallet/rates.py).

Recipients are counted by the first digits of their number (enough to tell the country calling code), so the
estimate is one grouped query, whatever the audience's size.
"""

from __future__ import annotations

from collections import Counter

from softdukan.platform.uow import UnitOfWork
from softdukan.wallet.charging import prices
from softdukan.wallet.markets import market_of

PREFIX_DIGITS = 4  # the longest calling codes have 3 digits; a 4th tells NANP's +1 from the rest


async def estimate_units(uow: UnitOfWork, organization_id: int, category: str, by_prefix: Counter[str]) -> int:
    """What the eligible recipients (counted by number prefix) hold, in units of ₹0.0001."""
    markets: Counter[str] = Counter()
    for prefix, count in by_prefix.items():
        markets[market_of(prefix.ljust(12, "0"))] += count
    if not markets:
        return 0
    table = await prices(uow, organization_id, set(markets), uow.clock.now().date())
    return sum(table.hold_units(market, category) * count for market, count in markets.items())
