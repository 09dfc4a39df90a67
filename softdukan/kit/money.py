"""Money as people in India read it: Indian digit grouping (1,18,000.50) everywhere, from integers only.

Two units (README rule 5): paise for what is paid and invoiced, and wallet credit units of ₹0.0001 for per-message
prices and the wallet (`ledger.models.WCC`). One place formats both, so a wallet page and its invoice agree.
"""

from __future__ import annotations

PAISE_PER_RUPEE, UNITS_PER_PAISA = 100, 100


def _grouped(rupees: int) -> str:
    """12345678 → '1,23,45,678': the last three digits, then pairs."""
    digits = str(rupees)
    if len(digits) <= 3:
        return digits
    head, tail = digits[:-3], digits[-3:]
    pairs = [head[max(0, i - 2):i] for i in range(len(head), 0, -2)][::-1]
    return ",".join(pairs) + "," + tail


def _signed(value: int, body: str) -> str:
    return ("-" if value < 0 else "") + body


def paise(amount: int) -> str:
    """'1,18,000.50' (no currency sign: the caller says ₹, Rs. or INR)."""
    amount = int(amount)  # PostgreSQL's SUM is a Decimal
    whole, part = divmod(abs(amount), PAISE_PER_RUPEE)
    return _signed(amount, f"{_grouped(whole)}.{part:02d}")


def credits(units: int) -> str:
    """Wallet credit: '₹0.8631' for a per-message price, '₹1,234.50' for sums in whole paise."""
    units = int(units)
    whole, part = divmod(abs(units), PAISE_PER_RUPEE * UNITS_PER_PAISA)
    fraction = f"{part // UNITS_PER_PAISA:02d}" if part % UNITS_PER_PAISA == 0 else f"{part:04d}"
    return _signed(units, f"₹{_grouped(whole)}.{fraction}")


def credits_to_paisa(units: int) -> str:
    """Wallet credit rounded half up to the paisa: '₹1,234.56' (estimates, totals)."""
    units = int(units)
    rounded = (abs(units) + UNITS_PER_PAISA // 2) // UNITS_PER_PAISA
    return _signed(units, "₹" + paise(rounded))
