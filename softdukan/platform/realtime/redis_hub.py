"""The live-event hub across processes: Redis pub/sub, one channel per organization.

Each process keeps ONE pub/sub connection, subscribed to the channels of the organizations that have a live
subscriber here, and fans messages out to per-subscriber queues (as MemoryHub does), so a thousand open
dashboards cost one Redis connection, not a thousand.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
import structlog
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

log = structlog.get_logger(__name__)

Envelope = dict[str, Any]
# how long a new subscriber waits for Redis to confirm its SUBSCRIBE before giving up
CONFIRM_TIMEOUT = 10.0
# pause before reading again after the pub/sub connection failed (redis-py already retried)
READ_RETRY_DELAY = 1.0


def channel_for(organization_id: int) -> str:
    return f"sd:events:{organization_id}"


@dataclass
class _Channel:
    ready: asyncio.Future[None]  # resolved once Redis confirmed the SUBSCRIBE
    queues: set[asyncio.Queue[Envelope | None]] = field(default_factory=set)


def _offer(queue: asyncio.Queue[Envelope | None], item: Envelope | None) -> None:
    if queue.full():  # a stalled reader loses its oldest event rather than blocking everyone else
        queue.get_nowait()
    queue.put_nowait(item)


class RedisHub:
    def __init__(self, redis_url: str, queue_size: int = 1000) -> None:
        self._redis = Redis.from_url(redis_url, client_name="softdukan-hub")
        self._queue_size = queue_size
        self._pubsub: PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._channels: dict[str, _Channel] = {}
        # SUBSCRIBE commands sent but not yet confirmed, per channel: an unsubscribe and resubscribe in quick
        # succession must not take the first command's confirmation for the second's
        self._unconfirmed: dict[str, int] = {}
        self._lock = asyncio.Lock()  # one SUBSCRIBE/UNSUBSCRIBE decision at a time
        self._chores: set[asyncio.Task[None]] = set()
        self._closed = False

    async def publish(self, envelope: Envelope) -> None:
        await self._redis.publish(channel_for(envelope["organization_id"]), orjson.dumps(envelope))

    @asynccontextmanager
    async def subscribe(self, organization_id: int) -> AsyncIterator[AsyncIterator[Envelope]]:
        """Yields once Redis confirmed the subscription: every event published after that is delivered."""
        name = channel_for(organization_id)
        queue: asyncio.Queue[Envelope | None] = asyncio.Queue(self._queue_size)
        entry = await self._join(name, queue)
        try:
            # shielded: a cancelled subscriber must not cancel the future other subscribers wait on
            await asyncio.wait_for(asyncio.shield(entry.ready), CONFIRM_TIMEOUT)
            yield self._drain(queue)
        finally:
            self._leave(name, queue)

    async def close(self) -> None:
        """Ends every subscriber's iterator, then drops the pub/sub connection and the pool."""
        async with self._lock:  # a SUBSCRIBE in flight finishes first, so nothing starts reading after this
            self._closed = True
            for entry in self._channels.values():
                if not entry.ready.done():  # a subscriber still waiting for its confirmation gets an ended stream
                    entry.ready.set_result(None)
                for queue in entry.queues:
                    _offer(queue, None)
            self._channels.clear()
        tasks = [t for t in (self._reader, *self._chores) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._pubsub is not None:
            await self._pubsub.aclose()
        await self._redis.aclose()

    # -- subscriptions --------------------------------------------------------------------------

    async def _join(self, name: str, queue: asyncio.Queue[Envelope | None]) -> _Channel:
        async with self._lock:
            if self._closed:
                raise RuntimeError("the live-event hub is closed")
            entry = self._channels.get(name)
            if entry is None:
                entry = _Channel(asyncio.get_running_loop().create_future())
                self._channels[name] = entry
                self._unconfirmed[name] = self._unconfirmed.get(name, 0) + 1
                try:
                    if self._pubsub is None:
                        self._pubsub = self._redis.pubsub()
                    await self._pubsub.subscribe(name)
                except BaseException:
                    del self._channels[name]
                    self._unconfirmed[name] -= 1
                    raise
                if self._reader is None or self._reader.done():
                    self._reader = self._start(self._read(self._pubsub))
            entry.queues.add(queue)
            return entry

    def _leave(self, name: str, queue: asyncio.Queue[Envelope | None]) -> None:
        # synchronous: it runs in cancelled tasks too (a client that went away), where awaiting is unreliable
        entry = self._channels.get(name)
        if entry is None:
            return
        entry.queues.discard(queue)
        if not entry.queues and not self._closed:
            del self._channels[name]
            self._spawn(self._unsubscribe_if_unused(name))

    async def _unsubscribe_if_unused(self, name: str) -> None:
        async with self._lock:
            if self._closed or name in self._channels or self._pubsub is None:  # or someone subscribed again
                return
            try:
                await self._pubsub.unsubscribe(name)
            except RedisError:  # the connection is gone; it resubscribes only to what is still wanted
                log.warning("hub_unsubscribe_failed", channel=name)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = self._start(work)
        self._chores.add(task)  # a strong reference until done, or the task may be garbage-collected
        task.add_done_callback(self._chores.discard)

    @staticmethod
    def _start(work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        # a fresh context: the hub's tasks outlive the request that happened to start them (and its log context)
        return asyncio.create_task(work, context=contextvars.Context())

    # -- reading --------------------------------------------------------------------------------

    async def _read(self, pubsub: PubSub) -> None:
        while not self._closed:
            try:
                message = await pubsub.get_message(timeout=None)
            except Exception as exc:  # the next read reconnects and resubscribes; events meanwhile are lost
                log.warning("hub_read_failed", error=repr(exc))
                await asyncio.sleep(READ_RETRY_DELAY)
                continue
            if message is not None:
                self._dispatch(message)

    def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        name = message["channel"].decode() if isinstance(message["channel"], bytes) else str(message["channel"])
        if kind == "subscribe":
            left = self._unconfirmed.get(name, 0) - 1
            if left > 0:
                self._unconfirmed[name] = left
                return
            self._unconfirmed.pop(name, None)
            entry = self._channels.get(name)
            if entry is not None and not entry.ready.done():
                entry.ready.set_result(None)
        elif kind == "message":
            entry = self._channels.get(name)
            if entry is None:
                return
            try:
                envelope = orjson.loads(message["data"])
            except orjson.JSONDecodeError:
                log.warning("hub_bad_message", channel=name)
                return
            for queue in entry.queues:
                _offer(queue, envelope)

    @staticmethod
    async def _drain(queue: asyncio.Queue[Envelope | None]) -> AsyncIterator[Envelope]:
        while (envelope := await queue.get()) is not None:
            yield envelope
