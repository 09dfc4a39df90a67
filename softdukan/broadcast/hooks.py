"""What other domains tell broadcasts, inside their own unit of work:

- a status of one of our messages (conversation routing): an attempt accepted, sent, delivered or read resolves
  its recipient as `sent` (this is how an attempt whose answer was lost is found); a failure applies the error
  policy (131049 another day, the rest failed with the reason);
- a customer's message (conversation routing): the latest broadcast they got on that number within 72 hours
  counts as replied;
- a template change (template webhooks): paused, disabled or re-categorized pauses every broadcast using it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from softdukan.broadcast import claims
from softdukan.broadcast import states as s
from softdukan.broadcast.dispatch import enqueue_dispatch
from softdukan.broadcast.events import progressed
from softdukan.broadcast.models import Broadcast, BroadcastRecipient
from softdukan.broadcast.pausing import notice_for, pause_broadcast
from softdukan.broadcast.results import async_failure
from softdukan.conversation import status as st
from softdukan.conversation.models import OUTBOUND, Message
from softdukan.platform.uow import UnitOfWork
from softdukan.template.models import MessageTemplate

REPLY_WINDOW = timedelta(hours=72)


async def on_message_status(uow: UnitOfWork, message: Message) -> None:
    if message.direction != OUTBOUND or message.type != "template":
        return
    recipient = await uow.session.scalar(select(BroadcastRecipient).where(
        BroadcastRecipient.organization_id == message.organization_id, BroadcastRecipient.message_id == message.id,
        BroadcastRecipient.state.in_([s.SENDING_R, s.SENT])))
    if recipient is None:
        return
    broadcast = await uow.session.get(Broadcast, recipient.broadcast_id)
    if broadcast is None:
        return
    now = uow.clock.now()
    if message.status == st.FAILED:
        stop = await async_failure(uow, broadcast, recipient, message, now)
        if stop is not None:
            await pause_broadcast(uow, broadcast, stop.reason, stop.detail)
        elif broadcast.status == s.COMPLETED:
            await _reopen(uow, broadcast)
    elif recipient.state == s.SENDING_R and message.wamid:
        await claims.mark_sent(uow.session, [(recipient.id, message.id, message.wamid)], now)
    progressed(uow, broadcast.organization_id, broadcast.id, broadcast.status)


async def _reopen(uow: UnitOfWork, broadcast: Broadcast) -> None:
    """A recipient of a completed broadcast is due again (131049: another day): the broadcast goes on."""
    left, earliest = await claims.open_count(uow.session, broadcast)
    if left:
        broadcast.status, broadcast.finished_at = s.SENDING, None
        enqueue_dispatch(uow, broadcast, earliest)


async def on_customer_reply(uow: UnitOfWork, organization_id: int, conversation_id: int, at: datetime) -> None:
    sent_here = select(Message.id).where(Message.organization_id == organization_id,
                                         Message.conversation_id == conversation_id, Message.direction == OUTBOUND,
                                         Message.type == "template", Message.occurred_at >= at - REPLY_WINDOW)
    await uow.session.execute(
        update(BroadcastRecipient).where(
            BroadcastRecipient.organization_id == organization_id, BroadcastRecipient.message_id.in_(sent_here),
            BroadcastRecipient.state == s.SENT, BroadcastRecipient.replied_at.is_(None),
            BroadcastRecipient.sent_at <= at)
        .values(replied_at=at).execution_options(synchronize_session=False))


async def on_template_change(uow: UnitOfWork, template: MessageTemplate) -> None:
    """Pauses the template's running or scheduled broadcasts when it can't (or shouldn't) be sent as launched."""
    broadcasts = (await uow.session.execute(select(Broadcast).where(
        Broadcast.organization_id == template.organization_id, Broadcast.template_id == template.id,
        Broadcast.status.in_([s.SENDING, s.SCHEDULED])))).scalars().all()
    for broadcast in broadcasts:
        if template.status in ("PAUSED", "DISABLED"):
            reason = s.TEMPLATE_PAUSED if template.status == "PAUSED" else s.TEMPLATE_DISABLED
            await pause_broadcast(uow, broadcast, reason, None)
        elif template.status != "APPROVED":
            await pause_broadcast(uow, broadcast, s.TEMPLATE_GONE, None)
        elif template.category != broadcast.template_category:
            notice = notice_for(broadcast, s.TEMPLATE_RECATEGORIZED, old=broadcast.template_category,
                                new=template.category)
            await pause_broadcast(uow, broadcast, s.TEMPLATE_RECATEGORIZED, None, notice=notice)
