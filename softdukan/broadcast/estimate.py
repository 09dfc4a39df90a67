"""The credit estimate shown before sending: eligible recipients × the category's price per delivered message.

SEAM (wallet issue 5): rate cards per market and the plan's markup replace this table; until then every
recipient is priced at India's rates (reference §8.3), in 1/10,000 rupee. Authentication and utility cost the
same; service conversations are free and are never broadcast.
"""

from __future__ import annotations

from datetime import UTC, datetime

MARKETING_2026 = datetime(2026, 1, 1, tzinfo=UTC)
UNIT = 10_000  # price units per rupee


def price_units(category: str, at: datetime) -> int:
    category = category.upper()
    if category == "MARKETING":
        return 8631 if at >= MARKETING_2026 else 7846
    if category in ("UTILITY", "AUTHENTICATION"):
        return 1150
    return 0


def estimate_units(category: str, eligible: int, at: datetime) -> int:
    return price_units(category, at) * max(0, eligible)


def rupees(units: int) -> str:
    """'₹1,234.56' (rounded to the paisa)."""
    paise = (units + 50) // 100
    return f"₹{paise // 100:,}.{paise % 100:02d}"
