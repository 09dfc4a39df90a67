"""GSTIN validation (../shared/reference/billing-india.md §4.2): 15 characters — a state code that exists, a PAN
(whose 4th character names the holder type), the entity number, 'Z', and a check character computed with the
base-36 Luhn algorithm. Every refusal is `Invalid("invalid_gstin", …)` saying exactly what is wrong."""

from __future__ import annotations

import re
from dataclasses import dataclass

from softdukan.billing.states import STATES
from softdukan.platform.errors import Invalid

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
PAN = re.compile(r"[A-Z]{5}[0-9]{4}[A-Z]")
HOLDER_TYPES = {"C": "company", "P": "individual", "F": "firm or LLP", "H": "Hindu undivided family",
                "A": "association of persons", "B": "body of individuals", "G": "government",
                "J": "artificial juridical person", "L": "local authority", "T": "trust"}


@dataclass(frozen=True)
class Gstin:
    value: str  # normalised: 15 upper-case characters
    state_code: str
    pan: str
    holder_type: str  # "company", "firm or LLP", …
    entity_code: str

    @property
    def state_name(self) -> str:
        return STATES[self.state_code]


def check_character(first14: str) -> str:
    """Multiply the values by 1, 2, 1, 2 … from the left, fold each product to p // 36 + p % 36, sum: the check
    character is the one at (36 − sum mod 36) mod 36."""
    total = 0
    for i, char in enumerate(first14):
        product = ALPHABET.index(char) * (1 if i % 2 == 0 else 2)
        total += product // 36 + product % 36
    return ALPHABET[(36 - total % 36) % 36]


def _refuse(value: str, problem: str, field: str) -> Invalid:
    message = f"“{value}” is not a valid GSTIN: {problem}"
    return Invalid("invalid_gstin", message, {field: message})


def parse_gstin(raw: str, *, field: str = "gstin") -> Gstin:
    """The GSTIN (spaces around it and lower case forgiven) or `Invalid("invalid_gstin")` naming the problem."""
    value = raw.strip().upper()
    shown = value if len(value) <= 20 else value[:20] + "…"
    if len(value) != 15:
        raise _refuse(shown, f"a GSTIN has 15 characters, this has {len(value)}.", field)
    if not all(char in ALPHABET for char in value):
        raise _refuse(shown, "only the letters A–Z and digits 0–9 may appear.", field)
    state = value[:2]
    if state not in STATES:
        raise _refuse(value, f"it starts with {state}, which is not an Indian GST state code.", field)
    pan = value[2:12]
    if not PAN.fullmatch(pan):
        raise _refuse(value, f"characters 3–12 ({pan}) must be a PAN: five letters, four digits, a letter.", field)
    if pan[3] not in HOLDER_TYPES:
        raise _refuse(value, f"the PAN's 4th character, {pan[3]}, is not a holder type "
                             f"({', '.join(HOLDER_TYPES)}).", field)
    if value[12] == "0":
        raise _refuse(value, "the 13th character (the registration number for this PAN) can't be 0.", field)
    if value[13] != "Z":
        raise _refuse(value, f"the 14th character should be Z, not {value[13]}.", field)
    expected = check_character(value[:14])
    if value[14] != expected:
        raise _refuse(value, f"the check character (the last one) should be {expected}, not {value[14]}; "
                             "please check for a mistyped character.", field)
    return Gstin(value, state, pan, HOLDER_TYPES[pan[3]], value[12])


def is_valid_gstin(raw: str) -> bool:
    try:
        parse_gstin(raw)
    except Invalid:
        return False
    return True
