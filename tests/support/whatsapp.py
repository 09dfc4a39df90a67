"""A connected WhatsApp account and number written straight to the database, and webhook bodies in Meta's shapes,
signed like Meta signs them (reference §5.2, §5.4–5.6)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from itertools import count
from typing import Any

import httpx
from sqlalchemy import select

from softdukan.kit.crypto import SecretBox, token_hash
from softdukan.number.models import CONNECTED, PhoneNumber, WhatsAppAccount
from softdukan.platform.runtime import Runtime
from softdukan.whatsapp.webhook import sign
from tests.support.factories import OrgFixture, make_org

APP_SECRET = "test-app-secret-0123456789abcdef"
CUSTOMER = "919812345678"
_seq = count(1)


@dataclass
class WhatsAppFixture:
    org: OrgFixture
    account: WhatsAppAccount
    phone: PhoneNumber
    app_secret: str
    verify_token: str

    @property
    def waba_id(self) -> str:
        return self.account.waba_id

    @property
    def phone_number_id(self) -> str:
        return self.phone.phone_number_id


async def make_whatsapp(runtime: Runtime, org: OrgFixture | None = None, *, app_secret: str = APP_SECRET
                        ) -> WhatsAppFixture:
    org = org or await make_org(runtime)
    n = next(_seq)
    box = SecretBox(runtime.settings.softdukan_secret_key)
    verify_token = f"verify-token-{n}-abcdefghijklmnop"
    async with runtime.sessionmaker() as session:
        account = WhatsAppAccount(
            organization_id=org.org.id, waba_id=f"1049961223{n:05d}", name=f"WABA {n}",
            access_token_sealed=box.seal("EAAG-test-token"), app_secret_sealed=box.seal(app_secret),
            verify_token_sealed=box.seal(verify_token),
            verify_token_hash=token_hash(runtime.settings.softdukan_secret_key, verify_token))
        session.add(account)
        await session.flush()
        display = f"1555078{n:04d}"
        phone = PhoneNumber(organization_id=org.org.id, account_id=account.id, phone_number_id=f"1065403522{n:05d}",
                            display_phone_number=display, wa_number=display, verified_name="Test Dukan",
                            status=CONNECTED)
        session.add(phone)
        await session.commit()
    return WhatsAppFixture(org, account, phone, app_secret, verify_token)


def ts(at: datetime) -> str:
    return str(int(at.timestamp()))


def envelope(waba_id: str, changes: list[dict[str, Any]], *, time: int | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": waba_id, "changes": changes}
    if time is not None:
        entry["time"] = time
    return {"object": "whatsapp_business_account", "entry": [entry]}


def messages_change(wa: WhatsAppFixture, *, messages: list[dict[str, Any]] | None = None,
                    statuses: list[dict[str, Any]] | None = None, contacts: list[dict[str, Any]] | None = None,
                    errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    value: dict[str, Any] = {"messaging_product": "whatsapp",
                             "metadata": {"display_phone_number": wa.phone.display_phone_number,
                                          "phone_number_id": wa.phone_number_id}}
    if messages is not None:
        value["contacts"] = contacts if contacts is not None else [
            {"profile": {"name": "Asha Verma"}, "wa_id": m["from"]} for m in messages[:1]]
        value["messages"] = messages
    if statuses is not None:
        value["statuses"] = statuses
    if errors is not None:
        value["errors"] = errors
    return {"field": "messages", "value": value}


def inbound(wamid: str, at: datetime, type: str, content: Any = None, *, sender: str = CUSTOMER,
            **extra: Any) -> dict[str, Any]:
    message: dict[str, Any] = {"from": sender, "id": wamid, "timestamp": ts(at), "type": type}
    if content is not None:
        message[type] = content
    message.update(extra)
    return message


def status(wamid: str, value: str, at: datetime, *, recipient: str = CUSTOMER, **extra: Any) -> dict[str, Any]:
    return {"id": wamid, "status": value, "timestamp": ts(at), "recipient_id": recipient, **extra}


def body_of(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


async def post_webhook(client: httpx.AsyncClient, payload: dict[str, Any] | bytes, *,
                       secret: str | None = APP_SECRET, signature: str | None = None) -> httpx.Response:
    body = payload if isinstance(payload, bytes) else body_of(payload)
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    elif secret is not None:
        headers["X-Hub-Signature-256"] = sign(secret, body)
    return await client.post("/webhooks/whatsapp", content=body, headers=headers)


async def rows(runtime: Runtime, model: Any, *where: Any, order_by: Any = None) -> list[Any]:
    async with runtime.sessionmaker() as session:
        statement = select(model).where(*where).order_by(order_by if order_by is not None else model.id)
        return list((await session.execute(statement)).scalars().all())


async def make_outbound(runtime: Runtime, wa: WhatsAppFixture, *, to: str = CUSTOMER, wamid: str | None = None,
                        text: str = "Your order has shipped") -> int:
    """An outbound text written the way the send path writes it; accepted with `wamid` when given. Its id."""
    from softdukan.contact.service import contact_service
    from softdukan.conversation.outbound import mark_accepted, record_outbound
    from softdukan.platform.uow import unit_of_work

    async with unit_of_work(runtime) as uow:
        phone = await uow.session.get(PhoneNumber, wa.phone.id)
        assert phone is not None
        contact = await contact_service.ensure(uow, phone.organization_id, to)
        message = await record_outbound(uow, phone, contact, type="text", content={"body": text}, preview=text)
        if wamid is not None:
            await mark_accepted(uow, message, wamid)
    return message.id
