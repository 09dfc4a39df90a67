"""Meta's own moves on limits (reference §7.1, §7.4, §5.9).

* **Throughput upgrade**: at TIER_UNLIMITED an upgrade (control API `throughput_upgrade: true`) puts the number in
  maintenance for `profile.throughput_upgrade_seconds` (Meta: up to 1 min): every send gets **131057**. Then its
  level becomes HIGH (1,000 mps) and `phone_number_quality_update` `THROUGHPUT_UPGRADE` fires.
* **Messaging-limit auto-scaling**: after a template send that counts toward the limit, if the number's quality is
  high (GREEN) and the portfolio reached ≥50 % of its tier in unique recipients over the last 7 days, a review runs
  `profile.limit_scale_delay_seconds` later (Meta: within 6 h). If still eligible the tier goes one up
  (…→250→2K→10K→100K→unlimited) with `business_capability_update` (max_daily_conversations_per_business) and
  `phone_number_quality_update`.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import distinct, func, select

from softdukan.platform.uow import UnitOfWork
from softdukan.sandbox.graph.errors import GraphFault
from softdukan.sandbox.graph.profile import load_profile
from softdukan.sandbox.graph.webhooks import queue_change
from softdukan.sandbox.models import SandboxBusiness, SandboxMessage, SandboxPhoneNumber, SandboxWaba

NEXT_TIER = {
    "TIER_50": "TIER_250",
    "TIER_250": "TIER_2K",
    "TIER_1K": "TIER_2K",
    "TIER_2K": "TIER_10K",
    "TIER_10K": "TIER_100K",
    "TIER_100K": "TIER_UNLIMITED",
}
TIER_SIZE = {"TIER_50": 50, "TIER_250": 250, "TIER_1K": 1000, "TIER_2K": 2000, "TIER_10K": 10_000, "TIER_100K": 100_000}


async def apply_tier(
    uow: UnitOfWork, business: SandboxBusiness, waba: SandboxWaba, phone: SandboxPhoneNumber, tier: str
) -> None:
    """The portfolio's new messaging limit, with its two webhooks."""
    if tier == business.messaging_limit_tier:
        return
    business.messaging_limit_tier = tier
    await queue_change(
        uow,
        waba,
        "business_capability_update",
        {
            "max_daily_conversations_per_business": tier,
            "max_phone_numbers_per_business": 20 if tier != "TIER_250" else 2,
        },
        with_time=True,
    )
    await queue_change(
        uow,
        waba,
        "phone_number_quality_update",
        {"display_phone_number": phone.wa_number, "event": "ONBOARDING", "max_daily_conversations_per_business": tier},
        with_time=True,
    )


async def start_upgrade(uow: UnitOfWork, phone: SandboxPhoneNumber, business: SandboxBusiness) -> None:
    if business.messaging_limit_tier != "TIER_UNLIMITED":
        raise GraphFault(100, "A throughput upgrade needs the portfolio at TIER_UNLIMITED.")
    if phone.coexistence:
        raise GraphFault(100, "Coexistence numbers stay at 20 messages per second.")
    if phone.throughput_level == "HIGH" or phone.upgrade_ends_at is not None:
        return
    profile = await load_profile(uow)
    phone.upgrade_ends_at = uow.clock.now() + timedelta(seconds=profile.throughput_upgrade_seconds)
    uow.enqueue("sandbox.finish_upgrade", run_at=phone.upgrade_ends_at, phone_pk=phone.id)


async def finish_upgrade(uow: UnitOfWork, phone_pk: int) -> None:
    phone = await uow.session.get(SandboxPhoneNumber, phone_pk, with_for_update=True)
    if phone is None or phone.upgrade_ends_at is None:
        return
    if phone.upgrade_ends_at > uow.clock.now() + timedelta(seconds=1):
        return  # not yet (a job that ran early)
    phone.upgrade_ends_at, phone.throughput_level = None, "HIGH"
    waba = await uow.session.get(SandboxWaba, phone.waba_pk)
    business = await uow.session.get(SandboxBusiness, waba.business_pk) if waba else None
    if waba is None or business is None:
        return
    await queue_change(
        uow,
        waba,
        "phone_number_quality_update",
        {
            "display_phone_number": phone.wa_number,
            "event": "THROUGHPUT_UPGRADE",
            "max_daily_conversations_per_business": business.messaging_limit_tier,
        },
        with_time=True,
    )


async def _eligible(uow: UnitOfWork, business: SandboxBusiness, phone: SandboxPhoneNumber) -> bool:
    size = TIER_SIZE.get(business.messaging_limit_tier)
    if size is None or business.messaging_limit_tier not in NEXT_TIER or phone.quality_rating != "GREEN":
        return False
    since = uow.clock.now() - timedelta(days=7)
    used = (
        await uow.session.execute(
            select(func.count(distinct(SandboxMessage.wa_id))).where(
                SandboxMessage.business_pk == business.id,
                SandboxMessage.counts_toward_limit.is_(True),
                SandboxMessage.created_at >= since,
            )
        )
    ).scalar_one()
    return int(used) * 2 >= size


async def consider_scaling(uow: UnitOfWork, business: SandboxBusiness, phone: SandboxPhoneNumber) -> None:
    """On a counted send: schedule one review if the portfolio looks eligible and none is pending."""
    if business.limit_review_at is not None and business.limit_review_at > uow.clock.now() - timedelta(seconds=1):
        return
    await uow.flush()  # the message just added counts
    if not await _eligible(uow, business, phone):
        return
    profile = await load_profile(uow)
    business.limit_review_at = uow.clock.now() + timedelta(seconds=profile.limit_scale_delay_seconds)
    uow.enqueue("sandbox.review_limit", run_at=business.limit_review_at, business_pk=business.id, phone_pk=phone.id)


async def review_limit(uow: UnitOfWork, business_pk: int, phone_pk: int) -> None:
    business = await uow.session.get(SandboxBusiness, business_pk, with_for_update=True)
    phone = await uow.session.get(SandboxPhoneNumber, phone_pk)
    if business is None or phone is None or phone.waba_pk is None:
        return
    business.limit_review_at = None
    waba = await uow.session.get(SandboxWaba, phone.waba_pk)
    if waba is None or not await _eligible(uow, business, phone):
        return
    await apply_tier(uow, business, waba, phone, NEXT_TIER[business.messaging_limit_tier])
