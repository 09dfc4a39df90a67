"""Fixtures: a migrated database per xdist worker (SQLite, or PostgreSQL when DATABASE_URL says so),
a runtime and app per test, and an HTTP client that talks to the app in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

import softdukan.tasks  # noqa: F401  registers every task
from softdukan.config import Settings
from softdukan.main import create_app
from softdukan.platform.jobs.execute import drain
from softdukan.platform.runtime import Runtime, build_runtime
from tests.support.databases import fresh_database, wipe

TEST_SECRET = "test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> str:
    return fresh_database(tmp_path_factory.mktemp("db"), f"w{worker_id}")


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, redis_url=None, softdukan_secret_key=TEST_SECRET,
                    base_url="http://testserver", run_jobs_in_process=False, scheduler_in_process=False,
                    smtp_url=None, job_poll_interval=0.05, gc_freeze=False,
                    signup_credit_units=10_000 * 10_000)  # ₹10,000: tests that test the wallet set their own


@pytest.fixture
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    runtime = build_runtime(settings)
    await wipe(runtime.engine)
    yield runtime
    await runtime.close()


@pytest.fixture
def app(settings: Settings, runtime: Runtime):  # type: ignore[no-untyped-def]
    return create_app(settings, runtime=runtime, background=False)


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
def drain_jobs(runtime: Runtime):  # type: ignore[no-untyped-def]
    async def run() -> int:
        return await drain(runtime)

    return run




@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A real redis-server for this test session (one per xdist worker)."""
    from tests.support.services import redis_server

    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture
def live_server(settings: Settings):  # type: ignore[no-untyped-def]
    """The whole product (web, API, embedded runner, hub) on a real port; `live_server.url`.

    It builds its own runtime inside the server's event loop; tests reach the same database through
    the `runtime` fixture (request it first so the tables are wiped before the server starts).
    """
    from tests.support.services import LiveServer

    server = LiveServer(lambda: create_app(live_settings))
    live_settings = settings.model_copy(update={"run_jobs_in_process": True, "base_url": server.url})
    server.settings = live_settings  # type: ignore[attr-defined]
    server.start()
    yield server
    server.stop()
