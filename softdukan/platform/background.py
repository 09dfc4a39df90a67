"""What runs beside the web server: the job runner (or the Dramatiq relay) and the scheduler."""

from __future__ import annotations

from typing import Any

from softdukan.platform.runtime import Runtime


class Background:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.parts: list[Any] = []
        settings = runtime.settings
        if settings.redis_url:
            from softdukan.platform.jobs.relay import DramatiqRelay

            self.parts.append(DramatiqRelay(runtime))
        elif settings.run_jobs_in_process:
            from softdukan.platform.jobs.runner import EmbeddedRunner

            self.parts.append(EmbeddedRunner(runtime))
        if settings.scheduler_in_process:
            from softdukan.platform.jobs.scheduler import Scheduler

            self.parts.append(Scheduler(runtime))

    async def start(self) -> None:
        import softdukan.tasks  # noqa: F401  registers every task

        for part in self.parts:
            await part.start()

    async def stop(self) -> None:
        for part in reversed(self.parts):
            await part.stop()

    def state(self) -> dict[str, Any]:
        return {type(p).__name__: p.state() for p in self.parts}
