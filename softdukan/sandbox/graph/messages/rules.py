"""Stateful send rules beyond the envelope (reference §1.1): the throughput upgrade's maintenance window (131057),
account restrictions (368, configurable), Flow blocks and throttling (132068 / 132069)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from softdukan.platform.uow import UnitOfWork
from softdukan.sandbox.graph.errors import GraphFault
from softdukan.sandbox.graph.messages.validate import Outbound
from softdukan.sandbox.graph.profile import Profile
from softdukan.sandbox.models import SandboxFlow, SandboxMessage, SandboxPhoneNumber, SandboxWaba

BUSINESS_INITIATED = "RESTRICTED_BIZ_INITIATED_MESSAGING"
CUSTOMER_INITIATED = "RESTRICTED_CUSTOMER_INITIATED_MESSAGING"


async def check_maintenance(uow: UnitOfWork, phone: SandboxPhoneNumber) -> None:
    """During a throughput upgrade (≤1 min) every call gets 131057; a finished one is applied here if its job
    has not run yet."""
    if phone.upgrade_ends_at is None:
        return
    if uow.clock.now() < phone.upgrade_ends_at:
        raise GraphFault(
            131057,
            "Business account is in maintenance mode: its throughput is being upgraded. Try again in a minute.",
        )
    from softdukan.sandbox.graph.limits import finish_upgrade

    await finish_upgrade(uow, phone.id)


def active_restrictions(waba: SandboxWaba, now_ts: int) -> set[str]:
    return {kind for kind, expires in (waba.restrictions or {}).items() if int(expires) > now_ts}


def check_restriction(uow: UnitOfWork, waba: SandboxWaba, profile: Profile, *, business_initiated: bool) -> None:
    """`account_update` ACCOUNT_RESTRICTION until its `expiration`: business-initiated sends (templates outside
    the service window) or, for RESTRICTED_CUSTOMER_INITIATED_MESSAGING, replies inside it."""
    active = active_restrictions(waba, int(uow.clock.now().timestamp()))
    if not active:
        return
    blocked = BUSINESS_INITIATED if business_initiated else CUSTOMER_INITIATED
    if blocked in active:
        until = int(waba.restrictions[blocked])
        raise GraphFault(
            profile.restriction_code,
            f"This WhatsApp Business account is restricted ({blocked}) from "
            f"{'starting conversations' if business_initiated else 'replying to customers'} until {until}.",
        )


def flow_key(out: Outbound) -> str | None:
    if out.type != "interactive" or out.content.get("type") != "flow":
        return None
    parameters = (out.content.get("action") or {}).get("parameters") or {}
    if parameters.get("flow_id") is not None:
        return f"id:{parameters['flow_id']}"
    return f"name:{parameters.get('flow_name')}"


async def check_flow(
    uow: UnitOfWork, waba: SandboxWaba, business_pk: int, out: Outbound, profile: Profile
) -> str | None:
    """A blocked Flow → 132068; the N-th+1 send of one Flow within an hour (Meta: 10) → 132069."""
    key = flow_key(out)
    if key is None:
        return None
    flow = (
        await uow.session.execute(
            select(SandboxFlow).where(SandboxFlow.waba_pk == waba.id, SandboxFlow.flow_key == key)
        )
    ).scalar_one_or_none()
    if flow is not None and flow.status == "BLOCKED":
        raise GraphFault(132068, f"The Flow {key.split(':', 1)[1]} is blocked and can't be sent.")
    since = uow.clock.now() - timedelta(hours=1)
    sent = (
        await uow.session.execute(
            select(func.count(SandboxMessage.id)).where(
                SandboxMessage.business_pk == business_pk,
                SandboxMessage.flow_key == key,
                SandboxMessage.created_at >= since,
            )
        )
    ).scalar_one()
    if (flow is not None and flow.status == "THROTTLED") or int(sent) >= profile.flow_sends_per_hour:
        raise GraphFault(
            132069,
            f"The Flow {key.split(':', 1)[1]} is throttled: {profile.flow_sends_per_hour} messages using it were "
            "sent in the last hour.",
        )
    return key


async def set_flow_status(uow: UnitOfWork, waba: SandboxWaba, key: str, status: str) -> SandboxFlow:
    flow = (
        await uow.session.execute(
            select(SandboxFlow).where(SandboxFlow.waba_pk == waba.id, SandboxFlow.flow_key == key)
        )
    ).scalar_one_or_none()
    if flow is None:
        flow = SandboxFlow(waba_pk=waba.id, flow_key=key)
        uow.session.add(flow)
    flow.status = status
    await uow.flush()
    return flow
