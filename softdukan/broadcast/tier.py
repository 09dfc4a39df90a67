"""The portfolio's messaging limit (reference §7.4): unique users reached with templates in a rolling 24 hours,
shared by every number of the WhatsApp Business account. Recipients beyond the remaining allowance wait.

What counts: the distinct contacts this account's numbers sent a template to in the last 24 hours (pending,
accepted or better; failed ones don't count). Meta counts only sends outside the customer service window; we count
every template, so the allowance we compute is never larger than Meta's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from softdukan.conversation.models import OUTBOUND, Message
from softdukan.number.models import PhoneNumber, WhatsAppAccount

WINDOW = timedelta(hours=24)
TIER_SIZE: dict[str, int | None] = {"TIER_50": 50, "TIER_250": 250, "TIER_1K": 1000, "TIER_2K": 2000,
                                    "TIER_10K": 10_000, "TIER_100K": 100_000, "TIER_UNLIMITED": None}


def tier_size(tier: str | None) -> int | None:
    return TIER_SIZE.get(tier or "", 250)  # unknown or unset: the starting tier


@dataclass(frozen=True)
class Allowance:
    tier: str
    limit: int | None  # None: unlimited
    used: int
    frees_at: datetime | None  # when the oldest counted send leaves the window

    @property
    def remaining(self) -> int | None:
        return None if self.limit is None else max(0, self.limit - self.used)


async def allowance(session: AsyncSession, account: WhatsAppAccount, now: datetime) -> Allowance:
    limit = tier_size(account.messaging_limit_tier)
    if limit is None:
        return Allowance(account.messaging_limit_tier, None, 0, None)
    since = now - WINDOW
    numbers = select(PhoneNumber.id).where(PhoneNumber.organization_id == account.organization_id,
                                           PhoneNumber.account_id == account.id)
    counted = (Message.organization_id == account.organization_id, Message.phone_number_id.in_(numbers),
               Message.direction == OUTBOUND, Message.type == "template", Message.occurred_at >= since,
               Message.status != "failed")
    row = (await session.execute(select(func.count(distinct(Message.contact_id)), func.min(Message.occurred_at))
                                 .where(*counted))).one()
    oldest = row[1]
    return Allowance(account.messaging_limit_tier, limit, int(row[0] or 0), oldest + WINDOW if oldest else None)
