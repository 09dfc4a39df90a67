"""The process-wide runtime: engine, clock, hub, limiter and the job wake-up signal."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from softdukan.config import Settings
from softdukan.kit.clock import Clock, system_clock
from softdukan.kit.crypto import SecretBox
from softdukan.kit.db import make_engine, make_sessionmaker
from softdukan.platform.ratelimit import RateLimiter, make_rate_limiter
from softdukan.platform.realtime.hub import Hub, make_hub


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    clock: Clock
    hub: Hub
    limiter: RateLimiter
    secrets: SecretBox
    job_wakeup: asyncio.Event = field(default_factory=asyncio.Event)

    def jobs_committed(self) -> None:
        """Wake the in-process runner (or relay) early; pollers find the rows anyway."""
        self.job_wakeup.set()

    async def close(self) -> None:
        await self.hub.close()
        await self.limiter.close()
        await self.engine.dispose()


def build_runtime(settings: Settings, *, clock: Clock | None = None) -> Runtime:
    engine = make_engine(settings.database_url)
    return Runtime(
        settings=settings,
        engine=engine,
        sessionmaker=make_sessionmaker(engine),
        clock=clock or system_clock,
        hub=make_hub(settings.redis_url),
        limiter=make_rate_limiter(settings.redis_url, clock or system_clock),
        secrets=SecretBox(settings.softdukan_secret_key),
    )
