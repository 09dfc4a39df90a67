"""Helpers for the billing tests: issue documents through the real service, each in its own transaction."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from softdukan.billing.models import BillingDocument
from softdukan.billing.profile import ProfileInput, billing_profile_service
from softdukan.billing.service import LineIn, billing_service
from softdukan.platform.runtime import Runtime
from softdukan.platform.uow import unit_of_work
from tests.support.factories import OrgFixture

IST = ZoneInfo("Asia/Kolkata")
MAHARASHTRA_GSTIN = "27AAPFU0939F1ZV"


def ist(*args: int) -> datetime:
    return datetime(*args, tzinfo=IST)  # type: ignore[misc]


async def issue(runtime: Runtime, org: OrgFixture, source_id: str, *, taxable: int = 10_000, paid: bool = True,
                buyer_state: str | None = None) -> BillingDocument:
    async with unit_of_work(runtime) as uow:
        return await billing_service.issue_invoice(
            uow, org.org.id, lines=[LineIn("Wallet recharge (WhatsApp conversation credits)", taxable)],
            source="wallet_recharge", source_id=source_id, paid=paid, buyer_state=buyer_state)


async def save_profile(runtime: Runtime, org: OrgFixture, **changes: str | None) -> None:
    values: dict[str, str | None] = {"legal_name": "Pune Tea Traders LLP", "address_line1": "14 FC Road",
                                     "city": "Pune", "state_code": "27", "pin_code": "411004",
                                     "email": "accounts@punetea.example", "gstin": MAHARASHTRA_GSTIN}
    values.update(changes)
    async with unit_of_work(runtime) as uow:
        await billing_profile_service.save(uow, org.subject, ProfileInput(**values))  # type: ignore[arg-type]
