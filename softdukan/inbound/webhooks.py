"""Meta's callback: `GET /webhooks/whatsapp` (verification handshake) and `POST /webhooks/whatsapp` (events).

Not part of /v1 and not a dashboard form: authenticated by the verify token (GET) and the app secret's
signature (POST), never by a session, API key or CSRF token.
"""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.routing import Route

from softdukan.inbound.handshake import verify_subscription
from softdukan.inbound.ingest import receive
from softdukan.platform.deps import UoW
from softdukan.whatsapp.webhook.signature import HEADER

router = APIRouter(include_in_schema=False)
PATH = "/webhooks/whatsapp"


@router.get(PATH)
async def handshake(request: Request, uow: UoW) -> Response:
    params = request.query_params
    challenge = await verify_subscription(uow, mode=params.get("hub.mode"), token=params.get("hub.verify_token"),
                                          challenge=params.get("hub.challenge"))
    return PlainTextResponse(challenge)


async def events(request: Request) -> Response:
    """Stored and committed by the group commit before this returns. A plain Starlette route: it needs no
    session, subject or validation from FastAPI, and every status of every message comes through here."""
    received = await receive(request.app.state.runtime, await request.body(), request.headers.get(HEADER))
    return Response(orjson.dumps({"stored": received.stored, "duplicates": received.duplicates}),
                    media_type="application/json")


router.routes.insert(0, Route(PATH, events, methods=["POST"], include_in_schema=False))  # matched first
