"""The sandbox control API (not Meta's): `/sandbox/graph/_sandbox/…`, JSON in and out, no auth (sandbox only).

Used by the connect wizard in sandbox mode, the demo, the phone simulator and tests. Errors use Meta's body.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select

from softdukan.platform.deps import UoW
from softdukan.sandbox import service
from softdukan.sandbox.graph.access import params
from softdukan.sandbox.graph.errors import GraphFault
from softdukan.sandbox.graph.routes import control_extras as extras
from softdukan.sandbox.graph.state import change_phone_state, change_template_status
from softdukan.sandbox.models import SandboxWebhookDelivery
from softdukan.sandbox.service.customers import customer_view

router = APIRouter(prefix="/_sandbox", include_in_schema=False)


def _str(body: dict[str, Any], key: str, *, required: bool = True) -> str | None:
    value = body.get(key)
    if value is None or value == "":
        if required:
            raise GraphFault(131008, f"The parameter {key} is required.")
        return None
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise GraphFault(131009, f"Param {key} must be a string.")
    return str(value)


def _bool(body: dict[str, Any], key: str) -> bool | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
        return value.lower() in ("true", "1")
    raise GraphFault(131009, f"Param {key} must be a boolean.")


def _object(body: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = body.get(key)
    if value is not None and not isinstance(value, dict):
        raise GraphFault(131009, f"Param {key} must be an object.")
    return value


@router.put("/apps/{app_id}")
async def put_app(app_id: str, request: Request, uow: UoW) -> JSONResponse:
    body = await params(request)
    app = await service.upsert_app(
        uow,
        app_id,
        secret=_str(body, "secret") or "",
        callback_url=_str(body, "callback_url", required=False),
        verify_token=_str(body, "verify_token", required=False),
    )
    return JSONResponse({"app_id": app.app_id, "callback_url": app.callback_url, "verify_token": app.verify_token})


@router.post("/signup")
async def post_signup(request: Request, uow: UoW) -> JSONResponse:
    body = await params(request)
    result = await service.signup(
        uow,
        app_id=_str(body, "app_id") or "",
        business_name=_str(body, "business_name", required=False) or "Sandbox business",
        waba_name=_str(body, "waba_name", required=False) or "",
        feature_type=_str(body, "feature_type", required=False),
        phone_number=_str(body, "phone_number", required=False),
        verified_name=_str(body, "verified_name", required=False),
    )
    return JSONResponse(result)


@router.get("/phone-numbers/{phone_number_id}/code")
async def get_code(phone_number_id: str, uow: UoW) -> JSONResponse:
    return JSONResponse({"code": await service.last_code(uow, phone_number_id)})


@router.post("/phone-numbers/{phone_number_id}/state")
async def post_phone_state(phone_number_id: str, request: Request, uow: UoW) -> JSONResponse:
    """Change quality, throughput level, messaging-limit tier or account restriction; fires the webhooks."""
    body = await params(request)
    return JSONResponse(await change_phone_state(uow, phone_number_id, body))


@router.post("/templates/{template_id}/status")
async def post_template_status(template_id: str, request: Request, uow: UoW) -> JSONResponse:
    """Meta acting on a template; `mm_lite_available: false` makes MM Lite sends of it fail with 134102."""
    body = await params(request)
    available = _bool(body, "mm_lite_available")
    if available is not None:
        await extras.set_mm_lite_available(uow, template_id, available)
        if not body.get("status"):
            return JSONResponse({"id": template_id, "mm_lite_available": available})
    return JSONResponse(
        await change_template_status(
            uow,
            template_id,
            _str(body, "status") or "",
            reason=_str(body, "reason", required=False),
            category=_str(body, "category", required=False),
        )
    )


@router.post("/foreign-numbers")
async def post_foreign_number(request: Request, uow: UoW) -> JSONResponse:
    body = await params(request)
    result = await service.add_foreign_number(
        uow,
        phone_number=_str(body, "phone_number") or "",
        pin=_str(body, "pin", required=False),
        two_step_enabled=bool(_bool(body, "two_step_enabled")),
        verified_name=_str(body, "verified_name", required=False) or "",
    )
    return JSONResponse(result)


@router.post("/provision")
async def post_provision(request: Request, uow: UoW) -> JSONResponse:
    body = await params(request)
    result = await service.provision(
        uow,
        app_id=_str(body, "app_id") or "",
        app_secret=_str(body, "app_secret") or "",
        callback_url=_str(body, "callback_url", required=False),
        verify_token=_str(body, "verify_token", required=False),
        business_name=_str(body, "business_name", required=False) or "Sandbox business",
        verified_name=_str(body, "verified_name", required=False) or "Sandbox business",
        display_phone_number=_str(body, "display_phone_number", required=False),
        coexistence=bool(_bool(body, "coexistence")),
    )
    return JSONResponse(result)


@router.put("/customers/{wa_id}")
async def put_customer(wa_id: str, request: Request, uow: UoW) -> JSONResponse:
    body = await params(request)
    failure: Any = "keep"
    if "failure_code" in body:
        failure = body["failure_code"]
        if failure is not None and (not isinstance(failure, int) or isinstance(failure, bool)):
            raise GraphFault(131009, "Param failure_code must be an integer or null.")
    customer = await service.upsert_customer(
        uow,
        wa_id,
        name=_str(body, "name", required=False),
        opted_out_marketing=_bool(body, "opted_out_marketing"),
        on_whatsapp=_bool(body, "on_whatsapp"),
        failure_code=failure,
    )
    return JSONResponse(customer_view(customer))


@router.get("/customers")
async def get_customers(uow: UoW, phone_number_id: str | None = None) -> JSONResponse:
    return JSONResponse({"data": await service.list_customers(uow, phone_number_id)})


@router.post("/customers/{wa_id}/messages")
async def post_customer_message(wa_id: str, request: Request, uow: UoW) -> JSONResponse:
    body = await params(request)
    message = _object(body, "message")
    if message is None:
        raise GraphFault(131008, "The parameter message is required.")
    result = await service.customer_sends(
        uow,
        wa_id,
        phone_number_id=_str(body, "phone_number_id") or "",
        message=message,
        referral=_object(body, "referral"),
        context=_object(body, "context"),
        identity=_object(body, "identity"),
    )
    return JSONResponse({"wamid": result})


@router.get("/customers/{wa_id}/thread")
async def get_thread(wa_id: str, uow: UoW, phone_number_id: str = "") -> JSONResponse:
    if not phone_number_id:
        raise GraphFault(131008, "The parameter phone_number_id is required.")
    return JSONResponse({"data": await service.thread(uow, wa_id, phone_number_id=phone_number_id)})


@router.post("/customers/{wa_id}/read")
async def post_read(wa_id: str, request: Request, uow: UoW) -> JSONResponse:
    body = await params(request)
    read = await service.customer_reads(
        uow, wa_id, phone_number_id=_str(body, "phone_number_id") or "", wamid=_str(body, "wamid", required=False)
    )
    return JSONResponse({"read": read})


@router.get("/profile")
async def get_profile(uow: UoW) -> JSONResponse:
    return JSONResponse((await service.load_profile(uow)).model_dump())


@router.put("/profile")
async def put_profile(request: Request, uow: UoW, reset: bool = False) -> JSONResponse:
    body = await params(request)
    body.pop("reset", None)
    return JSONResponse((await service.update_profile(uow, body, replace=reset)).model_dump())


@router.get("/webhooks")
async def get_webhooks(uow: UoW, waba_id: str | None = None, limit: int = 100) -> JSONResponse:
    """Recent webhook deliveries, newest first (for debugging and tests)."""
    query = select(SandboxWebhookDelivery).order_by(SandboxWebhookDelivery.id.desc()).limit(max(1, min(limit, 500)))
    if waba_id:
        query = query.where(SandboxWebhookDelivery.waba_id == waba_id)
    rows = (await uow.session.execute(query)).scalars().all()
    return JSONResponse(
        {
            "data": [
                {
                    "id": d.id,
                    "waba_id": d.waba_id,
                    "field": d.field,
                    "status": d.status,
                    "attempts": d.attempts,
                    "last_status_code": d.last_status_code,
                    "last_error": d.last_error,
                    "url": d.url,
                    "body": d.body,
                }
                for d in rows
            ]
        }
    )


router.include_router(extras.router)
