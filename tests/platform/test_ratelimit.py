"""One behaviour table for both rate limiters: in-memory (embedded shape) and Redis (scale-out shape)."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from redis.asyncio import Redis

from softdukan.kit.clock import FrozenClock
from softdukan.platform.ratelimit import Decision, MemoryRateLimiter, RateLimiter
from softdukan.platform.redis_ratelimit import KEY_PREFIX, RedisRateLimiter

LIMIT, PERIOD = 3, 60.0  # one unit back every 20 seconds, burst of 3


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2025, 4, 1, 9, 30, 15, 123456, tzinfo=UTC))


@pytest.fixture
def key() -> str:
    return f"test:{uuid.uuid4().hex}"  # the Redis server lives for the whole session: never share a key


@pytest.fixture(params=["memory", "redis"])
async def limiter(request: pytest.FixtureRequest, clock: FrozenClock) -> AsyncIterator[RateLimiter]:
    if request.param == "memory":
        made: RateLimiter = MemoryRateLimiter(clock)
    else:
        made = RedisRateLimiter(request.getfixturevalue("redis_url"), clock)
    yield made
    await made.close()


async def hit(limiter: RateLimiter, key: str, cost: int = 1) -> Decision:
    return await limiter.hit(key, limit=LIMIT, period=PERIOD, cost=cost)


async def peek(limiter: RateLimiter, key: str) -> Decision:
    return await limiter.peek(key, limit=LIMIT, period=PERIOD)


async def test_burst_is_allowed_then_refused_with_retry_after(limiter: RateLimiter, key: str) -> None:
    assert [await hit(limiter, key) for _ in range(LIMIT)] == [
        Decision(True, 0.0, 2), Decision(True, 0.0, 1), Decision(True, 0.0, 0)]
    refused = await hit(limiter, key)
    assert not refused.allowed and refused.remaining == 0
    assert refused.retry_after == pytest.approx(PERIOD / LIMIT)


async def test_refused_hits_consume_nothing(limiter: RateLimiter, key: str, clock: FrozenClock) -> None:
    for _ in range(LIMIT):
        await hit(limiter, key)
    for _ in range(5):
        assert not (await hit(limiter, key)).allowed
    clock.advance(seconds=PERIOD / LIMIT)
    assert (await hit(limiter, key)).allowed  # the refused attempts did not push the next unit further out


async def test_peek_consumes_nothing(limiter: RateLimiter, key: str) -> None:
    assert await peek(limiter, key) == Decision(True, 0.0, 2)
    assert await peek(limiter, key) == Decision(True, 0.0, 2)
    for _ in range(LIMIT):
        assert (await hit(limiter, key)).allowed
    first, second = await peek(limiter, key), await peek(limiter, key)
    assert not first.allowed and first == second
    assert first.retry_after == pytest.approx(PERIOD / LIMIT)


async def test_reset_clears_the_bucket(limiter: RateLimiter, key: str) -> None:
    for _ in range(LIMIT):
        await hit(limiter, key)
    assert not (await peek(limiter, key)).allowed
    await limiter.reset(key)
    assert await hit(limiter, key) == Decision(True, 0.0, 2)
    await limiter.reset(f"{key}:never-used")  # resetting an unknown key is harmless


async def test_units_come_back_as_time_passes(limiter: RateLimiter, key: str, clock: FrozenClock) -> None:
    for _ in range(LIMIT):
        await hit(limiter, key)
    clock.advance(seconds=PERIOD / LIMIT / 2)
    half_way = await hit(limiter, key)
    assert not half_way.allowed and half_way.retry_after == pytest.approx(PERIOD / LIMIT / 2)
    clock.advance(seconds=PERIOD / LIMIT / 2)
    assert await hit(limiter, key) == Decision(True, 0.0, 0)  # exactly one unit came back
    assert not (await hit(limiter, key)).allowed
    clock.advance(seconds=PERIOD)
    assert [(await hit(limiter, key)).allowed for _ in range(LIMIT + 1)] == [True] * LIMIT + [False]


async def test_cost_and_keys(limiter: RateLimiter, key: str) -> None:
    assert await hit(limiter, key, cost=2) == Decision(True, 0.0, 1)
    too_much = await hit(limiter, key, cost=2)
    assert not too_much.allowed and too_much.retry_after == pytest.approx(PERIOD / LIMIT)
    assert await hit(limiter, f"{key}:other") == Decision(True, 0.0, 2)  # buckets are independent
    assert not (await hit(limiter, f"{key}:big", cost=LIMIT + 1)).allowed  # more than the burst never fits


async def test_redis_and_memory_limiters_decide_identically(redis_url: str, clock: FrozenClock, key: str) -> None:
    """A long random mix of hits, peeks, resets and clock moves: every decision is equal, float for float."""
    memory, shared = MemoryRateLimiter(clock), RedisRateLimiter(redis_url, clock)
    rng = random.Random(20250401)
    try:
        for step in range(600):
            limit, period = rng.choice([(1, 1.0), (3, 1.0), (3, 60.0), (7, 10.0), (10, 3.7), (100, 0.5)])
            bucket = f"{key}:{limit}:{period}"
            action = rng.random()
            if action < 0.6:
                cost = rng.choice([1, 1, 1, 2, 5])
                expected = await memory.hit(bucket, limit=limit, period=period, cost=cost)
                actual = await shared.hit(bucket, limit=limit, period=period, cost=cost)
            elif action < 0.85:
                expected = await memory.peek(bucket, limit=limit, period=period)
                actual = await shared.peek(bucket, limit=limit, period=period)
            else:
                await memory.reset(bucket)
                await shared.reset(bucket)
                continue
            assert actual == expected, f"step {step}: {bucket}"
            clock.advance(seconds=rng.choice([0, 0, 0.001, 0.1, 1 / 3, 0.37, 1, 3, 20]))
    finally:
        await shared.close()


async def test_redis_keys_expire_after_the_period(redis_url: str, clock: FrozenClock, key: str) -> None:
    limiter = RedisRateLimiter(redis_url, clock)
    raw = Redis.from_url(redis_url)
    try:
        await limiter.peek(key, limit=LIMIT, period=PERIOD)
        assert await raw.exists(KEY_PREFIX + key) == 0  # a peek writes nothing
        await limiter.hit(key, limit=LIMIT, period=PERIOD)
        assert 0 < await raw.pttl(KEY_PREFIX + key) <= PERIOD * 1000
        await limiter.reset(key)
        assert await raw.exists(KEY_PREFIX + key) == 0
    finally:
        await raw.aclose()
        await limiter.close()
