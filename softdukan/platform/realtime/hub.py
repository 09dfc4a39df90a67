"""The live-event hub: fan-out of committed events to SSE subscribers (in-memory or Redis pub/sub)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol


class Hub(Protocol):
    async def publish(self, envelope: dict[str, Any]) -> None: ...

    def subscribe(self, organization_id: int) -> Any:
        """Async context manager yielding an async iterator of envelopes for one organization."""
        ...

    async def close(self) -> None: ...


class MemoryHub:
    """One process: every subscriber gets its own bounded queue."""

    def __init__(self, queue_size: int = 1000) -> None:
        self._subscribers: dict[int, set[asyncio.Queue[dict[str, Any] | None]]] = {}
        self._queue_size = queue_size

    async def publish(self, envelope: dict[str, Any]) -> None:
        for queue in list(self._subscribers.get(envelope["organization_id"], ())):
            if queue.full():  # a stalled reader loses its oldest event rather than blocking publishers
                queue.get_nowait()
            queue.put_nowait(envelope)

    @asynccontextmanager
    async def subscribe(self, organization_id: int) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(self._queue_size)
        self._subscribers.setdefault(organization_id, set()).add(queue)

        async def events() -> AsyncIterator[dict[str, Any]]:
            while (envelope := await queue.get()) is not None:  # None: the hub closed
                yield envelope

        try:
            yield events()
        finally:
            self._subscribers.get(organization_id, set()).discard(queue)

    async def close(self) -> None:
        for queues in self._subscribers.values():
            for queue in queues:
                if queue.full():
                    queue.get_nowait()
                queue.put_nowait(None)
        self._subscribers.clear()


def make_hub(redis_url: str | None) -> Hub:
    if redis_url:
        from softdukan.platform.realtime.redis_hub import RedisHub

        return RedisHub(redis_url)
    return MemoryHub()
