"""Routing of the coexistence webhook fields (reference §10.3, §5.11) for a WhatsApp Business app number:

- `history`: `value.history[]` items, each `{"metadata": {"phase", "chunk_order", "progress"}, "threads": [{"id":
  <customer>, "messages": [...]}]}` or `{"errors": [...]}` (2593109: the business turned history sharing off);
  media content of earlier `media_placeholder` messages comes as `value.messages[]` in a later `history` webhook.
  Chunks may arrive in any order: every message is stored once by wamid, and progress only moves the number's
  `history_import` to done (at 100).
- `smb_message_echoes`: `value.message_echoes[]`, messages the business sent from the Business app (`to` is the
  customer).
- `smb_app_state_sync`: `value.state_sync[]`, the Business app's address book (`add` creates or names a contact;
  `remove` keeps the contact, whose conversations stay).

A message that does not parse is skipped and counted in the note, never a failed event (one bad item must not
block thousands of good ones).
"""

from __future__ import annotations

from typing import Any

from softdukan.contact.service import contact_service
from softdukan.conversation.events import HistoryImported
from softdukan.conversation.history import fill_placeholder, import_message
from softdukan.conversation.models import ORIGIN_BUSINESS_APP, ORIGIN_HISTORY
from softdukan.inbound.models import InboundEvent
from softdukan.number.models import PhoneNumber, WhatsAppAccount
from softdukan.number.service import digits, find_by_phone_number_id, record_history_progress
from softdukan.platform.uow import UnitOfWork
from softdukan.whatsapp.webhook import PayloadError, parse_message
from softdukan.whatsapp.webhook.common import timestamp

COEXISTENCE_FIELDS = frozenset({"history", "smb_message_echoes", "smb_app_state_sync"})
HISTORY_OFF = 2593109  # "History sync is turned off by the business from the WhatsApp Business App"


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


class _Tally:
    def __init__(self) -> None:
        self.stored = self.duplicates = self.skipped = 0

    def note(self, what: str) -> str:
        return f"{what}: {self.stored} stored, {self.duplicates} already known, {self.skipped} unreadable"


async def _phone(uow: UnitOfWork, event: InboundEvent, value: dict[str, Any]) -> PhoneNumber | None:
    metadata = _obj(value.get("metadata"))
    phone_number_id = metadata.get("phone_number_id")
    if not isinstance(phone_number_id, str | int):
        return None
    phone = await find_by_phone_number_id(uow, str(phone_number_id))
    if phone is None or phone.organization_id != event.organization_id or phone.account_id != event.account_id:
        return None
    return phone


async def _store(uow: UnitOfWork, phone: PhoneNumber, raw: dict[str, Any], tally: _Tally, *, origin: str,
                 customer: str | None = None, status: str | None = None) -> None:
    try:
        message = parse_message(raw, "message")
    except PayloadError:
        tally.skipped += 1
        return
    sender = digits(message.from_)
    to = digits(str(raw.get("to") or ""))
    from_business = bool(to) or sender == phone.wa_number or (customer is not None and sender != customer)
    customer = customer or (to if from_business else sender)
    if not customer or not 5 <= len(customer) <= 15:  # only a placeholder's content can go without a customer
        filled = await fill_placeholder(uow, phone, message, str(raw.get("type") or ""))
        tally.stored += filled is not None
        tally.skipped += filled is None
        return
    row = await import_message(uow, phone, message, customer=customer, from_business=from_business,
                               raw_type=str(raw.get("type") or ""), origin=origin, status=status)
    if row is None:
        tally.duplicates += 1
    else:
        tally.stored += 1


async def _history(uow: UnitOfWork, phone: PhoneNumber, value: dict[str, Any]) -> str:
    tally, progress, declined = _Tally(), None, False
    for item in _dicts(value.get("history")):
        if any(_int(e.get("code")) == HISTORY_OFF for e in _dicts(item.get("errors"))):
            declined = True
        metadata = _obj(item.get("metadata"))
        if (chunk_progress := _int(metadata.get("progress"))) is not None:
            progress = max(progress or 0, min(chunk_progress, 100))
        for thread in _dicts(item.get("threads")):
            customer = digits(str(thread.get("id") or ""))
            for raw in _dicts(thread.get("messages")):
                context = _obj(raw.get("history_context"))
                status = context.get("status") if isinstance(context.get("status"), str) else None
                await _store(uow, phone, raw, tally, origin=ORIGIN_HISTORY, customer=customer or None, status=status)
    for raw in _dicts(value.get("messages")):  # media content of earlier placeholders
        await _store(uow, phone, raw, tally, origin=ORIGIN_HISTORY)
    await record_history_progress(uow, phone, progress=progress, declined=declined)
    uow.emit(HistoryImported(organization_id=phone.organization_id, phone_number_id=phone.id,
                             messages=tally.stored, progress=progress))
    if declined:
        return "history: the business turned history sharing off in the WhatsApp Business app"
    return tally.note(f"history (progress {progress if progress is not None else '?'})")


async def _echoes(uow: UnitOfWork, phone: PhoneNumber, value: dict[str, Any]) -> str:
    tally = _Tally()
    for raw in _dicts(value.get("message_echoes")):
        await _store(uow, phone, raw, tally, origin=ORIGIN_BUSINESS_APP)
    return tally.note("business app echoes")


async def _contacts(uow: UnitOfWork, phone: PhoneNumber, value: dict[str, Any]) -> str:
    added = removed = skipped = 0
    for item in _dicts(value.get("state_sync")):
        contact = _obj(item.get("contact"))
        wa_id = digits(str(contact.get("phone_number") or ""))
        if item.get("type", "contact") != "contact" or not 5 <= len(wa_id) <= 15:
            skipped += 1
            continue
        if item.get("action") == "remove":
            removed += 1  # kept: the contact may have conversations; the address book entry is gone
            continue
        name = contact.get("full_name") or contact.get("first_name")
        metadata = _obj(item.get("metadata"))
        try:
            at = timestamp(metadata.get("timestamp"), "state_sync.metadata.timestamp")
        except PayloadError:
            at = uow.clock.now()
        await contact_service.sync_from_business_app(uow, phone.organization_id, wa_id,
                                                     name=name if isinstance(name, str) else None, at=at)
        added += 1
    return f"business app contacts: {added} added or updated, {removed} removed, {skipped} unreadable"


async def route_coexistence(uow: UnitOfWork, event: InboundEvent, account: WhatsAppAccount) -> str:
    value = event.payload.get("value") or {}
    phone = await _phone(uow, event, value)
    if phone is None:
        return f"{event.field}: the number is not connected to this account; recorded only"
    if event.field == "history":
        return (await _history(uow, phone, value))[:300]
    if event.field == "smb_message_echoes":
        return (await _echoes(uow, phone, value))[:300]
    return (await _contacts(uow, phone, value))[:300]
