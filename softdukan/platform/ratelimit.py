"""GCRA rate limiting (in-memory, or Redis when REDIS_URL is set)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from softdukan.kit.clock import Clock


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: float  # seconds until the next unit would be allowed (0 when allowed)
    remaining: int


class RateLimiter(Protocol):
    async def hit(self, key: str, *, limit: int, period: float, cost: int = 1) -> Decision:
        """Consume `cost` units if allowed; `limit` units per `period` seconds, burst of `limit`."""
        ...

    async def peek(self, key: str, *, limit: int, period: float) -> Decision:
        """Would one more unit be allowed? Consumes nothing."""
        ...

    async def reset(self, key: str) -> None: ...

    async def close(self) -> None: ...


def gcra(tat: float | None, now: float, *, limit: int, period: float, cost: int) -> tuple[Decision, float | None]:
    """Pure GCRA step: returns the decision and the new theoretical arrival time (None: unchanged)."""
    interval = period / limit
    tolerance = period - interval  # burst of `limit`
    tat = max(tat if tat is not None else now, now)
    new_tat = tat + interval * cost
    allow_at = new_tat - period
    if allow_at > now + 1e-9:
        return Decision(False, allow_at - now, 0), None
    remaining = int((now - (new_tat - tolerance - interval)) // interval) if interval else limit
    return Decision(True, 0.0, max(0, min(limit, remaining))), new_tat


class MemoryRateLimiter:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._tat: dict[str, float] = {}

    async def hit(self, key: str, *, limit: int, period: float, cost: int = 1) -> Decision:
        now = self._clock.now().timestamp()
        decision, new_tat = gcra(self._tat.get(key), now, limit=limit, period=period, cost=cost)
        if new_tat is not None:
            self._tat[key] = new_tat
        return decision

    async def peek(self, key: str, *, limit: int, period: float) -> Decision:
        now = self._clock.now().timestamp()
        decision, _ = gcra(self._tat.get(key), now, limit=limit, period=period, cost=1)
        return decision

    async def reset(self, key: str) -> None:
        self._tat.pop(key, None)

    async def close(self) -> None:
        self._tat.clear()


def make_rate_limiter(redis_url: str | None, clock: Clock) -> RateLimiter:
    if redis_url:
        from softdukan.platform.redis_ratelimit import RedisRateLimiter

        return RedisRateLimiter(redis_url, clock)
    return MemoryRateLimiter(clock)
