"""What the webhook needs of an account to check a signature, cached briefly in the process.

The acknowledgement path must be fast (Meta wants a 200 within 250 ms at 3× outbound traffic): a cache hit
means no database read before the one write transaction, and on SQLite every transaction (reads included)
takes the write lock. Entries live `TTL` seconds, so a rotated app secret or a removed account is seen within
a minute; unknown WABAs are never cached. One cache per engine (per runtime), so test databases don't mix.
"""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from softdukan.inbound.gate import write_gate
from softdukan.number.service import find_account_by_waba_id
from softdukan.platform.runtime import Runtime
from softdukan.platform.uow import UnitOfWork

TTL = 60.0
MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class SigningAccount:
    account_id: int
    organization_id: int
    app_secret: str | None  # None: the sealed secret can't be opened with this key
    expires: float


_caches: weakref.WeakKeyDictionary[Engine, dict[str, SigningAccount]] = weakref.WeakKeyDictionary()  # see gate.py


def forget(engine: AsyncEngine, waba_id: str | None = None) -> None:
    """Drop cached entries (all, or one WABA): for code that changes an account's app secret."""
    cache = _caches.get(engine.sync_engine)
    if cache is not None:
        cache.clear() if waba_id is None else cache.pop(waba_id, None)


async def signing_account(runtime: Runtime, waba_id: str) -> SigningAccount | None:
    cache = _caches.setdefault(runtime.engine.sync_engine, {})
    now = time.monotonic()
    hit = cache.get(waba_id)
    if hit is not None and hit.expires > now:
        return hit
    # Its own short transaction, through the gate: the request's transaction must not start (and take SQLite's
    # write lock) before the request is inside the gate, or two requests could wait on each other.
    async with write_gate(runtime.engine), runtime.sessionmaker() as session:
        account = await find_account_by_waba_id(UnitOfWork(runtime, session), waba_id)
        found = (account.id, account.organization_id, account.app_secret_sealed) if account else None
        await session.rollback()
    if found is None:
        cache.pop(waba_id, None)
        return None
    try:
        secret: str | None = runtime.secrets.open(found[2])
    except ValueError:
        secret = None
    if len(cache) >= MAX_ENTRIES:
        cache.clear()
    entry = SigningAccount(found[0], found[1], secret, now + TTL)
    cache[waba_id] = entry
    return entry
