"""Coexistence webhooks (reference §10.3, §5.11): `history`, `smb_app_state_sync`, `smb_message_echoes`.

Meta's reference gives the field names, not the payloads; these shapes follow what public Cloud API clients parse
(pywa's coexistence updates and other open-source webhook parsers), all under the usual
`{"messaging_product":"whatsapp","metadata":{display_phone_number, phone_number_id}, …}` value:

* `history` — after `POST /{phone}/smb_app_data {"sync_type":"history"}` (sent `profile.history_delay_seconds`
  later): one change per chunk, `{"history":[{"metadata":{"phase":0|1|2,"chunk_order":n,"progress":0–100},
  "threads":[{"id":"<customer wa_id>","messages":[{"from","to"?,"id","timestamp","type":"text","text":{…},
  "history_context":{"status":"READ"|"DELIVERED"}}]}]}]}`. Phase 0 holds day 0–1, phase 1 days 1–90, phase 2
  days 90–180; chunk_order counts from 1 within a phase; progress reaches 100 on the last chunk. The messages are
  past 1:1 chats with `profile.history_customers` virtual customers the sandbox seeds for that number
  (`profile.history_messages_per_customer` each, alternating customer/business), stored in their threads. They
  never open a service window (only messages after onboarding do).
* `smb_app_state_sync` — after the `smb_app_state_sync` sync: `{"state_sync":[{"type":"contact","contact":
  {"full_name","first_name","phone_number"},"action":"add","metadata":{"timestamp"}}]}` for the number's
  customers (seeded ones included).
* `smb_message_echoes` — when the business replies from the WhatsApp Business app (control API
  `POST /_sandbox/phone-numbers/{id}/business-app-messages`): `{"message_echoes":[{"from":"<business number>",
  "to":"<wa_id>","id","timestamp","type", "<type>":{…}}]}`. App messages are free and send no status webhooks.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from softdukan.platform.uow import UnitOfWork
from softdukan.sandbox.graph.errors import GraphFault
from softdukan.sandbox.graph.ids import wamid
from softdukan.sandbox.graph.profile import load_profile
from softdukan.sandbox.graph.webhooks import metadata, queue_change
from softdukan.sandbox.models import SandboxCustomer, SandboxMessage, SandboxPhoneNumber, SandboxThread, SandboxWaba

THREADS_PER_CHUNK = 10
AGES_DAYS = (0.2, 30.0, 120.0, 170.0)  # one per phase band, cycled: 0 → phase 0, 30 → 1, 120/170 → 2
ECHO_TYPES = ("text", "image", "video", "audio", "document", "sticker", "location", "contacts", "reaction")


def phase_of(age: timedelta) -> int:
    if age <= timedelta(days=1):
        return 0
    return 1 if age <= timedelta(days=90) else 2


async def _value(uow: UnitOfWork, phone: SandboxPhoneNumber, field: str, content: dict[str, Any]) -> None:
    waba = await uow.session.get(SandboxWaba, phone.waba_pk)
    if waba is not None:
        value = {"messaging_product": "whatsapp", "metadata": metadata(phone), **content}
        await queue_change(uow, waba, field, value)


async def _thread(uow: UnitOfWork, phone: SandboxPhoneNumber, wa_id: str) -> None:
    found = (
        await uow.session.execute(
            select(SandboxThread.id).where(SandboxThread.phone_pk == phone.id, SandboxThread.wa_id == wa_id)
        )
    ).first()
    if found is None:
        uow.session.add(SandboxThread(phone_pk=phone.id, wa_id=wa_id))


async def seed_history(uow: UnitOfWork, phone: SandboxPhoneNumber) -> list[SandboxMessage]:
    """The virtual customers of this number's app past and their 1:1 messages (idempotent per number)."""
    profile = await load_profile(uow)
    now = uow.clock.now()
    messages: list[SandboxMessage] = []
    for i in range(profile.history_customers):
        wa_id = f"917{phone.wa_number[-5:]}{i:04d}"
        customer = (
            await uow.session.execute(select(SandboxCustomer).where(SandboxCustomer.wa_id == wa_id))
        ).scalar_one_or_none()
        if customer is None:
            customer = SandboxCustomer(
                wa_id=wa_id, name=f"App customer {i + 1}", on_whatsapp=True, opted_out_marketing=False
            )
            uow.session.add(customer)
        await _thread(uow, phone, wa_id)
        existing = (
            (
                await uow.session.execute(
                    select(SandboxMessage).where(SandboxMessage.phone_pk == phone.id, SandboxMessage.wa_id == wa_id)
                )
            )
            .scalars()
            .all()
        )
        if existing:  # already seeded (the other sync ran first)
            messages.extend(existing)
            continue
        for j in range(profile.history_messages_per_customer):
            inbound = j % 2 == 0
            at = now - timedelta(days=AGES_DAYS[(j // 2) % len(AGES_DAYS)], minutes=(j % 2) * 5 + i)
            text = f"Hello, is item {j + 1} in stock?" if inbound else f"Yes, item {j + 1} is available."
            message = SandboxMessage(
                wamid=wamid(wa_id),
                phone_pk=phone.id,
                business_pk=None,
                wa_id=wa_id,
                direction="in" if inbound else "out",
                type="text",
                payload={"text": {"body": text}},
                status="received" if inbound else "read",
                created_at=at,
                counts_toward_limit=False,
            )
            uow.session.add(message)
            messages.append(message)
    await uow.flush()
    return messages


def _history_message(phone: SandboxPhoneNumber, message: SandboxMessage) -> dict[str, Any]:
    item: dict[str, Any] = {
        "from": message.wa_id if message.direction == "in" else phone.wa_number,
        "id": message.wamid,
        "timestamp": str(int(message.created_at.timestamp())),
        "type": message.type,
        message.type: message.payload.get(message.type, {}),
        "history_context": {"status": "READ" if message.direction == "out" else "DELIVERED"},
    }
    if message.direction == "out":
        item = {"from": item["from"], "to": message.wa_id, **{k: v for k, v in item.items() if k != "from"}}
    return item


def history_chunks(phone: SandboxPhoneNumber, messages: list[SandboxMessage], now: datetime) -> list[dict[str, Any]]:
    """Messages → `history[]` items, by phase then by groups of threads, with chunk_order and progress."""
    by_phase: dict[int, dict[str, list[SandboxMessage]]] = {0: {}, 1: {}, 2: {}}
    for message in sorted(messages, key=lambda m: m.created_at):
        by_phase[phase_of(now - message.created_at)].setdefault(message.wa_id, []).append(message)
    planned: list[tuple[int, list[tuple[str, list[SandboxMessage]]]]] = []
    for phase in (0, 1, 2):
        threads = list(by_phase[phase].items())
        for start in range(0, max(len(threads), 1), THREADS_PER_CHUNK):
            planned.append((phase, threads[start : start + THREADS_PER_CHUNK]))
    chunks, order = [], {0: 0, 1: 0, 2: 0}
    for index, (phase, threads) in enumerate(planned, start=1):
        order[phase] += 1
        chunks.append(
            {
                "metadata": {
                    "phase": phase,
                    "chunk_order": order[phase],
                    "progress": round(index * 100 / len(planned)),
                },
                "threads": [
                    {"id": wa_id, "messages": [_history_message(phone, m) for m in items]} for wa_id, items in threads
                ],
            }
        )
    return chunks


async def run_sync(uow: UnitOfWork, phone_pk: int, sync_type: str) -> None:
    phone = await uow.session.get(SandboxPhoneNumber, phone_pk)
    if phone is None or phone.waba_pk is None:
        return
    if sync_type == "history":
        messages = await seed_history(uow, phone)
        for chunk in history_chunks(phone, messages, uow.clock.now()):
            await _value(uow, phone, "history", {"history": [chunk]})
        return
    if not await _has_customers(uow, phone):
        await seed_history(uow, phone)
    timestamp = str(int(uow.clock.now().timestamp()))
    rows = (
        (
            await uow.session.execute(
                select(SandboxCustomer)
                .join(SandboxThread, SandboxThread.wa_id == SandboxCustomer.wa_id)
                .where(SandboxThread.phone_pk == phone.id)
                .order_by(SandboxCustomer.id)
            )
        )
        .scalars()
        .all()
    )
    state = [
        {
            "type": "contact",
            "contact": {"full_name": c.name, "first_name": c.name.split(" ")[0], "phone_number": c.wa_id},
            "action": "add",
            "metadata": {"timestamp": timestamp},
        }
        for c in rows
    ]
    await _value(uow, phone, "smb_app_state_sync", {"state_sync": state})


async def _has_customers(uow: UnitOfWork, phone: SandboxPhoneNumber) -> bool:
    return (
        await uow.session.execute(select(SandboxThread.id).where(SandboxThread.phone_pk == phone.id))
    ).first() is not None


async def business_app_sends(uow: UnitOfWork, phone: SandboxPhoneNumber, to: str, message: dict[str, Any]) -> str:
    """The business types a reply in the WhatsApp Business app: stored in the thread, echoed by webhook."""
    if not phone.coexistence:
        raise GraphFault(100, "Only coexistence numbers (on the WhatsApp Business app) send from the app.")
    kind = str(message.get("type", "text")).lower()
    content = message.get(kind)
    if kind not in ECHO_TYPES or not isinstance(content, dict):
        raise GraphFault(131009, f"message.type must be one of {', '.join(ECHO_TYPES)} with its object.")
    wa_id = "".join(ch for ch in str(to) if ch.isdigit())
    if not 5 <= len(wa_id) <= 15:
        raise GraphFault(131009, f"'{to}' is not a valid WhatsApp id.")
    now = uow.clock.now()
    message_id = wamid(wa_id)
    await _thread(uow, phone, wa_id)
    uow.session.add(
        SandboxMessage(
            wamid=message_id,
            phone_pk=phone.id,
            business_pk=None,
            wa_id=wa_id,
            direction="out",
            type=kind,
            payload={kind: content, "from_app": True},
            status="sent",
            created_at=now,
            sent_at=now,
            counts_toward_limit=False,
        )
    )
    echo = {
        "from": phone.wa_number,
        "to": wa_id,
        "id": message_id,
        "timestamp": str(int(now.timestamp())),
        "type": kind,
        kind: content,
    }
    await _value(uow, phone, "smb_message_echoes", {"message_echoes": [echo]})
    await uow.flush()
    return message_id
