"""Waiting for the live server: jobs and webhooks run in its embedded runner, so tests poll for their effect."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any


async def eventually(check: Callable[[], Awaitable[Any]], *, what: str = "the condition", within: float = 30.0,
                     interval: float = 0.1) -> Any:
    """Poll until `check` returns a truthy value and return it; fail with what was awaited and the last value."""
    deadline = time.monotonic() + within
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out after {within}s waiting for {what}; last value: {last!r}")
