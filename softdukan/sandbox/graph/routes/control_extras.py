"""More of the control API (`/sandbox/graph/_sandbox/…`), included by `control.router`: Flow states, order
payment, voice-note plays, WhatsApp Business app sends (coexistence echoes) and MM Lite availability."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select

from softdukan.platform.deps import UoW
from softdukan.platform.uow import UnitOfWork
from softdukan.sandbox.graph import counters
from softdukan.sandbox.graph.access import params
from softdukan.sandbox.graph.coexistence import business_app_sends
from softdukan.sandbox.graph.commerce import METHODS, customer_pays
from softdukan.sandbox.graph.errors import GraphFault
from softdukan.sandbox.graph.messages.rules import set_flow_status
from softdukan.sandbox.models import SandboxTemplate, SandboxWaba
from softdukan.sandbox.service.customers import customer_plays, phone_by_id

router = APIRouter()
FLOW_STATUSES = ("PUBLISHED", "BLOCKED", "THROTTLED")


def _text(body: dict[str, Any], key: str, *, required: bool = True) -> str | None:
    value = body.get(key)
    if value is None or value == "":
        if required:
            raise GraphFault(131008, f"The parameter {key} is required.")
        return None
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise GraphFault(131009, f"Param {key} must be a string.")
    return str(value)


async def set_mm_lite_available(uow: UnitOfWork, template_id: str, available: bool) -> None:
    template = (
        await uow.session.execute(select(SandboxTemplate).where(SandboxTemplate.template_id == template_id))
    ).scalar_one_or_none()
    if template is None:
        raise GraphFault(100, f"Unknown template id {template_id}.")
    template.mm_lite_available = available


@router.post("/flows")
async def post_flow(request: Request, uow: UoW) -> JSONResponse:
    """`{"waba_id", "flow_id" | "flow_name", "status": "BLOCKED" | "THROTTLED" | "PUBLISHED"}`: sends of a
    blocked Flow fail with 132068, of a throttled one with 132069."""
    body = await params(request)
    waba_id = _text(body, "waba_id")
    waba = (await uow.session.execute(select(SandboxWaba).where(SandboxWaba.waba_id == waba_id))).scalar_one_or_none()
    if waba is None:
        raise GraphFault(100, f"Unknown WABA {waba_id}.")
    flow_id, flow_name = _text(body, "flow_id", required=False), _text(body, "flow_name", required=False)
    if (flow_id is None) == (flow_name is None):
        raise GraphFault(131009, "Give exactly one of flow_id or flow_name.")
    status = str(_text(body, "status")).upper()
    if status not in FLOW_STATUSES:
        raise GraphFault(131009, f"Param status must be one of {', '.join(FLOW_STATUSES)}.")
    key = f"id:{flow_id}" if flow_id is not None else f"name:{flow_name}"
    flow = await set_flow_status(uow, waba, key, status)
    return JSONResponse({"waba_id": waba.waba_id, "flow": key.split(":", 1)[1], "status": flow.status})


@router.post("/orders/{reference_id}/pay")
async def post_pay(reference_id: str, request: Request, uow: UoW) -> JSONResponse:
    """The customer pays an order_details: `{"phone_number_id", "method"?: upi|card|netbanking|wallet,
    "success"?: true}` → a `payment` status webhook; on success the order is paid (order_status canceled → 2047)."""
    body = await params(request)
    success = body.get("success", True)
    if not isinstance(success, bool):
        raise GraphFault(131009, "Param success must be a boolean.")
    method = _text(body, "method", required=False) or "upi"
    if method not in METHODS:
        raise GraphFault(131009, f"Param method must be one of {', '.join(METHODS)}.")
    result = await customer_pays(
        uow,
        phone_number_id=_text(body, "phone_number_id") or "",
        reference_id=reference_id,
        method=method,
        success=success,
    )
    return JSONResponse(result)


@router.get("/counters")
async def get_counters() -> JSONResponse:
    """This process's send answers since start or the last reset: `{"accepted": n, "refused": {code: n}}`."""
    return JSONResponse(counters.snapshot())


@router.delete("/counters")
async def delete_counters() -> JSONResponse:
    counters.reset()
    return JSONResponse(counters.snapshot())


@router.post("/customers/{wa_id}/play")
async def post_play(wa_id: str, request: Request, uow: UoW) -> JSONResponse:
    """The customer plays a voice note: the first play sends a `played` status."""
    body = await params(request)
    played = await customer_plays(
        uow, wa_id, phone_number_id=_text(body, "phone_number_id") or "", wamid=_text(body, "wamid") or ""
    )
    return JSONResponse({"played": played})


@router.post("/phone-numbers/{phone_number_id}/business-app-messages")
async def post_business_app_message(phone_number_id: str, request: Request, uow: UoW) -> JSONResponse:
    """The business replies from the WhatsApp Business app (coexistence): `{"to", "message": {"type", …}}` →
    an `smb_message_echoes` webhook."""
    body = await params(request)
    message = body.get("message")
    if not isinstance(message, dict):
        raise GraphFault(131008, "The parameter message is required.")
    phone = await phone_by_id(uow, phone_number_id)
    return JSONResponse({"wamid": await business_app_sends(uow, phone, _text(body, "to") or "", message)})
