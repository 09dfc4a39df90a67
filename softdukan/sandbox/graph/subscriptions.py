"""`/{waba-id}/subscribed_apps`: subscribe the caller's app (with an optional override callback, verified by
Meta's GET handshake first) and list the subscribed apps."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from softdukan.platform.uow import UnitOfWork
from softdukan.sandbox.graph.access import Caller
from softdukan.sandbox.graph.errors import GraphFault
from softdukan.sandbox.graph.webhooks import handshake
from softdukan.sandbox.models import SandboxApp, SandboxSubscription, SandboxWaba


async def subscribe(uow: UnitOfWork, caller: Caller, waba: SandboxWaba, body: dict[str, Any]) -> dict[str, Any]:
    if caller.token.app_pk is None:
        raise GraphFault(
            200,
            "This access token belongs to no app; use a token issued to your app.",
            message="(#200) Permissions error",
        )
    app = await uow.session.get(SandboxApp, caller.token.app_pk)
    assert app is not None
    override = body.get("override_callback_uri")
    verify_token = body.get("verify_token")
    if override is not None:
        if not isinstance(override, str) or not override.startswith(("http://", "https://")):
            raise GraphFault(100, "Param override_callback_uri must be an http(s) URL.")
        if not isinstance(verify_token, str) or not verify_token:
            raise GraphFault(100, "The parameter verify_token is required with override_callback_uri.")
    target = override or app.callback_url
    token = verify_token if override else app.verify_token
    waba_pk, app_pk = waba.id, app.id
    if target and token:
        await uow.release()  # no database lock while the callback answers (it may be this very process)
        failure = await handshake(target, token)
        if failure:
            raise GraphFault(2200, failure, status=400, message=f"(#2200) Callback verification failed: {failure}")
    subscription = (
        await uow.session.execute(
            select(SandboxSubscription).where(
                SandboxSubscription.waba_pk == waba_pk, SandboxSubscription.app_pk == app_pk
            )
        )
    ).scalar_one_or_none()
    if subscription is None:
        subscription = SandboxSubscription(waba_pk=waba_pk, app_pk=app_pk)
        uow.session.add(subscription)
    subscription.override_callback_uri = override
    subscription.verify_token = verify_token if override else None
    return {"success": True}


async def listing(uow: UnitOfWork, waba: SandboxWaba) -> dict[str, Any]:
    rows = (
        await uow.session.execute(
            select(SandboxSubscription, SandboxApp)
            .join(SandboxApp, SandboxApp.id == SandboxSubscription.app_pk)
            .where(SandboxSubscription.waba_pk == waba.id)
        )
    ).all()
    data = []
    for subscription, app in rows:
        item: dict[str, Any] = {
            "whatsapp_business_api_data": {"id": app.app_id, "link": "", "name": f"App {app.app_id}"}
        }
        if subscription.override_callback_uri:
            item["override_callback_uri"] = subscription.override_callback_uri
        data.append(item)
    return {"data": data}


async def unsubscribe(uow: UnitOfWork, caller: Caller, waba: SandboxWaba) -> dict[str, Any]:
    subscription = (
        await uow.session.execute(
            select(SandboxSubscription).where(
                SandboxSubscription.waba_pk == waba.id, SandboxSubscription.app_pk == caller.token.app_pk
            )
        )
    ).scalar_one_or_none()
    if subscription is not None:
        await uow.session.delete(subscription)
    return {"success": True}
