"""A broadcast stopping by itself (template paused, disabled or re-categorized; the number or account can't send),
with the notice the dashboard shows and a live event. Resuming is the user's decision (service.resume)."""

from __future__ import annotations

from sqlalchemy import select, update

from softdukan.broadcast import states as s
from softdukan.broadcast.events import BroadcastPaused, progressed
from softdukan.broadcast.models import Broadcast
from softdukan.broadcast.outcomes import PAUSE_NOTICES
from softdukan.platform.uow import UnitOfWork


def notice_for(broadcast: Broadcast, reason: str, detail: str | None = None, *, old: str | None = None,
               new: str | None = None, who: str | None = None) -> str:
    text = PAUSE_NOTICES.get(reason, "The broadcast is paused ({detail}).")
    return text.format(template=broadcast.template_name, detail=detail or reason, old=old or "?",
                       new=new or "?", who=who or "a member")


async def pause_broadcast(uow: UnitOfWork, broadcast: Broadcast, reason: str, detail: str | None, *,
                          notice: str | None = None) -> bool:
    """sending|scheduled → paused (a guarded UPDATE: only the first of several reasons wins). True if it paused."""
    text = notice or notice_for(broadcast, reason, detail)
    now = uow.clock.now()
    result = await uow.session.execute(
        update(Broadcast).where(Broadcast.id == broadcast.id, Broadcast.status.in_([s.SENDING, s.SCHEDULED]))
        .values(status=s.PAUSED, paused_at=now, pause_reason=reason, notice=text[:2000], updated_at=now)
        .execution_options(synchronize_session=False))
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    await uow.session.refresh(broadcast)
    if reason != s.BY_USER:
        uow.emit(BroadcastPaused(organization_id=broadcast.organization_id, broadcast_id=broadcast.id,
                                 name=broadcast.name, notice=text[:300]))
    progressed(uow, broadcast.organization_id, broadcast.id, s.PAUSED, force=True)
    return True


async def resume_after_recharge(uow: UnitOfWork, organization_id: int) -> list[int]:
    """Credits came in: broadcasts the empty wallet paused go on (a guarded UPDATE from paused-for-credits, so a
    broadcast the user paused or cancelled meanwhile stays as it is). Returns their ids."""
    from softdukan.broadcast.dispatch import enqueue_dispatch

    now = uow.clock.now()
    ids = list((await uow.session.execute(
        update(Broadcast).where(Broadcast.organization_id == organization_id, Broadcast.status == s.PAUSED,
                                Broadcast.pause_reason == s.INSUFFICIENT_CREDITS)
        .values(status=s.SENDING, pause_reason=None, notice=None, paused_at=None, updated_at=now)
        .returning(Broadcast.id).execution_options(synchronize_session=False))).scalars())
    for broadcast in (await uow.session.execute(select(Broadcast).where(Broadcast.id.in_(ids)))).scalars():
        enqueue_dispatch(uow, broadcast)
        progressed(uow, organization_id, broadcast.id, s.SENDING, force=True)
    return ids
