"""The product app for the ingestion benchmark, plus a bare endpoint that returns 200 on the same server.

Run by bench/webhook_ingest.py as `uvicorn bench.ingest_server:app --factory` with DATABASE_URL and
SOFTDUKAN_SECRET_KEY in the environment. The job runner is off: the benchmark measures acknowledgement (verify,
store, enqueue routing, commit, 200), not routing, which a worker does elsewhere.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from softdukan.config import Settings
from softdukan.main import create_app


async def bare(request: Request) -> Response:
    await request.body()  # read the body like the real endpoint does
    return Response(b"", status_code=200)


def app() -> FastAPI:
    settings = Settings(run_jobs_in_process=False, scheduler_in_process=False, log_level="WARNING")
    application = create_app(settings)
    application.add_route("/_bench/bare", bare, methods=["POST"])
    # matched first, like the webhook route, so both sides pay the same routing cost
    application.router.routes.insert(0, application.router.routes.pop())
    return application
