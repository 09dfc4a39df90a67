"""The sandbox alone (`softdukan sandbox --port N`): Meta's Graph API, the control API and the job runner that
sends its webhooks, against DATABASE_URL. Point the product at it with GRAPH_API_URL=http://host:N/sandbox/graph."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from softdukan.config import Settings, get_settings
from softdukan.platform.logging import configure_logging
from softdukan.platform.runtime import Runtime, build_runtime
from softdukan.sandbox import mount


def create_sandbox_app(settings: Settings | None = None, *, runtime: Runtime | None = None,
                       background: bool = True) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_format)
    runtime = runtime or build_runtime(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        import softdukan.tasks  # noqa: F401  registers every task (the sandbox's among them)
        from softdukan.platform.jobs.runner import EmbeddedRunner

        runner = EmbeddedRunner(runtime) if background else None
        if runner:
            await runner.start()
        try:
            yield
        finally:
            if runner:
                await runner.stop()
            await runtime.close()

    app = FastAPI(title="SoftDukan sandbox (local Meta)", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.state.runtime = runtime
    app.state.settings = settings

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"error": {"message": str(exc.detail), "type": "OAuthException", "code": 100}},
                            status_code=exc.status_code)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok", "sandbox": True})

    mount(app)
    from softdukan.sandbox.graph.routes.fast import FastSends

    app.add_middleware(FastSends, runtime=runtime)  # broadcast sends skip the router (fast.py)
    return app
