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
    _hot_engine: AsyncEngine | None = None

    def hot_engine(self) -> AsyncEngine:
        """A small pool for hot write paths that talk to the driver directly (inbound/batch_write.py): no
        pre-ping round trips on checkout, so its users must invalidate a connection that fails. SQLite has no
        pings to save: the main engine."""
        if self.engine.dialect.name == "sqlite":
            return self.engine
        if self._hot_engine is None:
            self._hot_engine = make_engine(self.settings.database_url, pre_ping=False, pool_size=2)
        return self._hot_engine

    def jobs_committed(self) -> None:
        """Wake the in-process runner (or relay) early; pollers find the rows anyway."""
        self.job_wakeup.set()

    async def close(self) -> None:
        await self.hub.close()
        await self.limiter.close()
        await self.engine.dispose()
        if self._hot_engine is not None:
            await self._hot_engine.dispose()


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
