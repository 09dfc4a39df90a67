"""kit/money: one formatter for paise and wallet credit, Indian digit grouping everywhere (an invoice and the
wallet page that links to it show the same amount the same way)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from softdukan.kit.money import credits, credits_to_paisa, paise


@pytest.mark.parametrize(("amount", "shown"), [
    (0, "0.00"), (5, "0.05"), (99_999, "999.99"), (100_000, "1,000.00"), (11_800_050, "1,18,000.50"),
    (123_456_789_00, "12,34,56,789.00"), (-118_000, "-1,180.00"), (Decimal(250), "2.50")])
def test_paise(amount: int, shown: str) -> None:
    assert paise(amount) == shown


@pytest.mark.parametrize(("units", "shown"), [
    (8631, "₹0.8631"), (8600, "₹0.86"), (10_000, "₹1.00"), (5_000_000_000, "₹5,00,000.00"),
    (5_000_000_001, "₹5,00,000.0001"), (-7850, "-₹0.7850"), (0, "₹0.00")])
def test_credits(units: int, shown: str) -> None:
    assert credits(units) == shown


@pytest.mark.parametrize(("units", "shown"), [
    (8631, "₹0.86"), (8650, "₹0.87"), (8649, "₹0.86"), (1_234_567_890, "₹1,23,456.79"), (-8650, "-₹0.87")])
def test_credits_to_paisa(units: int, shown: str) -> None:
    assert credits_to_paisa(units) == shown
