"""Cells of the CSV files we hand out: a cell a spreadsheet would run as a formula gets a leading apostrophe."""

from __future__ import annotations

import re

_NUMBER = re.compile(r"^[+-]?[\d\s().-]+$")  # "+91 98123 45678" and "-5" are values, not formulas


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    if text[:1] in ("=", "@", "\t", "\r") or (text[:1] in ("+", "-") and not _NUMBER.match(text)):
        return "'" + text
    return text
