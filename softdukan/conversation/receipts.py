"""Read receipts: when an agent opens a thread with unread messages, the customer sees blue ticks.

Meta marks every earlier message read with the latest one (reference §3.12), so one call per opening is
enough. The guarded UPDATE in `listing.mark_seen` lets only one of several concurrent openings enqueue it.
"""

from __future__ import annotations

import structlog
from sqlalchemy import select

from softdukan.conversation.models import INBOUND, Message
from softdukan.number.graph import account_client
from softdukan.number.models import CONNECTED, PhoneNumber, WhatsAppAccount
from softdukan.platform.jobs.registry import task
from softdukan.platform.uow import UnitOfWork
from softdukan.whatsapp.errors import GraphError

log = structlog.get_logger(__name__)
READ_TASK = "conversation.mark_read"


async def request_read_receipt(uow: UnitOfWork, organization_id: int, conversation_id: int) -> None:
    """Queue the receipt for the conversation's latest inbound message (if Meta knows it)."""
    latest = await uow.session.scalar(
        select(Message.id).where(Message.organization_id == organization_id,
                                 Message.conversation_id == conversation_id, Message.direction == INBOUND,
                                 Message.wamid.is_not(None))
        .order_by(Message.occurred_at.desc(), Message.id.desc()).limit(1))
    if latest is not None:
        uow.enqueue(READ_TASK, organization_id=organization_id, org_id=organization_id, message_id=latest)


@task(READ_TASK, max_attempts=4)
async def mark_read(uow: UnitOfWork, org_id: int, message_id: int) -> None:
    message = await uow.session.scalar(
        select(Message).where(Message.organization_id == org_id, Message.id == message_id))
    if message is None or message.wamid is None:
        return
    phone = await uow.session.get(PhoneNumber, message.phone_number_id)
    account = await uow.session.get(WhatsAppAccount, phone.account_id) if phone is not None else None
    if phone is None or account is None or phone.status != CONNECTED:
        return  # nothing to tell: the number is gone
    wamid = message.wamid
    await uow.release()
    try:
        async with account_client(uow.runtime, account) as client:
            await client.mark_read(phone.phone_number_id, wamid)
    except GraphError as exc:
        if exc.retryable:
            raise  # the job retries with backoff
        # a receipt Meta refuses (message too old, unknown) is not worth an agent's attention
        log.info("read_receipt_refused", message_id=message_id, code=exc.code, error=str(exc))
