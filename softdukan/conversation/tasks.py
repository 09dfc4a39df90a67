"""The send job: one outbound message to Meta, at most once.

Never twice: before calling Meta the job marks the row (`biz_opaque_callback_data` = our id, committed), so a
later run knows a request may have reached Meta. What happens next depends on what is known:

- 200 with a wamid → accepted (`mark_accepted`).
- a Graph error body → Meta refused it, nothing was sent: permanent errors fail the message with Meta's code,
  title and details; retryable ones (throughput 130429, pair rate 131056, 131000 …) clear the mark and try
  again with backoff, up to MAX_ATTEMPTS, then fail the message (it never stays pending forever).
- the connection could not be opened → nothing was sent: same as a retryable refusal.
- a timeout after the request went out, a dropped connection, a 5xx without a Graph body, an unreadable 200,
  or a crash of this process mid-call → UNKNOWN. We do not resend (a duplicate message to a customer is worse
  than a late one): the status webhook for an accepted message carries our id in `biz_opaque_callback_data`, so
  routing finds the row and records the wamid and status. The job checks back every CHECK_EVERY; if no status
  came after MAX_CHECKS checks the message fails as `not confirmed` and the agent decides whether to resend.

Tokens come from the number's throughput bucket and the (number, recipient) pair bucket before the call; without
one the job re-queues itself for when the bucket has a token.
"""

from __future__ import annotations

from datetime import timedelta

import httpx
import structlog

from softdukan.contact.models import Contact
from softdukan.conversation import status as st
from softdukan.conversation.models import OUTBOUND, Message
from softdukan.conversation.outbound import mark_accepted, mark_send_failed
from softdukan.conversation.repository import MessageRepository
from softdukan.conversation.schemas import build_message, raw_from_content
from softdukan.conversation.send import SEND_TASK, attempt_started, claim_attempt, clear_attempt, job_args
from softdukan.number.graph import account_client
from softdukan.number.models import CONNECTED, PhoneNumber, WhatsAppAccount
from softdukan.number.throughput import budget
from softdukan.platform.errors import Invalid
from softdukan.platform.jobs.queue import backoff
from softdukan.platform.jobs.registry import task
from softdukan.platform.uow import UnitOfWork
from softdukan.whatsapp.client import GraphTransportError, UnexpectedResponseError
from softdukan.whatsapp.client.lean import is_never_sent
from softdukan.whatsapp.errors import GraphError, PairRateLimitError
from softdukan.whatsapp.messages import MessageValidationError

log = structlog.get_logger(__name__)

MAX_ATTEMPTS = 6  # definite refusals that may pass (rate limits, Meta hiccups) before the message fails
CHECK_EVERY = timedelta(seconds=30)
MAX_CHECKS = 20  # ~10 minutes waiting for the status webhook of an unconfirmed attempt
PAIR_LIMIT, PAIR_PERIOD = 45, 270.0  # reference §7.2: one message per 6 s to a user, bursts of 45
NOT_CONFIRMED = "Not confirmed by WhatsApp"
# connection-phase failures: the request never left, so sending again cannot duplicate it
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


def _requeue(uow: UnitOfWork, message: Message, delay: timedelta, **args: int) -> None:
    # no unique key: the first job's key stays taken; the claim (a guarded UPDATE) keeps duplicates harmless
    uow.enqueue(SEND_TASK, run_at=uow.clock.now() + delay, organization_id=message.organization_id,
                **job_args(message, **args))


async def _take_tokens(uow: UnitOfWork, phone: PhoneNumber, contact: Contact) -> float:
    """Seconds to wait for a token (0: taken). The pair bucket is only peeked until throughput allows."""
    limiter = uow.runtime.limiter
    pair_key = f"wa:pair:{phone.phone_number_id}:{contact.wa_id}"
    pair = await limiter.peek(pair_key, limit=PAIR_LIMIT, period=PAIR_PERIOD)
    if not pair.allowed:
        return pair.retry_after
    limit, period = budget(phone.throughput_mps)  # the number's bucket, shared with broadcasts
    throughput = await limiter.hit(f"wa:throughput:{phone.phone_number_id}", limit=limit, period=period)
    if not throughput.allowed:
        return throughput.retry_after
    pair = await limiter.hit(pair_key, limit=PAIR_LIMIT, period=PAIR_PERIOD)
    return 0.0 if pair.allowed else pair.retry_after


def never_sent(exc: GraphError) -> bool:
    """True when the request certainly did not get to Meta (or Meta answered that it refused it)."""
    if isinstance(exc, GraphTransportError):
        return isinstance(exc.__cause__, _NEVER_SENT) or is_never_sent(exc.__cause__)  # httpx, or the lean sender
    if isinstance(exc, UnexpectedResponseError):
        return False  # a 2xx we could not read may be an accepted message
    # a Graph error body is Meta's answer; a gateway's 5xx page is not, and may hide an accepted send
    return not (exc.body.malformed and (exc.http_status or 500) >= 500)


async def _await_outcome(uow: UnitOfWork, message: Message, checks: int) -> None:
    """An earlier attempt may have reached Meta: wait for its status webhook instead of sending again."""
    if checks >= MAX_CHECKS:
        await mark_send_failed(uow, message, code=None, title=NOT_CONFIRMED,
                               details="WhatsApp never confirmed this message (the answer to the send was lost and "
                                       "no status arrived). It was not sent again, to avoid a duplicate: check with "
                                       "the customer or send it again.")
        return
    _requeue(uow, message, CHECK_EVERY, checks=checks + 1)


async def _refused(uow: UnitOfWork, message: Message, exc: GraphError, attempt: int) -> None:
    """Meta refused (or the request never left): retry later if it may pass, else fail with Meta's reason."""
    if exc.retryable and attempt < MAX_ATTEMPTS:
        await clear_attempt(uow, message)
        delay = (timedelta(seconds=exc.backoff_seconds(attempt)) if isinstance(exc, PairRateLimitError)
                 else timedelta(seconds=exc.retry_after_seconds) if exc.retry_after_seconds else backoff(attempt))
        _requeue(uow, message, delay, attempt=attempt + 1)
        log.info("send_retry", message_id=message.id, code=exc.code, attempt=attempt, delay=delay.total_seconds())
        return
    body = exc.body
    title = body.title or body.error_user_title or exc.meaning or body.message or exc.kind
    details = body.details or body.error_user_msg or (body.message if body.message != title else None)
    await mark_send_failed(uow, message, code=None if body.malformed else exc.code, title=title, details=details)


def _consent_refusal(message: Message, contact: Contact) -> tuple[str, str] | None:
    """(title, details) when the contact may no longer get this message: blocked (nothing at all) or opted out
    (marketing templates; the category recorded at queueing time, see template/sending.py)."""
    if contact.blocked_at is not None:
        return "Contact blocked", "The contact was blocked before the message went out."
    marketing = message.type == "template" and str((message.content or {}).get("category", "")).upper() == "MARKETING"
    if marketing and contact.opted_out_at is not None:
        return "Contact opted out", "The contact opted out of marketing messages before this one went out."
    return None


@task(SEND_TASK, max_attempts=5)
async def send_message(uow: UnitOfWork, org_id: int, message_id: int, attempt: int = 1, checks: int = 0) -> None:
    message = await MessageRepository(uow.session).by_id(org_id, message_id)
    if message is None or message.direction != OUTBOUND or message.status != st.PENDING or message.wamid:
        return  # accepted, resolved by a status webhook, or failed: running again never sends again
    if attempt_started(message):
        await _await_outcome(uow, message, checks)
        return
    phone = await uow.session.get(PhoneNumber, message.phone_number_id)
    contact = await uow.session.get(Contact, message.contact_id)
    account = await uow.session.get(WhatsAppAccount, phone.account_id) if phone is not None else None
    if phone is None or contact is None or account is None or phone.status != CONNECTED:
        await mark_send_failed(uow, message, code=None, title="Number not connected",
                               details="The sending number was disconnected before the message went out.")
        return
    refusal = _consent_refusal(message, contact)
    if refusal is not None:  # blocked or opted out after the message was queued: checked again at send time
        await mark_send_failed(uow, message, code=None, title=refusal[0], details=refusal[1])
        return
    try:
        wa_message = build_message(message.type, raw_from_content(message.type, message.content))
    except Invalid as exc:
        await mark_send_failed(uow, message, code=None, title="Invalid message", details=exc.message)
        return
    wait = await _take_tokens(uow, phone, contact)
    if wait > 0:
        _requeue(uow, message, timedelta(seconds=wait), attempt=attempt)
        return
    if not await claim_attempt(uow, message):
        return  # another run holds it
    callback_data = message.biz_opaque_callback_data
    await uow.release()  # the mark is committed before Meta can see the request; no transaction held meanwhile
    try:
        async with account_client(uow.runtime, account) as client:
            sent = await client.send(phone.phone_number_id, wa_message, to=contact.wa_id,
                                     context_message_id=message.context_wamid,
                                     biz_opaque_callback_data=callback_data)
    except MessageValidationError as exc:
        await clear_attempt(uow, message)
        await mark_send_failed(uow, message, code=None, title="Invalid message", details=str(exc))
        return
    except GraphError as exc:
        if never_sent(exc):
            await _refused(uow, message, exc, attempt)
        else:
            log.warning("send_outcome_unknown", message_id=message.id, error=str(exc))
            _requeue(uow, message, CHECK_EVERY, checks=checks + 1)
        return
    await mark_accepted(uow, message, sent.wamid)
