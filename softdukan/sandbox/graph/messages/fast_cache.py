"""Per-process read caches for the send fast path: tokens, numbers (with their WABA and business), templates and
the behaviour profile, as detached copies of their rows.

An entry is used only while (a) no session of this process has written a row of those tables since it was read —
any flush touching them bumps a generation, again at commit or rollback — and (b) it is younger than `TTL`
seconds, which bounds how long a write by another process (a second sandbox on the same database) goes unseen.
The copies are transient ORM instances: the send checks read their attributes exactly as they read rows.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

from softdukan.platform.runtime import Runtime
from softdukan.sandbox.graph.profile import PROFILE_KEY, Profile
from softdukan.sandbox.models import (
    SandboxBusiness,
    SandboxPhoneNumber,
    SandboxSetting,
    SandboxTemplate,
    SandboxToken,
    SandboxWaba,
)

TTL = 1.0
WATCHED = (SandboxToken, SandboxBusiness, SandboxWaba, SandboxPhoneNumber, SandboxTemplate, SandboxSetting)
M = TypeVar("M")
V = TypeVar("V")

_generation = 0
_loading: dict[Any, tuple[int, asyncio.Future[Any]]] = {}
_entries: weakref.WeakKeyDictionary[Engine, dict[Any, tuple[int, float, Any]]] = weakref.WeakKeyDictionary()


def invalidate() -> None:
    global _generation
    _generation += 1


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context: Any) -> None:
    if any(isinstance(obj, WATCHED) for objs in (session.new, session.dirty, session.deleted) for obj in objs):
        session.info["sandbox_cache_dirty"] = True
        invalidate()


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _after_end(session: Session) -> None:
    if session.info.pop("sandbox_cache_dirty", False):
        invalidate()  # a reader between the flush and the commit may have cached what was there before


def detached(row: M) -> M:
    """A transient copy of an ORM row's column values (no session, no lazy loads)."""
    mapper = type(row).__mapper__  # type: ignore[attr-defined]
    copy = mapper.class_manager.new_instance()  # instance state without running __init__'s defaults
    for attr in mapper.column_attrs:
        setattr(copy, attr.key, getattr(row, attr.key))
    return copy  # type: ignore[no-any-return]


async def _cached(runtime: Runtime, key: Any, load: Callable[[], Awaitable[V]]) -> V:
    engine = runtime.engine.sync_engine
    entries = _entries.get(engine)
    if entries is None:
        entries = _entries[engine] = {}
    found = entries.get(key)
    now = time.monotonic()
    if found is not None and found[0] == _generation and now - found[1] < TTL:
        return found[2]  # type: ignore[no-any-return]
    loading = _loading.get((engine, key))
    if loading is not None and loading[0] == _generation and loading[1].get_loop() is asyncio.get_running_loop():
        await asyncio.wait([loading[1]])  # one load at a time per key: the others wait for it
        if not loading[1].cancelled():
            return loading[1].result()  # type: ignore[no-any-return]
    generation = _generation
    future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    _loading[(engine, key)] = (generation, future)
    try:
        value = await load()
    except BaseException:
        future.cancel()  # the waiters load it themselves
        raise
    finally:
        if _loading.get((engine, key), (0, None))[1] is future:
            del _loading[(engine, key)]
    future.set_result(value)
    if len(entries) > 10_000:
        entries.clear()
    entries[key] = (generation, now, value)
    return value


async def token(runtime: Runtime, token_hash: str) -> tuple[SandboxToken, SandboxBusiness] | None:
    async def load() -> tuple[SandboxToken, SandboxBusiness] | None:
        async with runtime.sessionmaker() as session:
            row = (await session.execute(select(SandboxToken).where(SandboxToken.token_hash == token_hash))
                   ).scalar_one_or_none()
            business = await session.get(SandboxBusiness, row.business_pk) if row is not None else None
            return (detached(row), detached(business)) if row is not None and business is not None else None

    return await _cached(runtime, ("token", token_hash), load)


async def phone(runtime: Runtime, phone_number_id: str
                ) -> tuple[SandboxPhoneNumber, SandboxWaba, SandboxBusiness] | None:
    async def load() -> tuple[SandboxPhoneNumber, SandboxWaba, SandboxBusiness] | None:
        async with runtime.sessionmaker() as session:
            row = (await session.execute(select(SandboxPhoneNumber).where(
                SandboxPhoneNumber.phone_number_id == phone_number_id))).scalar_one_or_none()
            if row is None or row.waba_pk is None:
                return None
            waba = await session.get(SandboxWaba, row.waba_pk)
            business = await session.get(SandboxBusiness, waba.business_pk) if waba is not None else None
            if waba is None or business is None:
                return None
            return detached(row), detached(waba), detached(business)

    return await _cached(runtime, ("phone", phone_number_id), load)


async def templates(runtime: Runtime, waba_pk: int, name: str, language: str) -> list[SandboxTemplate]:
    """Every live template of that name and language (the fast path sends only when there is exactly one)."""
    async def load() -> list[SandboxTemplate]:
        async with runtime.sessionmaker() as session:
            rows = (await session.execute(select(SandboxTemplate).where(
                SandboxTemplate.waba_pk == waba_pk, SandboxTemplate.name == name,
                SandboxTemplate.language == language, SandboxTemplate.deleted_at.is_(None)))).scalars().all()
            return [detached(row) for row in rows]

    return await _cached(runtime, ("template", waba_pk, name, language), load)


async def profile(runtime: Runtime) -> Profile:
    async def load() -> Profile:
        from softdukan.platform.uow import UnitOfWork
        from softdukan.sandbox.graph.profile import load_profile

        async with runtime.sessionmaker() as session:
            return await load_profile(UnitOfWork(runtime, session))

    return await _cached(runtime, ("setting", PROFILE_KEY), load)


def clear() -> None:
    """Forget everything (tests)."""
    invalidate()
    for entries in list(_entries.values()):
        entries.clear()


__all__ = ["TTL", "clear", "detached", "invalidate", "phone", "profile", "templates", "token"]
