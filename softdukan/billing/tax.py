"""GST arithmetic in integer paise (../shared/reference/billing-india.md §4.1, §4.7).

One function rounds every head: `round_paise`, half up. Intra-state (supplier's state = place of supply):
CGST = SGST = round(taxable × rate/2); inter-state: IGST = round(taxable × rate). The two can differ by a paisa
(taxable ₹100.03: 900 + 900 against 1801); either total is within a paisa of taxable × (1 + rate).
A credit note's tax is proportional to the invoice's per head, and the one that credits what remains takes the
exact remaining tax, so the credit notes of an invoice never add up to more or less than it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

GST_RATE_BP = 1800  # 18 % in basis points: SaaS and IT services
INTRA, INTER = "intra", "inter"


def round_paise(amount: Decimal) -> int:
    """Paise, rounded half up: the one rounding of every tax head."""
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class TaxSplit:
    taxable: int
    cgst: int
    sgst: int
    igst: int

    @property
    def tax(self) -> int:
        return self.cgst + self.sgst + self.igst

    @property
    def total(self) -> int:
        return self.taxable + self.tax

    def __add__(self, other: TaxSplit) -> TaxSplit:
        return TaxSplit(self.taxable + other.taxable, self.cgst + other.cgst, self.sgst + other.sgst,
                        self.igst + other.igst)

    def __sub__(self, other: TaxSplit) -> TaxSplit:
        return TaxSplit(self.taxable - other.taxable, self.cgst - other.cgst, self.sgst - other.sgst,
                        self.igst - other.igst)


ZERO = TaxSplit(0, 0, 0, 0)


def supply_type(supplier_state: str, place_of_supply_state: str) -> str:
    return INTRA if supplier_state == place_of_supply_state else INTER


def split_tax(taxable_paise: int, supplier_state: str, place_of_supply_state: str,
              rate_bp: int = GST_RATE_BP) -> TaxSplit:
    """The tax heads of a taxable value: CGST + SGST within a state, IGST across states."""
    if taxable_paise < 0 or rate_bp < 0:
        raise ValueError("taxable value and rate must not be negative")
    taxable = Decimal(taxable_paise)
    if supply_type(supplier_state, place_of_supply_state) == INTRA:
        half = round_paise(taxable * rate_bp / 2 / 10_000)
        return TaxSplit(taxable_paise, half, half, 0)
    return TaxSplit(taxable_paise, 0, 0, round_paise(taxable * rate_bp / 10_000))


def prorate(amount: int, part: int, whole: int) -> int:
    """`amount × part / whole`, rounded by `round_paise`."""
    return round_paise(Decimal(amount) * part / whole) if whole else 0


def credit_split(invoice: TaxSplit, credited: TaxSplit, taxable_paise: int) -> TaxSplit:
    """The heads of a credit note for `taxable_paise` of an invoice of which `credited` was credited already:
    proportional to the invoice's heads, never more than remains of each, and exactly what remains when the note
    credits the rest of the taxable value."""
    remaining = invoice - credited
    if not 0 < taxable_paise <= remaining.taxable:
        raise ValueError("a credit note credits more than nothing and at most what remains")
    if taxable_paise == remaining.taxable:
        return remaining

    def head(total: int, left: int) -> int:
        return max(0, min(left, prorate(total, taxable_paise, invoice.taxable)))

    return TaxSplit(taxable_paise, head(invoice.cgst, remaining.cgst), head(invoice.sgst, remaining.sgst),
                    head(invoice.igst, remaining.igst))
