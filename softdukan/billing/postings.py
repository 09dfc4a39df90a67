"""The ledger legs every paid sale shares: output GST by head (a sale credits them; a refund debits them)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from softdukan.ledger import service as ledger
from softdukan.ledger.models import PAISE


async def gst_legs(session: AsyncSession, *, cgst: int, sgst: int, igst: int, direction: str, now: datetime
                   ) -> list[ledger.Leg]:
    """One leg per non-zero head on `gst_output:{head}`."""
    legs = []
    for head, amount in (("cgst", cgst), ("sgst", sgst), ("igst", igst)):
        if amount:
            tax = await ledger.account(session, f"gst_output:{head}", asset=PAISE, kind="tax", now=now)
            legs.append(ledger.Leg(tax.id, direction, amount))
    return legs
