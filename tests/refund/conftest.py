from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from softdukan.sandbox.graph.webhooks import use_transport
from tests.support.factories import make_org


@pytest.fixture
async def shop(runtime, app, client) -> AsyncIterator:  # type: ignore[no-untyped-def]
    """An organization whose Razorpay sandbox webhooks come back into this app."""
    org = await make_org(runtime, "Refund Shop")
    use_transport(httpx.ASGITransport(app=app))
    try:
        yield org
    finally:
        use_transport(None)
