"""Group commit for webhook acknowledgements: one writer at a time per database, each writing everything that
queued up meanwhile in one transaction.

Each request's own transaction would cost a BEGIN, two INSERTs and a COMMIT — a dozen driver round trips,
and on SQLite every transaction takes the database's write lock at BEGIN, so concurrent requests would wait in
SQLite's sleeping busy handler. Instead a request queues its rows and takes the writer lock (FIFO); whoever
holds it writes every queued request's rows at once (batch_write.py: one statement on PostgreSQL, one events
insert and one jobs insert on SQLite) and answers them all. Under load batches grow by themselves; alone, a
request writes only its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Generic, TypeVar

from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncEngine

T = TypeVar("T")
Item = list[dict[str, Any]]

# keyed by the sync Engine: plain identity hashing (AsyncEngine's proxy __eq__ costs microseconds per lookup)
_locks: weakref.WeakKeyDictionary[Engine, asyncio.Lock] = weakref.WeakKeyDictionary()


def _lock(engine: AsyncEngine) -> asyncio.Lock:
    lock = _locks.get(engine.sync_engine)
    if lock is None:
        lock = _locks[engine.sync_engine] = asyncio.Lock()
    return lock


@contextlib.asynccontextmanager
async def write_gate(engine: AsyncEngine) -> AsyncIterator[None]:
    """Holds the database's writer lock (the same one group commits take)."""
    async with _lock(engine):
        yield


class GroupCommit(Generic[T]):
    """`await group.submit(item)` → the result `write(batch)` gave for this item (or its exception)."""

    def __init__(self, engine: AsyncEngine, write: Callable[[list[Item]], Awaitable[list[T]]],
                 write_one: Callable[[Item], Awaitable[T]], *, max_items: int = 500) -> None:
        self.engine, self.write, self.write_one, self.max_items = engine, write, write_one, max_items
        self.pending: list[tuple[Item, asyncio.Future[T]]] = []

    async def submit(self, item: Item) -> T:
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self.pending.append((item, future))
        async with _lock(self.engine):
            while not future.done():  # nobody wrote it yet: this request writes what is queued
                batch, self.pending = self.pending[:self.max_items], self.pending[self.max_items:]
                await self._flush(batch)
        return await future

    async def _flush(self, batch: list[tuple[Item, asyncio.Future[T]]]) -> None:
        try:
            try:
                results = await self.write([item for item, _ in batch])
            except Exception as exc:
                if len(batch) == 1:
                    batch[0][1].set_exception(exc)
                    return
                # one bad request must not fail the others: write them one by one
                for item, future in batch:
                    try:
                        future.set_result(await self.write_one(item))
                    except Exception as one_exc:  # handed to that request's handler
                        future.set_exception(one_exc)
                return
            for (_, future), result in zip(batch, results, strict=True):
                future.set_result(result)
        finally:
            # cancelled mid-write: whatever is unanswered goes back to the queue for the next writer (a second
            # write of committed rows only finds duplicates)
            self.pending[:0] = [(item, future) for item, future in batch if not future.done()]


_groups: weakref.WeakKeyDictionary[Engine, Any] = weakref.WeakKeyDictionary()


def group_for(engine: AsyncEngine, factory: Callable[[], GroupCommit[T]]) -> GroupCommit[T]:
    group = _groups.get(engine.sync_engine)
    if group is None:
        group = _groups[engine.sync_engine] = factory()
    return group  # type: ignore[no-any-return]
