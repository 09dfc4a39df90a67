"""Document numbers (CGST Rule 46(b)): at most 16 characters of A–Z, 0–9, '/' and '-', consecutive and unique per
supplier GSTIN, financial year and document type. The financial year runs 1 April – 31 March in India's time.

Invoices: `SD/2627/000123` (8-character prefix; the counter is padded to 6 digits and may grow to 8, so up to
99,999,999 invoices a year fit in 16 characters). Credit notes, their own series: `SDCN/2627/00012` (10-character
prefix, padded to 5, up to 999,999 a year). Past that the issue is refused and rolls back (nothing is burned).
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from softdukan.billing.models import CREDIT_NOTE, INVOICE
from softdukan.platform.errors import Conflict

INDIA = ZoneInfo("Asia/Kolkata")
MAX_LENGTH = 16
ALLOWED = re.compile(r"[A-Z0-9/-]{1,16}")
PREFIXES = {INVOICE: "SD", CREDIT_NOTE: "SDCN"}
PADDING = {INVOICE: 6, CREDIT_NOTE: 5}


def financial_year(at: datetime) -> str:
    """"2026-27" for any instant from 1 April 2026 00:00 to 31 March 2027 23:59:59.999 in India."""
    local = at.astimezone(INDIA)
    start = local.year if local.month >= 4 else local.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


def series_prefix(doc_type: str, fy: str) -> str:
    """"SD/2627/" for invoices of 2026-27."""
    return f"{PREFIXES[doc_type]}/{fy[2:4]}{fy[5:7]}/"


def capacity(prefix: str) -> int:
    """The largest counter a number with this prefix can carry within 16 characters."""
    return 10 ** (MAX_LENGTH - len(prefix)) - 1


def format_number(prefix: str, doc_type: str, value: int) -> str:
    if not 1 <= value <= capacity(prefix):
        raise Conflict("document_series_full", f"The {doc_type.replace('_', ' ')} series {prefix} has no numbers "
                                               f"left this financial year ({capacity(prefix):,} issued).")
    number = f"{prefix}{value:0{PADDING.get(doc_type, 6)}d}"
    assert ALLOWED.fullmatch(number), number  # Rule 46(b); guarded by capacity()
    return number
