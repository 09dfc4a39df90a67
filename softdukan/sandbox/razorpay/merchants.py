"""Merchants and Basic auth: `Authorization: Basic base64(key_id:key_secret)`.

The product's configured keys (`settings.razorpay_keys`, derived from the secret key in the sandbox shape) are
always accepted: the first call made with them creates that default merchant, whose webhooks go to
`{BASE_URL}/webhooks/razorpay` signed with `settings.razorpay_signing_secret`. Other merchants are added with
`PUT /sandbox/razorpay/_sandbox/merchants/{key_id}`.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from fastapi import Request
from sqlalchemy import select

from softdukan.kit.crypto import constant_equals
from softdukan.platform.uow import UnitOfWork
from softdukan.sandbox.razorpay.errors import invalid, unauthorized
from softdukan.sandbox.razorpay.ids import new_id
from softdukan.sandbox.razorpay.models import SandboxRzpMerchant


def default_webhook_url(uow: UnitOfWork) -> str:
    return f"{uow.settings.base_url.rstrip('/')}/webhooks/razorpay"


async def by_key_id(uow: UnitOfWork, key_id: str) -> SandboxRzpMerchant | None:
    query = select(SandboxRzpMerchant).where(SandboxRzpMerchant.key_id == key_id)
    return (await uow.session.execute(query)).scalar_one_or_none()


async def default_merchant(uow: UnitOfWork) -> SandboxRzpMerchant:
    """The merchant of the configured keys, made on first use."""
    key_id, key_secret = uow.settings.razorpay_keys
    merchant = await by_key_id(uow, key_id)
    if merchant is None:
        merchant = SandboxRzpMerchant(key_id=key_id, key_secret=key_secret, account_id=new_id("acc"),
                                      name="SoftDukan", webhook_url=default_webhook_url(uow),
                                      webhook_secret=uow.settings.razorpay_signing_secret, created_at=uow.clock.now())
        uow.session.add(merchant)
        await uow.flush()
    return merchant


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    key_id, sep, key_secret = decoded.partition(":")
    return (key_id, key_secret) if sep and key_id else None


async def authenticate(uow: UnitOfWork, request: Request) -> SandboxRzpMerchant:
    credentials = _basic_credentials(request)
    if credentials is None:
        raise unauthorized()
    key_id, key_secret = credentials
    merchant = await by_key_id(uow, key_id)
    if merchant is None and key_id == uow.settings.razorpay_keys[0]:
        merchant = await default_merchant(uow)
    if merchant is None or not constant_equals(key_secret, merchant.key_secret):
        raise unauthorized()
    return merchant


async def upsert_merchant(uow: UnitOfWork, key_id: str, body: dict[str, Any]) -> SandboxRzpMerchant:
    """Control API: add a merchant or change its secrets, webhook URL, name or retry schedule."""
    if not 1 <= len(key_id) <= 64:
        raise invalid("The key_id must be 1 to 64 characters.", "key_id")
    merchant = await by_key_id(uow, key_id)
    if merchant is None and key_id == uow.settings.razorpay_keys[0]:
        merchant = await default_merchant(uow)
    if merchant is None:
        merchant = SandboxRzpMerchant(key_id=key_id, key_secret="", account_id=new_id("acc"), webhook_secret="",
                                      webhook_url=None, created_at=uow.clock.now())
        uow.session.add(merchant)
    for field in ("key_secret", "webhook_secret", "name"):
        if field in body:
            value = body[field]
            if not isinstance(value, str) or not 1 <= len(value) <= 200:
                raise invalid(f"The {field} must be a string of 1 to 200 characters.", field)
            setattr(merchant, field, value)
    if "webhook_url" in body:
        url = body["webhook_url"]
        if url is not None and (not isinstance(url, str) or not url.startswith(("http://", "https://"))):
            raise invalid("The webhook_url must be an http(s) URL or null.", "webhook_url")
        merchant.webhook_url = url
    if "retry_schedule_seconds" in body:
        schedule = body["retry_schedule_seconds"]
        if not isinstance(schedule, list) or len(schedule) > 50 or not all(
                isinstance(s, int | float) and not isinstance(s, bool) and 0 <= s <= 86400 for s in schedule):
            raise invalid("The retry_schedule_seconds must be a list of at most 50 delays (0 to 86400 s).",
                          "retry_schedule_seconds")
        merchant.retry_schedule_seconds = [float(s) for s in schedule]
    if not merchant.key_secret or not merchant.webhook_secret:
        raise invalid("A new merchant needs key_secret and webhook_secret.", "key_secret")
    await uow.flush()
    return merchant


def merchant_view(merchant: SandboxRzpMerchant) -> dict[str, Any]:
    return {"key_id": merchant.key_id, "account_id": merchant.account_id, "name": merchant.name,
            "webhook_url": merchant.webhook_url, "retry_schedule_seconds": merchant.retry_schedule_seconds}
