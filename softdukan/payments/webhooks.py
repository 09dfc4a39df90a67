"""Razorpay's callback, `POST /webhooks/razorpay` (rules in `intake.py`).

Not part of /v1 and not a dashboard form: authenticated by the webhook secret's signature, never by a session,
API key or CSRF token.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

import softdukan.payments.tasks  # noqa: F401  registers the processing job wherever webhooks are received
from softdukan.payments.intake import receive_razorpay
from softdukan.payments.signatures import EVENT_ID_HEADER, SIGNATURE_HEADER
from softdukan.platform.deps import UoW

router = APIRouter(include_in_schema=False)
PATH = "/webhooks/razorpay"


@router.post(PATH)
async def razorpay_events(request: Request, uow: UoW) -> JSONResponse:
    received = await receive_razorpay(uow, await request.body(), request.headers.get(SIGNATURE_HEADER),
                                      request.headers.get(EVENT_ID_HEADER))
    return JSONResponse({"stored": received.stored})
