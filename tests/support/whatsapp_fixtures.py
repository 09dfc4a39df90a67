"""Fixtures shared by the webhook-ingestion and conversation tests: a frozen clock, an organization with a
connected WhatsApp account and number, and the events published to the live hub."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from softdukan.kit.clock import FrozenClock
from softdukan.platform.runtime import Runtime
from tests.support.whatsapp import WhatsAppFixture, make_whatsapp

T0 = datetime(2025, 9, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def clock(runtime: Runtime) -> FrozenClock:
    frozen = FrozenClock(T0)
    runtime.clock = frozen
    return frozen


@pytest.fixture
async def wa(runtime: Runtime, clock: FrozenClock) -> WhatsAppFixture:
    return await make_whatsapp(runtime)


@pytest.fixture
def published(runtime: Runtime) -> list[dict]:  # type: ignore[type-arg]
    """Every event envelope published to the live hub (after commit)."""
    seen: list[dict] = []  # type: ignore[type-arg]
    original = runtime.hub.publish

    async def capture(envelope: dict) -> None:  # type: ignore[type-arg]
        seen.append(envelope)
        await original(envelope)

    runtime.hub.publish = capture  # type: ignore[method-assign]
    return seen
