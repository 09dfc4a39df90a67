"""Path version, request parameters and Bearer tokens: who may touch which number or WABA."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import orjson
from fastapi import Request
from sqlalchemy import select

from softdukan.kit.crypto import new_token, token_hash
from softdukan.platform.uow import UnitOfWork
from softdukan.sandbox.graph.errors import GraphFault, unknown_object
from softdukan.sandbox.models import (
    SandboxBusiness,
    SandboxPhoneNumber,
    SandboxTemplate,
    SandboxToken,
    SandboxWaba,
)

VERSION = re.compile(r"^v\d{1,2}\.0$")


def check_version(version: str) -> None:
    if not VERSION.match(version):
        raise GraphFault(
            2500, f"Unknown path components: /{version}", status=400, message=f"Unknown path components: /{version}"
        )


async def params(request: Request) -> dict[str, Any]:
    """Graph reads parameters from the query string, a JSON body or a form body, merged (body wins)."""
    merged: dict[str, Any] = dict(request.query_params)
    body = await request.body()
    if not body.strip():
        return merged
    content_type = request.headers.get("content-type", "")
    if "application/x-www-form-urlencoded" in content_type:
        merged.update(dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)))
        return merged
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise GraphFault(100, "The request body could not be parsed as JSON.") from None
    if not isinstance(data, dict):
        raise GraphFault(100, "The request body must be a JSON object.")
    merged.update(data)
    return merged


@dataclass
class Caller:
    token: SandboxToken
    business: SandboxBusiness

    def may_use_waba(self, waba: SandboxWaba) -> bool:
        if waba.business_pk != self.business.id:
            return False
        return not self.token.waba_ids or waba.waba_id in self.token.waba_ids


def bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    token = value.strip() if scheme.lower() in ("bearer", "oauth") else ""
    return token or request.query_params.get("access_token", "")


async def authenticate(uow: UnitOfWork, request: Request) -> Caller:
    raw = bearer(request)
    if not raw:
        raise GraphFault(
            190,
            "An active access token must be used to query information about the current user.",
            message="(#190) An active access token must be used to query information about the current user.",
        )
    token = (
        await uow.session.execute(select(SandboxToken).where(SandboxToken.token_hash == hash_token(uow, raw)))
    ).scalar_one_or_none()
    if token is None or token.revoked:
        raise GraphFault(
            190,
            "Invalid OAuth access token - Cannot parse access token",
            message="(#190) Invalid OAuth access token - Cannot parse access token",
        )
    business = await uow.session.get(SandboxBusiness, token.business_pk)
    assert business is not None
    return Caller(token, business)


def hash_token(uow: UnitOfWork, raw: str) -> str:
    return token_hash(uow.settings.softdukan_secret_key, "sandbox-graph:" + raw)


def issue_token(uow: UnitOfWork, business: SandboxBusiness, *, app_pk: int | None, waba_ids: list[str]) -> str:
    raw = "EAAS" + new_token(48).replace("-", "").replace("_", "")
    uow.session.add(
        SandboxToken(token_hash=hash_token(uow, raw), business_pk=business.id, app_pk=app_pk, waba_ids=list(waba_ids))
    )
    return raw


def _denied(what: str) -> GraphFault:
    return GraphFault(200, f"The access token is not allowed to use this {what}.", message="(#200) Permissions error")


async def phone_for(uow: UnitOfWork, caller: Caller, phone_number_id: str, method: str = "post") -> SandboxPhoneNumber:
    phone = (
        await uow.session.execute(
            select(SandboxPhoneNumber).where(SandboxPhoneNumber.phone_number_id == phone_number_id)
        )
    ).scalar_one_or_none()
    if phone is None or phone.waba_pk is None or phone.deleted_at is not None:
        raise unknown_object(phone_number_id, method)
    waba = await uow.session.get(SandboxWaba, phone.waba_pk)
    assert waba is not None
    if not caller.may_use_waba(waba):
        raise _denied("phone number")
    return phone


async def waba_for(uow: UnitOfWork, caller: Caller, waba_id: str, method: str = "get") -> SandboxWaba:
    waba = (await uow.session.execute(select(SandboxWaba).where(SandboxWaba.waba_id == waba_id))).scalar_one_or_none()
    if waba is None:
        raise unknown_object(waba_id, method)
    if not caller.may_use_waba(waba):
        raise _denied("WhatsApp Business account")
    return waba


async def template_for(uow: UnitOfWork, caller: Caller, template_id: str, method: str = "get") -> SandboxTemplate:
    template = (
        await uow.session.execute(select(SandboxTemplate).where(SandboxTemplate.template_id == template_id))
    ).scalar_one_or_none()
    if template is None or template.deleted_at is not None:
        raise unknown_object(template_id, method)
    waba = await uow.session.get(SandboxWaba, template.waba_pk)
    assert waba is not None
    if not caller.may_use_waba(waba):
        raise _denied("template")
    return template


async def count_management_call(uow: UnitOfWork, caller: Caller, waba: SandboxWaba) -> None:
    """Management API limit (reference §7.3): 200 calls/h per app per WABA, 5,000/h once it has a registered
    number; beyond it, 80007."""
    from softdukan.sandbox.graph.profile import load_profile

    if not (await load_profile(uow)).enforce_management_rate:
        return
    active = (await uow.session.execute(select(SandboxPhoneNumber.id).where(
        SandboxPhoneNumber.waba_pk == waba.id, SandboxPhoneNumber.registered.is_(True)))).first()
    limit = 5000 if active is not None else 200
    decision = await uow.runtime.limiter.hit(f"sandbox:management:{caller.token.app_pk}:{waba.waba_id}",
                                             limit=limit, period=3600.0)
    if not decision.allowed:
        raise GraphFault(80007, f"This app made {limit} management calls to this WhatsApp Business account in the "
                                "last hour; try again later.")
