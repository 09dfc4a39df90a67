"""GST arithmetic: one half-up rounding, CGST = SGST within a state, IGST across states, totals within a paisa of
18 %, and credit notes that add up exactly to their invoice."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from softdukan.billing.tax import TaxSplit, credit_split, round_paise, split_tax


def test_round_paise_is_half_up() -> None:
    assert [round_paise(Decimal(x)) for x in ("0.5", "1.5", "2.5", "900.27", "900.5", "-0.5")] == [1, 2, 3, 900, 901,
                                                                                                    -1]


def test_taxable_100_03_intra_and_inter_differ_by_a_paisa() -> None:
    intra = split_tax(10003, "29", "29")
    inter = split_tax(10003, "29", "27")
    assert (intra.cgst, intra.sgst, intra.igst, intra.total) == (900, 900, 0, 11803)
    assert (inter.cgst, inter.sgst, inter.igst, inter.total) == (0, 0, 1801, 11804)


def test_other_rates_and_zero() -> None:
    assert split_tax(10000, "29", "29", rate_bp=500) == TaxSplit(10000, 250, 250, 0)
    assert split_tax(0, "29", "07") == TaxSplit(0, 0, 0, 0)
    with pytest.raises(ValueError):
        split_tax(-1, "29", "29")


@given(st.integers(min_value=0, max_value=10**12), st.booleans())
def test_total_is_within_a_paisa_of_18_percent(taxable: int, intra: bool) -> None:
    split = split_tax(taxable, "29", "29" if intra else "33")
    assert abs(Decimal(split.total) - Decimal(taxable) * Decimal("1.18")) <= 1
    assert split.total == taxable + split.cgst + split.sgst + split.igst
    assert (split.cgst == split.sgst and split.igst == 0) if intra else (split.cgst == split.sgst == 0)


def test_partial_credit_notes_are_proportional_and_the_last_takes_the_exact_remainder() -> None:
    invoice = split_tax(10003, "29", "29")  # 900 + 900
    first = credit_split(invoice, TaxSplit(0, 0, 0, 0), 3334)
    assert (first.cgst, first.sgst) == (300, 300)  # 900 × 3334 / 10003 = 299.97 → 300
    second = credit_split(invoice, first, 3334)
    last = credit_split(invoice, first + second, 3335)
    assert (last.cgst, last.sgst) == (900 - first.cgst - second.cgst, 900 - first.sgst - second.sgst)
    assert first + second + last == invoice


@given(st.integers(min_value=1, max_value=10**9), st.booleans(), st.lists(st.integers(1, 10**6), max_size=8))
def test_any_sequence_of_credits_never_exceeds_and_full_remainder_is_exact(taxable: int, intra: bool,
                                                                           weights: list[int]) -> None:
    invoice = split_tax(taxable, "29", "29" if intra else "07")
    credited = TaxSplit(0, 0, 0, 0)
    for weight in weights:
        left = invoice.taxable - credited.taxable
        if left <= 1:
            break
        note = credit_split(invoice, credited, max(1, min(left - 1, weight)))
        credited = credited + note
        for head in ("cgst", "sgst", "igst"):
            assert 0 <= getattr(credited, head) <= getattr(invoice, head)
    remainder = credit_split(invoice, credited, invoice.taxable - credited.taxable)
    assert credited + remainder == invoice


def test_a_credit_beyond_what_remains_is_refused() -> None:
    invoice = split_tax(10000, "29", "27")
    with pytest.raises(ValueError):
        credit_split(invoice, TaxSplit(6000, 0, 0, 1080), 4001)
    with pytest.raises(ValueError):
        credit_split(invoice, TaxSplit(0, 0, 0, 0), 0)
