"""What an invoice or credit note shows, for the HTML page and the PDF alike: amounts in Indian digit grouping,
the amount in words, rates per head and the Rule 46 particulars in one `Printable` view."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from softdukan.billing.models import CREDIT_NOTE, BillingDocument, BillingDocumentLine
from softdukan.billing.numbering import INDIA
from softdukan.billing.states import state_label
from softdukan.billing.tax import INTER

ONES = ["", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten", "Eleven", "Twelve",
        "Thirteen", "Fourteen", "Fifteen", "Sixteen", "Seventeen", "Eighteen", "Nineteen"]
TENS = ["", "", "Twenty", "Thirty", "Forty", "Fifty", "Sixty", "Seventy", "Eighty", "Ninety"]


def rate(rate_bp: int | Decimal) -> str:
    """"9%" or "2.5%"."""
    return f"{Decimal(rate_bp) / 100:f}".rstrip("0").rstrip(".") + "%"


def _below_thousand(n: int) -> list[str]:
    words = []
    if n >= 100:
        words += [ONES[n // 100], "Hundred"]
        n %= 100
    if n >= 20:
        words.append(TENS[n // 10] + (f"-{ONES[n % 10]}" if n % 10 else ""))
    elif n:
        words.append(ONES[n])
    return words


def _number_words(n: int) -> list[str]:
    """Indian system: crore, lakh, thousand."""
    if n == 0:
        return ["Zero"]
    words: list[str] = []
    crore, n = divmod(n, 10_000_000)
    if crore:
        words += [*_number_words(crore), "Crore"]
    for size, name in ((100_000, "Lakh"), (1_000, "Thousand")):
        part, n = divmod(n, size)
        if part:
            words += [*_below_thousand(part), name]
    return words + _below_thousand(n)


def amount_in_words(paise: int) -> str:
    """"Rupees One Lakh Eighteen Thousand and Fifty Paise Only"."""
    whole, fraction = divmod(paise, 100)
    text = "Rupees " + " ".join(_number_words(whole))
    if fraction:
        text += " and " + " ".join(_below_thousand(fraction)) + " Paise"
    return text + " Only"


@dataclass(frozen=True)
class Head:
    name: str  # "CGST"
    rate: str  # "9%"; "" on totals
    paise: int


@dataclass(frozen=True)
class PrintLine:
    line: BillingDocumentLine
    heads: list[Head]


@dataclass(frozen=True)
class Printable:
    document: BillingDocument
    lines: list[PrintLine]
    original: BillingDocument | None

    @property
    def title(self) -> str:
        return "Credit note" if self.document.doc_type == CREDIT_NOTE else "Tax invoice"

    @property
    def date(self) -> str:
        issued = self.document.issued_at or self.document.created_at
        return issued.astimezone(INDIA).strftime("%d %b %Y")

    @property
    def head_names(self) -> list[str]:
        return ["IGST"] if self.document.supply_type == INTER else ["CGST", "SGST"]

    @property
    def totals(self) -> list[Head]:
        d = self.document
        if d.supply_type == INTER:
            return [Head("IGST", "", d.igst_paise)]
        return [Head("CGST", "", d.cgst_paise), Head("SGST", "", d.sgst_paise)]

    @property
    def place_of_supply(self) -> str:
        return state_label(self.document.place_of_supply)

    @property
    def buyer_state(self) -> str:
        return state_label(self.document.buyer_state)

    @property
    def supplier_state(self) -> str:
        return state_label(self.document.supplier_state)

    @property
    def in_words(self) -> str:
        return amount_in_words(self.document.total_paise)


def printable(document: BillingDocument, lines: list[BillingDocumentLine],
              original: BillingDocument | None = None) -> Printable:
    def heads(line: BillingDocumentLine) -> list[Head]:
        if document.supply_type == INTER:
            return [Head("IGST", rate(line.rate_bp), line.igst_paise)]
        half = rate(Decimal(line.rate_bp) / 2)
        return [Head("CGST", half, line.cgst_paise), Head("SGST", half, line.sgst_paise)]

    return Printable(document, [PrintLine(line, heads(line)) for line in lines], original)
