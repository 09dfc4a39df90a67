"""`POST /webhooks/whatsapp`: check the signature, store one raw event per message / status / change, enqueue
their routing, all in the request's one transaction. Routing happens in the `inbound.route` job.

What the endpoint answers (Meta retries any non-2xx for up to 7 days):
- 401 — the `X-Hub-Signature-256` header is missing or malformed, an `entry[].id` names a WABA we don't have,
  or the signature doesn't match the app secret of the WABA(s) named. Nothing is stored.
- 400 — the body is not JSON, or not Meta's webhook shape (we name the path that is wrong). When the frame is
  unreadable there is no WABA to check a signature against, so this can come before the signature check;
  a shape error deeper inside a signed body is also 400 (nothing stored). Unknown message types, statuses,
  fields and enum values are not shape errors: they are stored and routed as "unknown"/"unsupported".
- 413 — bodies over 1 MB (Meta's are a few kB).
- 200 — stored (or already stored: replays change nothing), `{"stored": n, "duplicates": m}`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson

import softdukan.inbound.tasks  # noqa: F401  registers ROUTE_TASK wherever webhooks are received
from softdukan.inbound import models as m
from softdukan.inbound.accounts import SigningAccount, signing_account
from softdukan.inbound.batch_write import NewRow, write_events_and_jobs
from softdukan.inbound.gate import GroupCommit, group_for
from softdukan.inbound.repository import InboundEventRepository
from softdukan.platform.errors import BadRequest, DomainError, Unauthorized
from softdukan.platform.jobs.registry import get_task
from softdukan.platform.runtime import Runtime
from softdukan.platform.uow import UnitOfWork
from softdukan.whatsapp.webhook import (
    Envelope,
    MessageStatus,
    PayloadError,
    parse_envelope,
    parse_messages_value,
    signature,
)

MAX_BODY = 1_000_000
ROUTE_TASK = "inbound.route"


class PayloadTooLarge(DomainError):
    status = 413
    default_code = "payload_too_large"


@dataclass(frozen=True)
class Received:
    stored: int
    duplicates: int


def _key(*parts: str) -> str:
    key = ":".join(parts)
    if len(key) <= 200:
        return key
    return f"{parts[0]}:sha256:{hashlib.sha256(key.encode()).hexdigest()}"


def _digest(value: Any) -> str:
    return hashlib.sha256(orjson.dumps(value, option=orjson.OPT_SORT_KEYS)).hexdigest()[:40]


def _unauthorized(reason: str) -> Unauthorized:
    # one message for every cause: a caller probing WABA ids learns nothing
    return Unauthorized("invalid_signature", "The X-Hub-Signature-256 signature is missing or does not match.",
                        {"reason": reason})


def event_rows(envelope: Envelope, accounts: dict[str, SigningAccount], now: Any) -> list[dict[str, Any]]:
    """The raw event rows of a verified body. Raises PayloadError on a shape error inside a change."""
    rows: list[dict[str, Any]] = []

    def add(account: SigningAccount, key: str, kind: str, field: str, payload: dict[str, Any],
            phone_number_id: str | None = None, wamid: str | None = None) -> None:
        rows.append({"organization_id": account.organization_id, "account_id": account.account_id, "dedupe_key": key,
                     "kind": kind, "field": field[:64], "phone_number_id": phone_number_id, "wamid": wamid,
                     "payload": payload, "received_at": now, "state": m.PENDING, "attempts": 0, "created_at": now})

    for entry in envelope.entries:
        account = accounts[entry.waba_id]
        entry_time = str(int(entry.time.timestamp())) if entry.time else ""
        for change in entry.changes:
            if change.field != "messages":
                add(account, _key("chg", entry.waba_id, change.field, entry_time, _digest(change.value)), m.CHANGE,
                    change.field, {"waba_id": entry.waba_id, "field": change.field, "time": entry_time or None,
                                   "value": change.value})
                continue
            value = parse_messages_value(change)  # validates every item before anything is stored
            raw = change.value
            phone_id = value.metadata.phone_number_id
            base = {"waba_id": entry.waba_id, "metadata": raw["metadata"]}
            for item, parsed in zip(raw.get("messages") or [], value.messages, strict=True):
                contacts = [c for c in raw.get("contacts") or [] if isinstance(c, dict)
                            and c.get("wa_id") in (parsed.from_, None)]
                add(account, _key("msg", parsed.wamid), m.MESSAGE, "messages",
                    {**base, "contacts": contacts, "messages": [item]}, phone_id, parsed.wamid)
            for item, status in zip(raw.get("statuses") or [], value.statuses, strict=True):
                if isinstance(status, MessageStatus):
                    key = _key("st", status.wamid, status.raw_status.lower()[:20])
                    add(account, key, m.STATUS, "messages", {**base, "statuses": [item]}, phone_id, status.wamid)
                else:
                    key = _key("pay", status.payment_id, status.raw_status.lower()[:20],
                               str(item.get("timestamp", ""))[:20], _digest(item)[:16])
                    add(account, key, m.PAYMENT, "messages", {**base, "statuses": [item]}, phone_id)
            if raw.get("errors"):
                add(account, _key("err", phone_id, _digest(raw["errors"])), m.ERRORS, "messages",
                    {**base, "errors": raw["errors"]}, phone_id)
    return rows


async def verify_and_parse(runtime: Runtime, body: bytes, signature_header: str | None) -> list[dict[str, Any]]:
    """Checks the body and its signature; the raw event rows to store. Raises the 4xx errors described above."""
    if len(body) > MAX_BODY:
        raise PayloadTooLarge(message="The webhook body is larger than 1 MB.")
    if not signature.well_formed(signature_header):
        raise _unauthorized("missing or malformed header")
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise BadRequest("invalid_json", "The body is not valid JSON.") from None
    try:
        envelope = parse_envelope(data)
    except PayloadError as exc:
        raise BadRequest("invalid_payload", f"Not a WhatsApp webhook: {exc.path}: {exc.problem}.",
                         {"path": exc.path}) from None
    accounts: dict[str, SigningAccount] = {}
    for waba_id in sorted(envelope.waba_ids):
        account = await signing_account(runtime, waba_id)
        if account is None:
            raise _unauthorized("unknown WABA")
        accounts[waba_id] = account
    for account in {a.account_id: a for a in accounts.values()}.values():
        if account.app_secret is None:
            raise _unauthorized("app secret unreadable")
        if not signature.verify(account.app_secret, body, signature_header):
            raise _unauthorized("signature mismatch")
    try:
        rows = event_rows(envelope, accounts, runtime.clock.now())
    except PayloadError as exc:
        raise BadRequest("invalid_payload", f"Not a WhatsApp webhook: {exc.path}: {exc.problem}.",
                         {"path": exc.path}) from None
    return list({_identity(row): row for row in rows}.values())  # a body repeating an item stores it once


def _identity(row: dict[str, Any]) -> tuple[int, str]:
    """What makes a stored event unique: its key within its account (see InboundEvent)."""
    return row["account_id"], row["dedupe_key"]


async def store_many(uow: UnitOfWork, requests: list[list[dict[str, Any]]]) -> list[Received]:
    """The ORM path of the same write the group commit makes on the driver (batch_write.py): the reference that
    tests/inbound/test_batch_write.py holds the driver path to. Each request learns how many of its rows were new
    (a key two requests share counts as new for the first one only)."""
    new = await InboundEventRepository(uow.session).insert_new(_unique(requests))
    await uow.enqueue_many(ROUTE_TASK, [{"organization_id": org_id, "event_id": event_id}
                                        for event_id, org_id, _, _ in new])  # one INSERT for the routing jobs
    return _received(requests, new)


def _unique(requests: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return list({_identity(row): row for rows in requests for row in rows}.values())


def _received(requests: list[list[dict[str, Any]]], new: list[NewRow]) -> list[Received]:
    created = {(account_id, key) for _, _, account_id, key in new}
    results = []
    for rows in requests:
        stored = 0
        for row in rows:
            if _identity(row) in created:
                created.discard(_identity(row))  # counted once, for the first request that carried it
                stored += 1
        results.append(Received(stored=stored, duplicates=len(rows) - stored))
    return results


def _group(runtime: Runtime) -> GroupCommit[Received]:
    max_attempts = get_task(ROUTE_TASK).max_attempts

    async def write(requests: list[list[dict[str, Any]]]) -> list[Received]:
        # this batch's transaction, straight on the driver (batch_write.py); the group commit is its edge
        new = await write_events_and_jobs(runtime, _unique(requests), task=ROUTE_TASK,
                                          max_attempts=max_attempts, now=runtime.clock.now())
        if new:
            runtime.jobs_committed()
        return _received(requests, new)

    async def write_one(rows: list[dict[str, Any]]) -> Received:
        return (await write([rows]))[0]

    return group_for(runtime.engine, lambda: GroupCommit(runtime.engine, write, write_one))


async def receive(runtime: Runtime, body: bytes, signature_header: str | None) -> Received:
    """Verifies, then stores through the group commit (committed when this returns). The group commit is the
    edge that owns the transaction, so this takes the runtime, not a request's unit of work."""
    rows = await verify_and_parse(runtime, body, signature_header)
    return await _group(runtime).submit(rows)
