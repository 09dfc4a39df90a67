"""create_app(): routers, error handlers and the lifespan of the background parts."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from softdukan import api
from softdukan.config import Settings, get_settings
from softdukan.platform.background import Background
from softdukan.platform.errors import DomainError
from softdukan.platform.idempotency import IdempotencyMiddleware
from softdukan.platform.input_guard import InputGuardMiddleware
from softdukan.platform.logging import configure_logging
from softdukan.platform.runtime import Runtime, build_runtime

log = structlog.get_logger(__name__)

HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type",
              429: "rate_limited"}


def _wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith(("/v1", "/healthz", "/sandbox", "/webhooks")) or "application/json" in request.headers.get(
        "accept", "")


def _json_error(status: int, code: str, message: str, details: Any = None,
                headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, "details": details}}, status_code=status,
                        headers=headers)


async def reload_web_context(request: Request) -> None:
    """The failed request's transaction was rolled back, which expired its ORM objects: the error page
    gets the signed-in context again from a fresh, read-only session."""
    from softdukan.dashboard.context import current_user_context
    from softdukan.platform.uow import UnitOfWork

    if getattr(request.state, "web", None) is None:
        return
    request.state.web = None
    runtime = request.app.state.runtime
    try:
        async with runtime.sessionmaker() as session:  # closing expunges (not expires): objects stay loaded
            await current_user_context(request, UnitOfWork(runtime, session))
    except Exception:  # the error page must render even if the database is the problem
        request.state.web = None


def _install_error_handlers(app: FastAPI) -> None:
    from softdukan.dashboard.render import render_error

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> Response:
        if exc.status in (302, 303, 307):
            return RedirectResponse(exc.headers["Location"], status_code=exc.status)
        if _wants_json(request):
            return _json_error(exc.status, exc.code, exc.message, exc.details, exc.headers)
        await reload_web_context(request)
        return render_error(request, exc.status, exc.message, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        details = [{"loc": list(e.get("loc", ())), "message": e.get("msg", ""), "type": e.get("type", "")}
                   for e in exc.errors()]
        if _wants_json(request):
            return _json_error(422, "validation_error", "The request body or parameters are not valid.", details)
        await reload_web_context(request)
        return render_error(request, 422, "Some of what you sent is not valid: "
                            + "; ".join(f"{'.'.join(map(str, d['loc'][1:]))}: {d['message']}" for d in details))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = HTTP_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ").capitalize()
        if exc.status_code == 404:
            message = "Not found."
        if _wants_json(request):
            return _json_error(exc.status_code, code, message, None, getattr(exc, "headers", None))
        await reload_web_context(request)
        return render_error(request, exc.status_code, message)

    @app.exception_handler(IntegrityError)
    async def unique_race(request: Request, exc: IntegrityError) -> Response:
        # services check uniqueness first; this is the concurrent request that lost the race on a unique key
        log.warning("integrity_conflict", path=request.url.path, error=str(exc.orig)[:200])
        message = "This conflicts with a change made at the same moment. Reload and try again."
        if _wants_json(request):
            return _json_error(409, "conflict", message)
        await reload_web_context(request)
        return render_error(request, 409, message)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled_error", path=request.url.path)
        if _wants_json(request):
            return _json_error(500, "internal_error", "Something went wrong on our side. It has been logged.")
        await reload_web_context(request)
        return render_error(request, 500, "Something went wrong on our side. It has been logged.")


def warm_routes(app: FastAPI) -> None:
    """FastAPI works out a route's dependencies and body model the first time a request is matched past it:
    ~0.5 s of CPU for all of ours, paid by the first visitor (and seen as a 5 s health-check timeout on a busy
    machine). Matching a path that nothing serves walks every route once, so startup pays it instead."""
    scope: dict[str, Any] = {"type": "http", "method": "GET", "path": "/-warm-up-", "root_path": "",
                             "headers": [], "query_string": b"", "app": app}
    for route in app.router.routes:
        route.matches(scope)


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None,
               background: bool = True) -> FastAPI:
    """`background=False` leaves jobs, scheduler and relay to the caller (tests drain jobs by hand)."""
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_format)
    runtime = runtime or build_runtime(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        warm_routes(app)
        bg = Background(runtime) if background else None
        if bg:
            await bg.start()
        app.state.background = bg
        if settings.gc_freeze:
            gc.collect()
            gc.freeze()
        try:
            yield
        finally:
            if bg:
                await bg.stop()
            await runtime.close()

    app = FastAPI(title="SoftDukan API", version="1.0", lifespan=lifespan, docs_url="/v1/docs",
                  redoc_url=None, openapi_url="/openapi.json",
                  description="WhatsApp marketing platform. Authenticate with `Authorization: Bearer <API key>`.")
    app.state.runtime = runtime
    app.state.settings = settings
    app.state.background = None
    _install_error_handlers(app)
    from softdukan.inbound.webhooks import router as whatsapp_webhooks

    # Meta's callback (signed, no session or CSRF) goes first: routes are matched in order, and this one takes
    # the most requests by far (every status of every message)
    app.include_router(whatsapp_webhooks)
    from softdukan.payments.webhooks import router as razorpay_webhooks

    app.include_router(razorpay_webhooks)  # Razorpay's callback: signed with the webhook secret, no session or CSRF
    app.include_router(api.router)

    from softdukan import web  # the dashboard, backoffice and live events

    web.mount(app)
    if settings.sandbox:  # a faithful local Meta at /sandbox/graph
        from softdukan import sandbox

        sandbox.mount(app)
        from softdukan.sandbox.simulator.views import router as phone_simulator

        app.include_router(phone_simulator)  # /sandbox/phone: plays the customers; CSRF-checked, no sign-in
    app.add_middleware(IdempotencyMiddleware)
    app.add_middleware(InputGuardMiddleware)  # outermost: nothing downstream sees a NUL

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        db_ok = True
        try:
            async with runtime.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:  # reported, not raised: health must answer
            db_ok = False
        bg = app.state.background
        state = {"status": "ok" if db_ok else "degraded",
                 "database": {"ok": db_ok, "dialect": runtime.engine.dialect.name},
                 "jobs": bg.state() if bg else {"mode": "external"}}
        return JSONResponse(state, status_code=200 if db_ok else 503)

    # Only /v1 is public API; keep the schema to it.
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            from fastapi.openapi.utils import get_openapi

            schema = get_openapi(title=app.title, version=app.version, description=app.description,
                                 routes=app.routes)
            schema["paths"] = {path: item for path, item in schema["paths"].items() if path.startswith("/v1")}
            schema.setdefault("components", {})["securitySchemes"] = {
                "apiKey": {"type": "http", "scheme": "bearer", "description": "An API key from Settings → API keys"}}
            schema["security"] = [{"apiKey": []}]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
