"""One chunk of a broadcast: turn claimed recipients into messages, send them at the number's pace, record what
WhatsApp answered. Cross-domain orchestration (contacts, conversations, templates, the Graph client) lives here.

The message rows (and their `biz_opaque_callback_data`, our message id) are committed before any request leaves,
so a status webhook can always find an attempt whose answer was lost, and a crash leaves `sending` recipients
whose lease lapses and `dispatch.recover` resolves.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, cast, insert, literal, select, update

from softdukan.broadcast import claims
from softdukan.broadcast import states as s
from softdukan.broadcast.models import Broadcast, BroadcastRecipient
from softdukan.broadcast.tier import Allowance
from softdukan.contact.models import Contact
from softdukan.conversation import status as st
from softdukan.conversation.models import OUTBOUND, Conversation, Message
from softdukan.conversation.outbound import CALLBACK_PREFIX
from softdukan.conversation.tasks import PAIR_LIMIT, PAIR_PERIOD, never_sent
from softdukan.kit.db import reserve_ids
from softdukan.kit.money import credits as rupees
from softdukan.kit.upsert import insert_or_update
from softdukan.number.models import PhoneNumber, WhatsAppAccount
from softdukan.platform.errors import Invalid
from softdukan.platform.uow import UnitOfWork
from softdukan.template.sending import TemplateSpec, message_for_contact, preview_text, stored_content
from softdukan.template.variables import AnyTemplate, FrozenTemplate, MissingVariable
from softdukan.wallet.charging import ChunkPrice, affordable, hold_for_chunk, price_chunk
from softdukan.whatsapp.errors import GraphError
from softdukan.whatsapp.messages import MessageValidationError, TemplateMessage

IN_FLIGHT = 256  # concurrent requests per dispatcher: 1,000 msg/s over a 250 ms round trip to Meta needs 250
CONTACT_COLUMNS = (Contact.id, Contact.wa_id, Contact.phone, Contact.name, Contact.profile_name, Contact.attributes,
                   Contact.blocked_at, Contact.opted_out_at)  # what a message and its consent check read
MAX_WAIT = 1.0  # seconds of real time a chunk waits for a throughput token before deferring the rest


@dataclass
class Run:
    """What every chunk of one dispatcher run shares."""

    broadcast: Broadcast
    phone: PhoneNumber
    account: WhatsAppAccount
    template: FrozenTemplate  # read once per run: every contact's message is built from this copy
    spec: TemplateSpec
    confirm_after: timedelta
    allowance: Allowance | None = None  # the messaging limit as last counted (dispatch._allowance_left)
    claimed: int = 0  # recipients claimed since
    short_of_credits: str | None = None  # set by a chunk the wallet could not cover: why (the broadcast pauses)


@dataclass
class Attempt:
    recipient_id: int
    attempts: int
    message_id: int
    wa_id: str
    message: TemplateMessage
    claimed_at: datetime

    @property
    def callback(self) -> str:
        return f"{CALLBACK_PREFIX}{self.message_id}"


@dataclass
class Answer:
    attempt: Attempt
    kind: str  # accepted | refused | unknown | invalid | pair_wait (no token: due again after `wait`)
    wamid: str | None = None
    error: GraphError | None = None
    detail: str | None = None
    wait: float = 0.0


def _skip_reason(contact: Any, template: AnyTemplate) -> tuple[str, str] | None:
    if contact is None:
        return s.INVALID, "The contact was deleted."
    if contact.blocked_at is not None:
        return s.BLOCKED, "The contact is blocked."
    if template.category == "MARKETING" and contact.opted_out_at is not None:
        return s.OPTED_OUT, "The contact opted out of marketing messages."
    return None


async def prepare(uow: UnitOfWork, run: Run, claimed: list[int], now: datetime) -> list[Attempt]:
    """Messages for the claimed recipients (consent and variables checked again now); the rest are skipped."""
    session, org_id = uow.session, run.broadcast.organization_id
    rows = (await session.execute(select(BroadcastRecipient.id, BroadcastRecipient.contact_id,
                                         BroadcastRecipient.wa_id, BroadcastRecipient.attempts)
                                  .where(BroadcastRecipient.id.in_(claimed)).order_by(BroadcastRecipient.id))).all()
    contact_ids = [r.contact_id for r in rows if r.contact_id is not None]
    contacts = {c.id: c for c in (await session.execute(select(*CONTACT_COLUMNS).where(  # plain rows: no ORM
        Contact.organization_id == org_id, Contact.id.in_(contact_ids))))}  # instances for a chunk's contacts
    skips: list[tuple[int, str, str | None]] = []
    ready: list[tuple[Any, Any, TemplateMessage]] = []  # (recipient row, contact row, message)
    for row in rows:
        contact = contacts.get(row.contact_id) if row.contact_id is not None else None
        reason = _skip_reason(contact, run.template)
        if reason is not None:
            skips.append((row.id, *reason))
            continue
        assert contact is not None
        try:
            ready.append((row, contact, message_for_contact(run.template, run.spec, contact)))
        except MissingVariable as exc:
            skips.append((row.id, s.MISSING_VARIABLE, exc.message))
        except Invalid as exc:
            skips.append((row.id, "invalid_message", exc.message))
    await claims.skip(session, skips, now)
    if not ready:
        return []
    ready, price = await _affordable(uow, run, ready, now)
    if not ready:
        return []
    conversation_ids = await _conversations(uow, run.phone, [c.id for _, c, _ in ready], now)
    m = Message.__table__.c
    values = [{"organization_id": org_id, "conversation_id": conversation_ids[contact.id],
               "contact_id": contact.id, "phone_number_id": run.phone.id, "direction": OUTBOUND, "wamid": None,
               "type": "template", "content": stored_content(run.template, message),
               "preview": preview_text(run.template, message)[:300], "status": st.PENDING,
               "status_rank": st.RANK[st.PENDING], "occurred_at": now, "forwarded": False,
               "frequently_forwarded": False, "created_at": now, "updated_at": now}
              for _, contact, message in ready]
    message_ids = await reserve_ids(session, Message, len(values))
    if message_ids is not None:  # each row names itself in its callback data (how a status webhook finds it)
        for row, message_id in zip(values, message_ids, strict=True):
            row.update(id=message_id, biz_opaque_callback_data=f"{CALLBACK_PREFIX}{message_id}")
        # RETURNING makes it one batched INSERT (insertmanyvalues) rather than a statement per row
        await session.execute(insert(Message.__table__).returning(m.id), values)
    else:
        result = await session.execute(insert(Message.__table__).returning(m.id, sort_by_parameter_order=True), values)
        message_ids = [row[0] for row in result]
        await session.execute(update(Message.__table__).where(m.id.in_(message_ids))  # one statement, not one per row
                              .values(biz_opaque_callback_data=literal(CALLBACK_PREFIX) + cast(m.id, String)))
    await claims.set_messages(session, [{"r_id": row.id, "m_id": mid}
                                        for (row, _, _), mid in zip(ready, message_ids, strict=True)], now)
    await hold_for_chunk(uow, org_id, list(message_ids), price, run.template.category, run.broadcast.id)
    return [Attempt(row.id, row.attempts, mid, contact.wa_id, message, now)
            for (row, contact, message), mid in zip(ready, message_ids, strict=True)]


async def _affordable(uow: UnitOfWork, run: Run, ready: list[Any], now: datetime) -> tuple[list[Any], ChunkPrice]:
    """The part of the chunk the wallet covers (its balance locked until the chunk commits); the rest goes back to
    pending, not counted as an attempt, and the run notes why so the dispatcher pauses the broadcast."""
    price = await price_chunk(uow, run.broadcast.organization_id, [c.wa_id for _, c, _ in ready],
                              run.template.category)
    count = affordable(price)
    if count < len(ready):
        short = ready[count:]
        await claims.back_to_pending(uow.session, [(row.id, now, s.NO_CREDITS) for row, _, _ in short], now,
                                     uncount=True)
        need = sum(price.units[count:])
        run.short_of_credits = (f"the next {len(short):,} messages need {rupees(need)} and "
                                f"{rupees(price.available - sum(price.units[:count]))} is left.")
    return ready[:count], ChunkPrice(price.units[:count], price.markets[:count], price.available)


async def _conversations(uow: UnitOfWork, phone: PhoneNumber, contact_ids: list[int], now: datetime
                         ) -> dict[int, int]:
    """Each contact's conversation with the number, created if new, its last message now: one upsert that returns
    new and existing rows alike. (A SELECT by the chunk's contact ids after an insert-if-missing was planned by
    PostgreSQL as a filter over all the number's conversations: a third of its CPU in a 1,000 msg/s broadcast.)
    Sorted, so two chunks touching the same conversations lock them in the same order."""
    c = Conversation.__table__.c
    statement = insert_or_update(uow.session, Conversation, ["phone_number_id", "contact_id"],
                                 ["last_message_at", "updated_at"]).returning(c.contact_id, c.id)
    rows = await uow.session.execute(statement, [
        {"organization_id": phone.organization_id, "phone_number_id": phone.id, "contact_id": cid, "unread_count": 0,
         "last_message_at": now, "created_at": now, "updated_at": now} for cid in sorted(set(contact_ids))])
    return {contact_id: conversation_id for contact_id, conversation_id in rows}


class Pace:
    """The number's throughput bucket (shared with single sends) and each recipient's pair bucket."""

    def __init__(self, uow: UnitOfWork, phone: PhoneNumber) -> None:
        from softdukan.number.throughput import budget

        self.limiter, self.phone, self.clock = uow.runtime.limiter, phone, uow.clock
        self.gate = asyncio.Semaphore(IN_FLIGHT)
        self.key = f"wa:throughput:{phone.phone_number_id}"
        self.limit, self.period = budget(phone.throughput_mps)

    async def throughput(self) -> float:
        """Waits for a token; returns 0 once taken, or the wait still ahead if none came within MAX_WAIT of real
        time (a stopped clock in tests, or a bucket shared with a busy sender): the caller defers the rest."""
        waited, started = 0.0, self.clock.now()
        while True:
            decision = await self.limiter.hit(self.key, limit=self.limit, period=self.period)
            if decision.allowed:
                return 0.0
            if waited >= MAX_WAIT or (waited and self.clock.now() == started):  # a stopped clock never refills
                return max(decision.retry_after, 0.001)
            pause = min(max(0.0005, decision.retry_after), MAX_WAIT)
            await asyncio.sleep(pause)
            waited += pause

    async def pair(self, wa_id: str) -> float:
        decision = await self.limiter.hit(f"wa:pair:{self.phone.phone_number_id}:{wa_id}", limit=PAIR_LIMIT,
                                          period=PAIR_PERIOD)
        return 0.0 if decision.allowed else decision.retry_after


async def send_all(clients: list[Any], run: Run, pace: Pace, attempts: list[Attempt]) -> list[Answer]:
    gate = pace.gate  # shared by the chunks on the wire at once

    async def one(attempt: Attempt, client: Any) -> Answer:
        try:
            sent = await client.send(run.phone.phone_number_id, attempt.message, to=attempt.wa_id,
                                     biz_opaque_callback_data=attempt.callback)
        except MessageValidationError as exc:
            return Answer(attempt, "invalid", detail=str(exc))
        except GraphError as exc:
            return Answer(attempt, "refused" if never_sent(exc) else "unknown", error=exc)
        finally:
            gate.release()
        return Answer(attempt, "accepted", wamid=sent.wamid)

    answers: list[Answer] = []
    pending: list[asyncio.Task[Answer]] = []
    starved = 0.0  # once the number's bucket ran dry for MAX_WAIT, the rest of the chunk is deferred at once
    for attempt in attempts:
        wait = starved or await pace.pair(attempt.wa_id)
        if wait > 0:
            answers.append(Answer(attempt, "pair_wait", wait=wait))
            continue
        starved = await pace.throughput()
        if starved > 0:
            answers.append(Answer(attempt, "pair_wait", wait=starved))
            continue
        await gate.acquire()
        pending.append(asyncio.create_task(one(attempt, clients[len(pending) % len(clients)])))
    return answers + list(await asyncio.gather(*pending))
