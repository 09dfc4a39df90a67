from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from softdukan.config import Settings
from softdukan.main import create_app
from softdukan.platform.runtime import Runtime, build_runtime


@pytest.fixture
async def offline_client(settings: Settings, runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """The app with Meta unreachable: GRAPH_API_URL points at a port nothing listens on (same database)."""
    offline = settings.model_copy(update={"graph_api_url": "http://127.0.0.1:9/graph"})
    offline_runtime = build_runtime(offline)
    app = create_app(offline, runtime=offline_runtime, background=False)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client
    await offline_runtime.close()
