"""GCRA rate limiting shared by every process: one Lua script per decision, so check-and-set is atomic.

The script is `gcra()` from ratelimit.py step for step (same float operations, Python's floor division), and the
time comes from the injected clock, so a frozen clock in tests decides exactly as the in-memory limiter does.
"""

from __future__ import annotations

import math

from redis.asyncio import Redis

from softdukan.kit.clock import Clock
from softdukan.platform.ratelimit import Decision

KEY_PREFIX = "sd:rl:"

# KEYS[1] the bucket; ARGV: now, limit, period, cost, write (1: hit, 0: peek), ttl in ms.
# Returns {allowed (0/1), retry_after (string, to keep the fraction), remaining}.
_GCRA = """
local function floordiv(a, b)  -- Python's float // (fmod-based), so both limiters agree at every boundary
  local mod = math.fmod(a, b)
  local div = (a - mod) / b
  if mod ~= 0 and ((b < 0) ~= (mod < 0)) then div = div - 1 end
  local floored = math.floor(div)
  if div - floored > 0.5 then floored = floored + 1 end
  return floored
end

local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local period = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local interval = period / limit
local tolerance = period - interval
local tat = now
local stored = redis.call('GET', KEYS[1])
if stored then tat = math.max(tonumber(stored), now) end
local new_tat = tat + interval * cost
local allow_at = new_tat - period
if allow_at > now + 1e-9 then
  return {0, string.format('%.17g', allow_at - now), 0}
end
local remaining = limit
if interval ~= 0 then remaining = floordiv(now - (new_tat - tolerance - interval), interval) end
if ARGV[5] == '1' then
  redis.call('SET', KEYS[1], string.format('%.17g', new_tat), 'PX', ARGV[6])
end
return {1, '0', remaining}
"""


class RedisRateLimiter:
    def __init__(self, redis_url: str, clock: Clock) -> None:
        self._redis = Redis.from_url(redis_url)
        self._clock = clock
        self._gcra = self._redis.register_script(_GCRA)  # EVALSHA, loading the script again after a flush

    async def hit(self, key: str, *, limit: int, period: float, cost: int = 1) -> Decision:
        return await self._decide(key, limit=limit, period=period, cost=cost, write=True)

    async def peek(self, key: str, *, limit: int, period: float) -> Decision:
        return await self._decide(key, limit=limit, period=period, cost=1, write=False)

    async def reset(self, key: str) -> None:
        await self._redis.delete(KEY_PREFIX + key)

    async def close(self) -> None:
        await self._redis.aclose()

    async def _decide(self, key: str, *, limit: int, period: float, cost: int, write: bool) -> Decision:
        now = self._clock.now().timestamp()
        # a stored arrival time is never more than `period` ahead, so after that the key says nothing
        ttl_ms = max(1, math.ceil(period * 1000))
        # repr() round-trips floats exactly, so Lua computes on the very same doubles
        allowed, retry_after, remaining = await self._gcra(
            keys=[KEY_PREFIX + key], args=[repr(now), limit, repr(float(period)), cost, int(write), ttl_ms])
        return Decision(bool(allowed), float(retry_after), max(0, min(limit, int(remaining))))
