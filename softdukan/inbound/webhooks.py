"""Meta's callback: `GET /webhooks/whatsapp` (verification handshake) and `POST /webhooks/whatsapp` (events).

Not part of /v1 and not a dashboard form: authenticated by the verify token (GET) and the app secret's
signature (POST), never by a session, API key or CSRF token.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

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


@router.post(PATH)
async def events(request: Request, uow: UoW) -> Response:
    # stored and committed by the group commit before this returns (the request's own transaction stays empty)
    received = await receive(uow, await request.body(), request.headers.get(HEADER))
    return JSONResponse({"stored": received.stored, "duplicates": received.duplicates})
