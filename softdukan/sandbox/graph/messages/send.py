"""`POST /{phone-number-id}/messages`: sync checks, stateful rules, then 200 + wamid and a status job.

Sync (HTTP error): everything of reference §1.1, throughput 130429, pair rate 131056, CSW 131047 when the
profile says `csw_mode: sync`. Async (`failed` webhook after the 200): CSW 131047, not on WhatsApp 131026,
opt-out 131050 on marketing, the portfolio's messaging limit, injected failures (131049, 130472, 131048, …).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import distinct, func, select

from softdukan.platform.ratelimit import RateLimiter
from softdukan.platform.uow import UnitOfWork
from softdukan.sandbox.graph import counters
from softdukan.sandbox.graph.commerce import check_order, record_order
from softdukan.sandbox.graph.errors import GraphFault
from softdukan.sandbox.graph.ids import conversation_id, wamid
from softdukan.sandbox.graph.limits import consider_scaling
from softdukan.sandbox.graph.messages.marketing import check_lite_body, check_lite_template
from softdukan.sandbox.graph.messages.rules import check_flow, check_maintenance, check_restriction
from softdukan.sandbox.graph.messages.statuses import conversation_for, pricing_for
from softdukan.sandbox.graph.messages.template_send import check_parameters, find_sendable
from softdukan.sandbox.graph.messages.validate import Outbound, check_envelope
from softdukan.sandbox.graph.profile import Profile, chance, load_profile
from softdukan.sandbox.models import (
    SandboxBusiness,
    SandboxCustomer,
    SandboxMedia,
    SandboxMessage,
    SandboxPhoneNumber,
    SandboxThread,
    SandboxWaba,
)

CSW = timedelta(hours=24)
FEP = timedelta(hours=72)
TIER_LIMITS: dict[str, int | None] = {
    "TIER_50": 50,
    "TIER_250": 250,
    "TIER_1K": 1000,
    "TIER_2K": 2000,
    "TIER_10K": 10_000,
    "TIER_100K": 100_000,
    "TIER_UNLIMITED": None,
    "TIER_NOT_SET": 250,
}
MPS = {"STANDARD": 80, "HIGH": 1000, "COEXISTENCE": 20}


def throughput_mps(phone: SandboxPhoneNumber, profile: Profile) -> int:
    if profile.throughput_mps:
        return profile.throughput_mps
    if phone.coexistence:
        return MPS["COEXISTENCE"]
    return MPS.get(phone.throughput_level, 80)


async def consume_throughput(uow: UnitOfWork, phone: SandboxPhoneNumber, profile: Profile) -> bool:
    """Inbound and outbound share one bucket per number (reference §7.1)."""
    return await take_throughput(uow.runtime.limiter, phone, profile)


async def take_throughput(limiter: RateLimiter, phone: SandboxPhoneNumber, profile: Profile) -> bool:
    mps = throughput_mps(phone, profile)
    decision = await limiter.hit(f"sandbox:throughput:{phone.phone_number_id}", limit=mps, period=1.0)
    return decision.allowed


async def take_pair_rate(limiter: RateLimiter, phone: SandboxPhoneNumber, wa_id: str) -> None:
    """131056 beyond Meta's pair rate to one user (reference §7.1)."""
    pair = await limiter.hit(f"sandbox:pair:{phone.phone_number_id}:{wa_id}", limit=45, period=45 * 6.0)
    if not pair.allowed:
        raise GraphFault(
            131056,
            "Message failed to send because there were too many messages sent from this "
            "phone number to the same phone number in a short period of time.",
        )


def throughput_fault() -> GraphFault:
    return GraphFault(130429, "Cloud API message throughput has been reached.")


async def get_thread(uow: UnitOfWork, phone: SandboxPhoneNumber, wa_id: str) -> SandboxThread:
    thread = (
        await uow.session.execute(
            select(SandboxThread).where(SandboxThread.phone_pk == phone.id, SandboxThread.wa_id == wa_id)
        )
    ).scalar_one_or_none()
    if thread is None:
        thread = SandboxThread(phone_pk=phone.id, wa_id=wa_id)
        uow.session.add(thread)
    return thread


async def get_customer(uow: UnitOfWork, wa_id: str, name: str | None = None) -> SandboxCustomer:
    customer = (
        await uow.session.execute(select(SandboxCustomer).where(SandboxCustomer.wa_id == wa_id))
    ).scalar_one_or_none()
    if customer is None:
        customer = SandboxCustomer(
            wa_id=wa_id, name=name or f"Customer {wa_id[-4:]}", on_whatsapp=True, opted_out_marketing=False
        )
        uow.session.add(customer)
    return customer


async def mark_read(uow: UnitOfWork, phone: SandboxPhoneNumber, body: dict[str, Any]) -> dict[str, Any]:
    """The business marks an inbound message read (optionally with a typing indicator)."""
    message_id = body.get("message_id")
    if not isinstance(message_id, str) or not message_id:
        raise GraphFault(131008, "The parameter message_id is required.")
    typing = body.get("typing_indicator")
    if typing is not None and (not isinstance(typing, dict) or str(typing.get("type", "")).lower() != "text"):
        raise GraphFault(131009, "Param typing_indicator.type must be 'text'.")
    message = (
        await uow.session.execute(
            select(SandboxMessage).where(SandboxMessage.wamid == message_id, SandboxMessage.phone_pk == phone.id)
        )
    ).scalar_one_or_none()
    if message is None or message.direction != "in":
        raise GraphFault(100, f"Invalid parameter: message_id {message_id} is not a message received by this number.")
    message.status, message.read_at = "read", message.read_at or uow.clock.now()
    return {"success": True}


def check_sender(phone: SandboxPhoneNumber, waba: SandboxWaba, out: Outbound) -> None:
    """The sender's checks that need no query (the fast path runs them on cached rows)."""
    if not phone.registered or phone.status != "CONNECTED":
        raise GraphFault(133010, "The phone number is not registered on the Cloud API. Register it first.")
    if waba.status != "ACTIVE" or not waba.payment_method_ok:
        raise GraphFault(131042, "The WhatsApp Business account has no valid payment method or is suspended.")
    if phone.is_test_number and phone.name_status != "APPROVED":
        raise GraphFault(131037, "The display name of this number has not been approved yet.")
    if out.wa_id == phone.wa_number:
        raise GraphFault(131021, "The recipient is the sender's own phone number.")
    if phone.is_test_number and out.wa_id not in (phone.allowed_recipients or []):
        raise GraphFault(131030, "Recipient phone number not in allowed list: add it in the App Dashboard.")
    if out.needs_payments and not waba.payments_tos_accepted:
        raise GraphFault(134011, "The WhatsApp Business account has not accepted the WhatsApp Payments terms.")


async def _check_sender(uow: UnitOfWork, phone: SandboxPhoneNumber, waba: SandboxWaba, out: Outbound) -> None:
    check_sender(phone, waba, out)
    now = uow.clock.now()
    for media_id in out.media_ids:
        media = (
            await uow.session.execute(select(SandboxMedia).where(SandboxMedia.media_id == media_id))
        ).scalar_one_or_none()
        if media is None or media.deleted_at is not None or media.business_pk != waba.business_pk:
            raise GraphFault(131009, f"Media id {media_id} does not exist or does not belong to this business.")
        if media.expires_at <= now:
            raise GraphFault(131009, f"Media id {media_id} has expired; upload the file again.")


async def _over_messaging_limit(uow: UnitOfWork, business: SandboxBusiness, wa_id: str) -> bool:
    limit = TIER_LIMITS.get(business.messaging_limit_tier, 250)
    if limit is None:
        return False
    since = uow.clock.now() - timedelta(hours=24)
    base = select(SandboxMessage.wa_id).where(
        SandboxMessage.business_pk == business.id,
        SandboxMessage.counts_toward_limit.is_(True),
        SandboxMessage.created_at >= since,
    )
    already = (await uow.session.execute(base.where(SandboxMessage.wa_id == wa_id).limit(1))).first()
    if already is not None:
        return False
    count = (
        await uow.session.execute(
            select(func.count(distinct(SandboxMessage.wa_id))).where(
                SandboxMessage.business_pk == business.id,
                SandboxMessage.counts_toward_limit.is_(True),
                SandboxMessage.created_at >= since,
            )
        )
    ).scalar_one()
    return int(count) >= limit


def injected(profile: Profile, message_wamid: str, wa_id: str, category: str | None) -> int | None:
    for rule in profile.failures:
        if rule.recipient and rule.recipient.lstrip("+") != wa_id:
            continue
        if rule.categories is not None and (category or "SERVICE").upper() not in [c.upper() for c in rule.categories]:
            continue
        if chance(f"{message_wamid}:{rule.code}", rule.ratio):
            return rule.code
    return None


async def send_message(
    uow: UnitOfWork, phone: SandboxPhoneNumber, body: dict[str, Any], *, lite: bool = False
) -> dict[str, Any]:
    """`lite`: the MM Lite endpoint (`/marketing_messages`)."""
    if lite:
        check_lite_body(body)
    elif str(body.get("status", "")).lower() == "read" and "message_id" in body:
        return await mark_read(uow, phone, body)
    waba = await uow.session.get(SandboxWaba, phone.waba_pk)
    assert waba is not None
    business = await uow.session.get(SandboxBusiness, waba.business_pk)
    assert business is not None
    out = check_envelope(body)
    await _check_sender(uow, phone, waba, out)
    await check_maintenance(uow, phone)
    profile = await load_profile(uow)
    category: str | None = None
    if out.type == "template":
        template = await find_sendable(uow, waba, out.content["name"], out.content["language"]["code"])
        if lite:
            check_lite_template(uow, template, profile)
        check_parameters(template, out.content.get("components", []))
        category = template.category
    flow = await check_flow(uow, waba, business.id, out, profile)
    await check_order(uow, business.id, out)
    if profile.enforce_throughput and not await consume_throughput(uow, phone, profile):
        raise throughput_fault()
    if profile.enforce_pair_rate:
        await take_pair_rate(uow.runtime.limiter, phone, out.wa_id)
    now = uow.clock.now()
    thread = await get_thread(uow, phone, out.wa_id)
    customer = await get_customer(uow, out.wa_id)
    in_csw = thread.last_inbound_at is not None and now < thread.last_inbound_at + CSW
    check_restriction(uow, waba, profile, business_initiated=out.type == "template" and not in_csw)
    if out.type != "template" and not in_csw and profile.csw_mode == "sync":
        raise GraphFault(
            131047,
            "Message failed to send because more than 24 hours have passed since the customer "
            "last replied to this number.",
        )
    message_wamid = wamid(out.wa_id)
    error_code: int | None = None
    if out.type != "template" and not in_csw:
        error_code = 131047
    elif not customer.on_whatsapp:
        error_code = 131026
    elif customer.failure_code:
        error_code = customer.failure_code
    elif category == "MARKETING" and customer.opted_out_marketing:
        error_code = 131050
    counts = out.type == "template" and not in_csw
    if error_code is None and counts and await _over_messaging_limit(uow, business, out.wa_id):
        error_code = profile.messaging_limit_code
    if error_code is None:
        error_code = injected(profile, message_wamid, out.wa_id, category)
    in_fep = thread.fep_expires_at is not None and now < thread.fep_expires_at
    if (
        error_code is None
        and not in_fep
        and thread.referral_at is not None
        and now < thread.referral_at + CSW
        and (thread.fep_opened_at is None or thread.fep_opened_at < thread.referral_at)
    ):
        thread.fep_opened_at, thread.fep_expires_at = now, now + FEP  # the reply opens the free entry point window
        thread.fep_conversation_id = conversation_id()
        in_fep = True
    message = SandboxMessage(
        wamid=message_wamid,
        phone_pk=phone.id,
        business_pk=business.id,
        wa_id=out.wa_id,
        direction="out",
        type=out.type,
        payload=out.message,
        status="accepted",
        error_code=error_code,
        template_category=category,
        pricing=pricing_for(
            is_template=out.type == "template",
            category="MARKETING_LITE" if lite else category,
            in_csw=in_csw,
            in_fep=in_fep,
        ),
        conversation=conversation_for(
            now,
            fep_id=thread.fep_conversation_id if in_fep else None,
            fep_expires=thread.fep_expires_at if in_fep else None,
        ),
        biz_opaque_callback_data=out.biz_opaque_callback_data,
        context_wamid=out.context_wamid,
        counts_toward_limit=counts and error_code is None,
        flow_key=flow,
        created_at=now,
    )
    uow.session.add(message)
    await uow.flush()
    await record_order(uow, business.id, phone, out)
    if message.counts_toward_limit:
        await consider_scaling(uow, business, phone)
    uow.enqueue(
        "sandbox.message_status",
        run_at=now + timedelta(seconds=profile.sent_after_seconds),
        message_id=message.id,
        status="sent",
    )
    counters.accepted()
    return accepted_body(out, message_wamid)


def accepted_body(out: Outbound, message_wamid: str) -> dict[str, Any]:
    sent: dict[str, Any] = {"id": message_wamid}
    if out.type == "template":
        sent["message_status"] = "accepted"
    return {
        "messaging_product": "whatsapp",
        "contacts": [{"input": out.to_input, "wa_id": out.wa_id}],
        "messages": [sent],
    }
