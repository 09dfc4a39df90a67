"""Questions other domains ask about webhooks received but not routed yet (the routing job may lag behind)."""

from __future__ import annotations

from sqlalchemy import Text, cast, select

from softdukan.inbound.models import FAILED, PENDING, STATUS, InboundEvent
from softdukan.platform.uow import UnitOfWork


async def status_waiting_for(uow: UnitOfWork, account_id: int, callback_data: str) -> bool:
    """Is a status carrying this `biz_opaque_callback_data` stored and still waiting to be routed? (Broadcasts ask
    before sending an unconfirmed attempt again.) Scans only the unrouted events, which the state index holds."""
    needle = f'%"{callback_data}"%'
    found = await uow.session.scalar(select(InboundEvent.id).where(
        InboundEvent.state.in_([PENDING, FAILED]), InboundEvent.account_id == account_id,
        InboundEvent.kind == STATUS, cast(InboundEvent.payload, Text).like(needle)).limit(1))
    return found is not None
