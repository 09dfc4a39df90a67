"""Recording what WhatsApp answered, for a chunk's sync answers and for status webhooks (async failures), with
the error policy of broadcast/outcomes.py. Guarded updates only; nothing here commits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import bindparam, update

from softdukan.broadcast import claims
from softdukan.broadcast import states as s
from softdukan.broadcast.attempts import Answer
from softdukan.broadcast.models import Broadcast, BroadcastRecipient
from softdukan.broadcast.outcomes import LIMIT_WAIT, MAX_RETRIES, NEXT_DAY, decide, retry_delay
from softdukan.conversation import status as st
from softdukan.conversation.models import Message
from softdukan.platform.uow import UnitOfWork
from softdukan.wallet.charging import release_messages
from softdukan.whatsapp.errors import GraphError


@dataclass
class Stop:
    reason: str
    detail: str | None = None


@dataclass
class _Batch:
    accepted: list[tuple[int, int, str]] = field(default_factory=list)
    again: list[tuple[int, datetime, str | None]] = field(default_factory=list)
    untried: list[tuple[int, datetime, str | None]] = field(default_factory=list)  # never sent: not an attempt
    waiting: list[tuple[int, datetime, str | None]] = field(default_factory=list)
    fails: list[tuple[int, str, str | None, int | None]] = field(default_factory=list)
    failed_messages: list[dict[str, object]] = field(default_factory=list)
    drop: list[int] = field(default_factory=list)
    unconfirmed: list[int] = field(default_factory=list)
    stop: Stop | None = None


def _text(error: GraphError | None) -> tuple[int | None, str, str | None]:
    """(Meta's code, unless the body was not Meta's; a title; the details) of a refusal."""
    if error is None:
        return None, "WhatsApp refused the message", None
    body = error.body
    title = body.title or error.meaning or body.message or "WhatsApp refused the message"
    return (None if body.malformed else error.code), title, body.details or body.error_user_msg


def failure_reason(code: int | None) -> str:
    return f"error_{code}" if code is not None else "send_failed"


async def record_answers(uow: UnitOfWork, broadcast: Broadcast, answers: list[Answer], now: datetime,
                         confirm_after: timedelta) -> Stop | None:
    b = _Batch()
    for answer in answers:
        a = answer.attempt
        if answer.kind == "accepted":
            assert answer.wamid is not None
            b.accepted.append((a.recipient_id, a.message_id, answer.wamid))
        elif answer.kind == "pair_wait":
            b.untried.append((a.recipient_id, now + _seconds(answer.wait), s.RETRY_LATER))
            b.drop.append(a.message_id)
        elif answer.kind == "invalid":
            b.fails.append((a.recipient_id, "invalid_message", answer.detail, None))
            b.failed_messages.append(_failed_message(a.message_id, None, "Invalid message", answer.detail, now))
        elif answer.kind == "unknown":
            b.unconfirmed.append(a.recipient_id)
        else:
            code, title, details = _text(answer.error)
            decision = decide(code, never_sent=True)
            if decision.action == "pause":
                b.untried.append((a.recipient_id, now, None))
                b.drop.append(a.message_id)
                b.stop = b.stop or Stop(decision.pause_reason or s.TEMPLATE_GONE, f"{title}: {details or ''}")
            elif decision.action == "wait_limit":
                b.waiting.append((a.recipient_id, now + LIMIT_WAIT, s.TIER_LIMIT))
                b.drop.append(a.message_id)
            elif decision.action in ("retry", "next_day") and a.attempts < MAX_RETRIES:
                due = now + (NEXT_DAY if decision.action == "next_day" else retry_delay(a.attempts, code))
                b.again.append((a.recipient_id, due, s.NEXT_DAY if decision.action == "next_day" else s.RETRY_LATER))
                b.drop.append(a.message_id)
            else:
                b.fails.append((a.recipient_id, failure_reason(code), _join(title, details), code))
                b.failed_messages.append(_failed_message(a.message_id, code, title, details, now))
    session = uow.session
    await claims.mark_sent(session, b.accepted, now)
    await claims.back_to_pending(session, b.again, now)
    await claims.back_to_pending(session, b.untried, now, uncount=True)
    await claims.back_to_pending(session, b.waiting, now, state=s.WAITING)
    await claims.fail(session, b.fails, now)
    await fail_messages(uow, b.failed_messages, broadcast.organization_id)
    await release_messages(uow, broadcast.organization_id, b.drop, "not-sent")  # before their rows go
    await claims.drop_unsent_messages(session, broadcast.organization_id, b.drop)
    if b.unconfirmed:  # the answer was lost: the status webhook (our id in callback data) decides; wait for it
        await claims.extend_lease(session, b.unconfirmed, now + confirm_after)
    return b.stop


def _seconds(value: float) -> timedelta:
    return timedelta(seconds=max(1.0, value))


def _join(title: str, details: str | None) -> str:
    return f"{title}: {details}" if details and details != title else title


def _failed_message(message_id: int, code: int | None, title: str, details: str | None, now: datetime
                    ) -> dict[str, object]:
    return {"m_id": message_id, "m_code": code, "m_title": title[:300], "m_details": details, "m_at": now}


async def fail_messages(uow: UnitOfWork, rows: list[dict[str, object]], organization_id: int) -> None:
    """Failed attempts: the rows fail with the error and their credit holds go back."""
    if rows:
        await release_messages(uow, organization_id, [int(str(r["m_id"])) for r in rows], "failed")
        m = Message.__table__.c
        await uow.session.execute(
            update(Message.__table__).where(m.id == bindparam("m_id"), m.status_rank < st.RANK[st.FAILED])
            .values(status=st.FAILED, status_rank=st.RANK[st.FAILED], error_code=bindparam("m_code"),
                    error_title=bindparam("m_title"), error_details=bindparam("m_details"),
                    failed_at=bindparam("m_at")), rows)


async def async_failure(uow: UnitOfWork, broadcast: Broadcast, recipient: BroadcastRecipient, message: Message,
                        now: datetime) -> Stop | None:
    """A `failed` status webhook for an attempt Meta had accepted (or whose answer was lost): 131049 waits for
    another day (up to the broadcast's count), rate limits and hiccups retry, the rest fail with Meta's reason."""
    code, title, details = message.error_code, message.error_title or "Failed", message.error_details
    decision = decide(code, never_sent=False)
    states = (s.SENDING_R, s.SENT)
    if decision.action == "next_day" and recipient.deferrals < broadcast.retry_days_131049:
        await claims.back_to_pending(uow.session, [(recipient.id, now + NEXT_DAY, s.NEXT_DAY)], now,
                                     from_states=states, next_day=True)
        return None
    if decision.action == "retry" and recipient.attempts < MAX_RETRIES:
        await claims.back_to_pending(uow.session, [(recipient.id, now + retry_delay(recipient.attempts, code),
                                                    s.RETRY_LATER)], now, from_states=states)
        return None
    if decision.action == "wait_limit":
        await claims.back_to_pending(uow.session, [(recipient.id, now + LIMIT_WAIT, s.TIER_LIMIT)], now,
                                     from_states=states, state=s.WAITING)
        return None
    if decision.action == "pause":
        await claims.back_to_pending(uow.session, [(recipient.id, now, None)], now, from_states=states)
        return Stop(decision.pause_reason or s.TEMPLATE_GONE, _join(title, details))
    await claims.fail(uow.session, [(recipient.id, failure_reason(code), _join(title, details), code)], now,
                      from_states=states)
    return None
