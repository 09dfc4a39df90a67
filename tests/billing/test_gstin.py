"""GSTIN validation: the reference's samples, every single-character substitution and adjacent transposition of
valid GSTINs, unknown state codes, and messages that say what is wrong."""

from __future__ import annotations

import pytest

from softdukan.billing.gstin import ALPHABET, check_character, is_valid_gstin, parse_gstin
from softdukan.config import Settings
from softdukan.platform.errors import Invalid

VALID = ["27AAPFU0939F1ZV", "29AAECP5056A1ZL", "09AANCP5021C1ZL", Settings().supplier_gstin]


@pytest.mark.parametrize("value", VALID)
def test_valid_samples_pass(value: str) -> None:
    gstin = parse_gstin(f"  {value.lower()} ")
    assert gstin.value == value
    assert gstin.state_code == value[:2] and gstin.pan == value[2:12]


def test_parts_are_read() -> None:
    gstin = parse_gstin("27AAPFU0939F1ZV")
    assert (gstin.state_name, gstin.holder_type, gstin.entity_code) == ("Maharashtra", "firm or LLP", "1")
    assert check_character("27AAPFU0939F1Z") == "V"


def _substitutions(value: str) -> set[str]:
    return {value[:i] + char + value[i + 1:] for i in range(15) for char in ALPHABET if char != value[i]}


def _transpositions(value: str) -> set[str]:
    return {value[:i] + value[i + 1] + value[i] + value[i + 2:] for i in range(14) if value[i] != value[i + 1]}


@pytest.mark.parametrize("value", VALID)
def test_every_single_substitution_and_adjacent_transposition_fails(value: str) -> None:
    variants = _substitutions(value) | _transpositions(value)
    assert len(variants) >= 15 * 35
    accepted = sorted(v for v in variants if is_valid_gstin(v))
    assert accepted == []


def test_reference_counts_of_changed_samples() -> None:
    samples = VALID[:3]
    assert sum(len(_substitutions(v) | _transpositions(v)) for v in samples) == 1614


@pytest.mark.parametrize(("value", "says"), [
    ("27AAPFU0939F1ZA", "check character (the last one) should be V, not A"),
    ("29AAECP5065A1ZL", "should be K, not L"),
    ("09AANCP5021C1YL", "14th character should be Z"),
    ("99AAPFU0939F1ZV", "99, which is not an Indian GST state code"),
    ("00AAPFU0939F1ZV", "00, which is not an Indian GST state code"),
    ("28AAPFU0939F1ZV", "28, which is not an Indian GST state code"),  # undivided Andhra Pradesh, before GST
    ("27AAPFU0939F1Z", "a GSTIN has 15 characters, this has 14"),
    ("27AAPXU0939F1ZV", "PAN's 4th character, X, is not a holder type"),
    ("27AAPF10939F1ZV", "characters 3–12 (AAPF10939F) must be a PAN"),
    ("27AAPFU0939F0ZV", "13th character"),
    ("27AAPFU0939F1Z*", "only the letters A–Z and digits 0–9"),
])
def test_a_wrong_gstin_is_refused_saying_what_is_wrong(value: str, says: str) -> None:
    with pytest.raises(Invalid) as refused:
        parse_gstin(value)
    assert refused.value.code == "invalid_gstin" and refused.value.status == 422
    assert says in refused.value.message, refused.value.message
    assert refused.value.details == {"gstin": refused.value.message}


def test_a_state_code_that_exists_but_is_wrong_for_the_checksum_still_fails() -> None:
    # 27 → 29 (Karnataka exists) with the rest unchanged: only the check character catches it
    assert not is_valid_gstin("29AAPFU0939F1ZV")
    assert is_valid_gstin("29AAPFU0939F1Z" + check_character("29AAPFU0939F1Z"))


def test_a_wrong_supplier_gstin_stops_startup() -> None:
    with pytest.raises(ValueError, match="SUPPLIER_GSTIN"):
        Settings(supplier_gstin="29AAHCS7719K1ZA")
    with pytest.raises(ValueError, match="SUPPLIER_STATE 27"):
        Settings(supplier_state="27")
