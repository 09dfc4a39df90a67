"""The recipient state machine's statements: claim with a lease, record outcomes, recover lapsed leases.

Every transition is a guarded UPDATE (the expected state in its WHERE clause), so two dispatchers, a dispatcher
and a status webhook, or a retry after a crash can never both move a recipient: whoever's UPDATE matched owns it.
Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from softdukan.broadcast import states as s
from softdukan.broadcast.models import Broadcast, BroadcastRecipient
from softdukan.conversation import status as st
from softdukan.conversation.models import Message
from softdukan.kit.db import UTCDateTime

R = BroadcastRecipient
DUE_STATES = (s.PENDING, s.WAITING)


def _one_of(states: tuple[str, ...]) -> Any:
    # no IN (…) here: an expanding parameter can't be used in an executemany
    return or_(*(R.__table__.c.state == state for state in states))


def _due(broadcast_id: int, now: datetime) -> Any:
    return and_(R.broadcast_id == broadcast_id, R.state.in_(DUE_STATES), R.next_attempt_at <= now)


async def due_ids(session: AsyncSession, broadcast: Broadcast, now: datetime, limit: int) -> list[int]:
    """Up to `limit` due recipients, in the order of the due index (state, then earliest due): no ORDER BY, which
    would sort every due row of a 100,000-recipient audience for each chunk instead of reading `limit` of them."""
    rows = await session.execute(select(R.id).where(R.organization_id == broadcast.organization_id,
                                                    _due(broadcast.id, now)).limit(limit))
    return [row[0] for row in rows]


async def claim(session: AsyncSession, broadcast: Broadcast, ids: Sequence[int], now: datetime,
                lease: timedelta) -> list[int]:
    """pending|waiting → sending for `ids` still due; returns the ids this call took."""
    if not ids:
        return []
    result = await session.execute(
        update(R).where(R.id.in_(list(ids)), _due(broadcast.id, now))
        .values(state=s.SENDING_R, lease_expires_at=now + lease, claimed_at=now, attempts=R.attempts + 1,
                reason=None, updated_at=now)
        .returning(R.id).execution_options(synchronize_session=False))
    return sorted(row[0] for row in result)


async def defer_all_due(session: AsyncSession, broadcast: Broadcast, now: datetime, until: datetime) -> int:
    """The messaging-limit allowance is used up: every due recipient waits until it frees."""
    result = await session.execute(
        update(R).where(_due(broadcast.id, now))
        .values(state=s.WAITING, reason=s.TIER_LIMIT, next_attempt_at=until, updated_at=now)
        .execution_options(synchronize_session=False))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def set_messages(session: AsyncSession, pairs: list[dict[str, int]], now: datetime) -> None:
    """Each claimed recipient's new message (its latest attempt): {"r_id", "m_id"} pairs."""
    if pairs:
        await session.execute(update(R.__table__).where(R.__table__.c.id == bindparam("r_id"))
                              .values(message_id=bindparam("m_id"), updated_at=now), pairs)


async def skip(session: AsyncSession, items: list[tuple[int, str, str | None]], now: datetime) -> None:
    """(recipient id, reason, detail) of claimed recipients that may not get it after all."""
    if items:
        await session.execute(
            update(R.__table__).where(R.__table__.c.id == bindparam("r_id"),
                                      R.__table__.c.state == s.SENDING_R)
            .values(state=s.SKIPPED, reason=bindparam("r_reason"), detail=bindparam("r_detail"),
                    lease_expires_at=None, updated_at=now),
            [{"r_id": r, "r_reason": reason, "r_detail": detail} for r, reason, detail in items])


async def mark_sent(session: AsyncSession, accepted: list[tuple[int, int, str]], now: datetime) -> None:
    """(recipient id, message id, wamid) Meta accepted: the message gets its wamid (unless a status webhook that
    raced ahead already gave it one) and the recipient is sent."""
    if not accepted:
        return
    m = Message.__table__.c
    await session.execute(
        update(Message.__table__).where(m.id == bindparam("m_id"), m.wamid.is_(None))
        .values(wamid=bindparam("m_wamid"), status=st.ACCEPTED, status_rank=st.RANK[st.ACCEPTED], accepted_at=now,
                updated_at=now),
        [{"m_id": mid, "m_wamid": wamid} for _, mid, wamid in accepted])
    await session.execute(
        update(R).where(R.id.in_([r for r, _, _ in accepted]), R.state == s.SENDING_R)
        .values(state=s.SENT, sent_at=now, lease_expires_at=None, reason=None, updated_at=now)
        .execution_options(synchronize_session=False))


async def back_to_pending(session: AsyncSession, items: list[tuple[int, datetime, str | None]], now: datetime,
                          *, from_states: tuple[str, ...] = (s.SENDING_R,), next_day: bool = False,
                          state: str = s.PENDING, uncount: bool = False) -> None:
    """(recipient id, due at, reason): nothing was delivered; try again from `due at`. The attempt's message row,
    never sent (a refusal) or failed, is left to the inbox (failed) or removed by the caller."""
    if not items:
        return
    values: dict[str, Any] = {"state": state, "next_attempt_at": bindparam("r_due"), "reason": bindparam(
        "r_reason"), "lease_expires_at": None, "updated_at": now}
    if next_day:
        values["deferrals"] = R.__table__.c.deferrals + 1
    if uncount:  # the claim's attempt never reached Meta (no token, the broadcast paused): it doesn't count
        values["attempts"] = R.__table__.c.attempts - 1
    await session.execute(
        update(R.__table__).where(R.__table__.c.id == bindparam("r_id"), _one_of(from_states))
        .values(**values), [{"r_id": r, "r_due": due, "r_reason": reason} for r, due, reason in items])


async def fail(session: AsyncSession, items: list[tuple[int, str, str | None, int | None]], now: datetime,
               *, from_states: tuple[str, ...] = (s.SENDING_R,)) -> None:
    """(recipient id, reason, detail, Meta's code): failed for good."""
    if items:
        await session.execute(
            update(R.__table__).where(R.__table__.c.id == bindparam("r_id"), _one_of(from_states))
            .values(state=s.FAILED, reason=bindparam("r_reason"), detail=bindparam("r_detail"),
                    error_code=bindparam("r_code"), lease_expires_at=None, updated_at=now),
            [{"r_id": r, "r_reason": reason, "r_detail": (detail or "")[:500] or None, "r_code": code}
             for r, reason, detail, code in items])


async def drop_unsent_messages(session: AsyncSession, organization_id: int, message_ids: list[int]) -> None:
    """Rows of attempts Meta refused outright (rate limits, a paused template): nothing was sent, nothing points
    at them any more, so they would only clutter the conversation as failures."""
    if message_ids:
        await session.execute(update(R).where(R.organization_id == organization_id, R.message_id.in_(message_ids))
                              .values(message_id=None).execution_options(synchronize_session=False))
        await session.execute(delete(Message).where(Message.organization_id == organization_id,
                                                    Message.id.in_(message_ids), Message.wamid.is_(None))
                              .execution_options(synchronize_session=False))


async def lapsed(session: AsyncSession, broadcast: Broadcast, now: datetime, limit: int = 500
                 ) -> list[tuple[BroadcastRecipient, Message | None]]:
    """Recipients whose claim's lease ran out (their dispatcher died or the answer was lost), with their message."""
    rows = await session.execute(
        select(R, Message).outerjoin(Message, Message.id == R.message_id)
        .where(R.organization_id == broadcast.organization_id, R.broadcast_id == broadcast.id,
               R.state == s.SENDING_R, R.lease_expires_at < now).limit(limit))  # no ORDER BY: see due_ids
    return [(r, m) for r, m in rows]


async def extend_lease(session: AsyncSession, recipient_ids: list[int], until: datetime) -> None:
    if recipient_ids:
        await session.execute(update(R).where(R.id.in_(recipient_ids), R.state == s.SENDING_R)
                              .values(lease_expires_at=until).execution_options(synchronize_session=False))


async def open_count(session: AsyncSession, broadcast: Broadcast) -> tuple[int, datetime | None]:
    """How many recipients are not done yet, and the earliest time one of them may move."""
    row = (await session.execute(
        select(func.count(R.id), func.min(func.coalesce(R.lease_expires_at, R.next_attempt_at), type_=UTCDateTime()))
        .where(R.organization_id == broadcast.organization_id, R.broadcast_id == broadcast.id,
               R.state.in_(list(s.OPEN_STATES))))).one()
    return int(row[0] or 0), row[1]
