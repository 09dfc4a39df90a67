"""Meta's paths, `/sandbox/graph/{version}/…` for any `v{N}.0`: thin routes over the sandbox services."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select

from softdukan.platform.deps import UoW, get_runtime
from softdukan.platform.uow import unit_of_work
from softdukan.sandbox.graph import commerce, media, numbers, subscriptions, templates
from softdukan.sandbox.graph.access import (
    authenticate,
    check_version,
    count_management_call,
    params,
    phone_for,
    template_for,
    waba_for,
)
from softdukan.sandbox.graph.errors import GraphFault, unknown_object
from softdukan.sandbox.graph.messages.fast_send import fast_send
from softdukan.sandbox.graph.messages.send import send_message
from softdukan.sandbox.graph.routes import uploads as upload_routes
from softdukan.sandbox.models import SandboxBusiness, SandboxMedia, SandboxPhoneNumber, SandboxTemplate, SandboxWaba
from softdukan.sandbox.service.accounts import exchange_code

router = APIRouter(include_in_schema=False)
router.include_router(upload_routes.router)  # first: /{app-id}/uploads and /upload:<session> before generic paths
PREFIX = "/sandbox/graph"


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/") + PREFIX


def ok(data: dict[str, Any]) -> JSONResponse:
    return JSONResponse(data)


@router.get("/{version}/oauth/access_token")
async def oauth_access_token(version: str, request: Request, uow: UoW) -> JSONResponse:
    check_version(version)
    query = request.query_params
    token = await exchange_code(
        uow,
        client_id=query.get("client_id", ""),
        client_secret=query.get("client_secret", ""),
        code=query.get("code", ""),
    )
    return ok({"access_token": token, "token_type": "bearer"})


@router.get("/_sandbox/media/{media_id}/download")
async def media_download(media_id: str, request: Request, uow: UoW, ext: str = "", hash: str = "") -> Response:
    caller = await authenticate(uow, request)
    item = await media.download(uow, caller, media_id, ext, hash)
    return Response(item.data, media_type=item.mime_type)


@router.post("/{version}/{phone_number_id}/messages")
async def post_messages(version: str, phone_number_id: str, request: Request) -> JSONResponse:
    """A broadcast's template send takes the fast path (cached checks, group commit); anything else, or any
    send the fast path would refuse before the throughput bucket, goes through `send_message`."""
    check_version(version)
    runtime = get_runtime(request)
    try:
        body = await params(request)
    except GraphFault:
        body = None  # the slow path answers it, after authentication as Graph does
    sent = await fast_send(runtime, request, phone_number_id, body) if body is not None else None
    if sent is not None:
        return ok(sent)
    async with unit_of_work(runtime) as uow:
        caller = await authenticate(uow, request)
        phone = await phone_for(uow, caller, phone_number_id)
        result = await send_message(uow, phone, await params(request))
    return ok(result)


@router.post("/{version}/{phone_number_id}/marketing_messages")
async def post_marketing_messages(version: str, phone_number_id: str, request: Request, uow: UoW) -> JSONResponse:
    """MM Lite (reference §3.13)."""
    check_version(version)
    caller = await authenticate(uow, request)
    phone = await phone_for(uow, caller, phone_number_id)
    return ok(await send_message(uow, phone, await params(request), lite=True))


@router.get("/{version}/{phone_number_id}/payments/{configuration}/{reference_id}")
async def get_payment(
    version: str, phone_number_id: str, configuration: str, reference_id: str, request: Request, uow: UoW
) -> JSONResponse:
    """Payment lookup (reference §3.7)."""
    check_version(version)
    caller = await authenticate(uow, request)
    phone = await phone_for(uow, caller, phone_number_id, "get")
    return ok(await commerce.lookup(uow, phone, configuration, reference_id))


@router.post("/{version}/{phone_number_id}/media")
async def post_media(version: str, phone_number_id: str, request: Request, uow: UoW) -> JSONResponse:
    check_version(version)
    caller = await authenticate(uow, request)
    phone = await phone_for(uow, caller, phone_number_id)
    return ok(await media.upload(uow, phone, request))


@router.api_route("/{version}/{waba_id}/subscribed_apps", methods=["GET", "POST", "DELETE"])
async def subscribed_apps(version: str, waba_id: str, request: Request, uow: UoW) -> JSONResponse:
    check_version(version)
    caller = await authenticate(uow, request)
    waba = await waba_for(uow, caller, waba_id, request.method.lower())
    await count_management_call(uow, caller, waba)
    if request.method == "GET":
        return ok(await subscriptions.listing(uow, waba))
    if request.method == "DELETE":
        return ok(await subscriptions.unsubscribe(uow, caller, waba))
    return ok(await subscriptions.subscribe(uow, caller, waba, await params(request)))


@router.api_route("/{version}/{waba_id}/message_templates", methods=["GET", "POST", "DELETE"])
async def message_templates(version: str, waba_id: str, request: Request, uow: UoW) -> JSONResponse:
    check_version(version)
    caller = await authenticate(uow, request)
    waba = await waba_for(uow, caller, waba_id, request.method.lower())
    await count_management_call(uow, caller, waba)
    body = await params(request)
    if request.method == "GET":
        return ok(await templates.listing(uow, waba, body, base_url(request) + "/" + version))
    if request.method == "DELETE":
        return ok(await templates.delete(uow, waba, body.get("name"), body.get("hsm_id")))
    return ok(await templates.create(uow, waba, body))


@router.api_route("/{version}/{waba_id}/phone_numbers", methods=["GET", "POST"])
async def phone_numbers(version: str, waba_id: str, request: Request, uow: UoW) -> JSONResponse:
    check_version(version)
    caller = await authenticate(uow, request)
    waba = await waba_for(uow, caller, waba_id, request.method.lower())
    await count_management_call(uow, caller, waba)
    body = await params(request)
    if request.method == "GET":
        return ok(await numbers.listing(uow, waba, templates.fields_of(body.get("fields"))))
    return ok(await numbers.add(uow, waba, body))


PHONE_ACTIONS = {
    "request_code": numbers.request_code,
    "verify_code": numbers.verify_code,
    "register": numbers.register,
    "smb_app_data": numbers.smb_app_data,
}


@router.post("/{version}/{phone_number_id}/{action}")
async def phone_action(version: str, phone_number_id: str, action: str, request: Request, uow: UoW) -> JSONResponse:
    check_version(version)
    caller = await authenticate(uow, request)
    if action == "unpause":
        template = await template_for(uow, caller, phone_number_id, "post")
        if template.status != "PAUSED":
            raise GraphFault(100, "Only a paused template can be unpaused.")
        from softdukan.sandbox.graph.state import set_template_status

        set_template_status(uow, template, "APPROVED")
        return ok({"success": True})
    phone = await phone_for(uow, caller, phone_number_id)
    body = await params(request)
    if action == "deregister":
        return ok(await numbers.deregister(uow, phone))
    if action == "whatsapp_commerce_settings":
        return ok(numbers.commerce_set(phone, body))
    handler = PHONE_ACTIONS.get(action)
    if handler is None:
        raise unknown_object(phone_number_id, "post")
    return ok(await handler(uow, phone, body))


@router.get("/{version}/{phone_number_id}/whatsapp_commerce_settings")
async def commerce_settings(version: str, phone_number_id: str, request: Request, uow: UoW) -> JSONResponse:
    check_version(version)
    caller = await authenticate(uow, request)
    return ok(numbers.commerce_get(await phone_for(uow, caller, phone_number_id, "get")))


@router.get("/{version}/{business_id}/client_whatsapp_business_accounts")
@router.get("/{version}/{business_id}/owned_whatsapp_business_accounts")
async def business_wabas(version: str, business_id: str, request: Request, uow: UoW) -> JSONResponse:
    check_version(version)
    caller = await authenticate(uow, request)
    if caller.business.business_id != business_id:
        raise unknown_object(business_id)
    wabas = (
        await uow.session.execute(select(SandboxWaba).where(SandboxWaba.business_pk == caller.business.id))
    ).scalars()
    return ok({"data": [_waba_view(w) for w in wabas.all() if caller.may_use_waba(w)]})


def _waba_view(waba: SandboxWaba) -> dict[str, Any]:
    return {
        "id": waba.waba_id,
        "name": waba.name,
        "currency": waba.currency,
        "timezone_id": waba.timezone_id,
        "message_template_namespace": "sandbox_" + waba.waba_id[-8:],
        "account_review_status": "APPROVED",
        "business_verification_status": "verified" if waba.status == "ACTIVE" else "not_verified",
    }


async def _lookup(uow: UoW, node_id: str) -> Any:
    for model, column in (
        (SandboxPhoneNumber, SandboxPhoneNumber.phone_number_id),
        (SandboxTemplate, SandboxTemplate.template_id),
        (SandboxMedia, SandboxMedia.media_id),
        (SandboxWaba, SandboxWaba.waba_id),
        (SandboxBusiness, SandboxBusiness.business_id),
    ):
        found = (await uow.session.execute(select(model).where(column == node_id))).scalar_one_or_none()
        if found is not None:
            return found
    return None


@router.api_route("/{version}/{node_id}", methods=["GET", "POST", "DELETE"])
async def node(version: str, node_id: str, request: Request, uow: UoW) -> JSONResponse:
    """A Graph node: a phone number, template, media, WABA or business, by its id."""
    check_version(version)
    caller = await authenticate(uow, request)
    method = request.method.lower()
    found = await _lookup(uow, node_id)
    body = await params(request)
    fields = templates.fields_of(body.get("fields"))
    if isinstance(found, SandboxPhoneNumber):
        phone = await phone_for(uow, caller, node_id, method)
        if method == "get":
            return ok(await numbers.view(uow, phone, fields))
        if method == "post":
            return ok(await numbers.update(uow, phone, body))
    elif isinstance(found, SandboxTemplate):
        template = await template_for(uow, caller, node_id, method)
        if method == "get":
            return ok(templates.view(template, fields, sample_root=base_url(request)))
        if method == "post":
            return ok(await templates.edit(uow, template, body))
    elif isinstance(found, SandboxMedia):
        item = await media.media_for(uow, caller, node_id, method)
        if method == "get":
            return ok(media.info(uow, item, base_url(request)))
        if method == "delete":
            return ok(await media.delete(uow, item))
    elif isinstance(found, SandboxWaba):
        waba = await waba_for(uow, caller, node_id, method)
        await count_management_call(uow, caller, waba)
        if method == "get":
            view = _waba_view(waba)
            return ok({k: v for k, v in view.items() if not fields or k in fields or k == "id"})
    elif isinstance(found, SandboxBusiness) and found.id == caller.business.id and method == "get":
        return ok(
            {
                "id": found.business_id,
                "name": found.name,
                "verification_status": "verified" if found.verified else "not_verified",
            }
        )
    raise unknown_object(node_id, method)


@router.api_route("/{version}/{path:path}", methods=["GET", "POST", "DELETE", "PUT", "PATCH"])
async def unknown_path(version: str, path: str, request: Request) -> JSONResponse:
    check_version(version)
    raise GraphFault(100, f"Unknown path components: /{path}", message=f"(#100) Unknown path components: /{path}")
