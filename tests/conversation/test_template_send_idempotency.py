# ruff: noqa: F811  (the `shop` fixture of tests/template is imported by name and requested by name)
"""`Idempotency-Key` on template sends (issue 4 item 6): the same key never sends twice — the sandbox's own records
are the judge —, the same key with another body is 422, and a retry while the first request still runs is 409."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from softdukan.conversation.models import Message
from softdukan.platform.idempotency import IdempotencyMiddleware
from tests.conversation.template_send_support import (
    FRESH,
    approved,
    outbound_counts,
    sandbox_outbound,
    send,
    shipped_values,
)
from tests.support.whatsapp import rows
from tests.template.conftest import Shop, shop  # noqa: F401  (fixture)

SHIPPED = {"name": "order_shipped", "language": "en", "values": shipped_values()}


async def test_the_same_key_sends_once_and_replays_the_first_answer(shop: Shop) -> None:
    await approved(shop)
    key = {"Idempotency-Key": "order-1042-shipped"}
    first = await send(shop, SHIPPED, headers=key)
    assert first.status_code == 202, first.text
    await shop.drain()  # the first one is sent before the client retries
    retries = [await send(shop, SHIPPED, headers=key) for _ in range(3)]
    await shop.drain()
    assert {(r.status_code, r.json()["id"], r.headers.get("idempotent-replayed")) for r in retries} == {
        (202, first.json()["id"], "true")}
    (sent,) = await sandbox_outbound(shop, FRESH)
    assert sent["payload"]["template"]["name"] == "order_shipped"
    assert await outbound_counts(shop) == (1, 1)

    other = await send(shop, SHIPPED, headers={"Idempotency-Key": "order-1043-shipped"})
    assert other.status_code == 202 and other.json()["id"] != first.json()["id"]  # a new key is a new message
    await shop.drain()
    assert len(await sandbox_outbound(shop, FRESH)) == 2


async def test_the_same_key_with_another_body_is_refused(shop: Shop) -> None:
    await approved(shop)
    key = {"Idempotency-Key": "diwali-asha"}
    assert (await send(shop, SHIPPED, headers=key)).status_code == 202
    changed = {**SHIPPED, "values": {**shipped_values(), "body.1": "Ravi"}}
    response = await send(shop, changed, headers=key)
    assert response.status_code == 422 and response.json()["error"]["code"] == "idempotency_key_reused"
    to_other = await send(shop, SHIPPED, headers=key, to="919812377009")
    assert to_other.status_code == 422 and to_other.json()["error"]["code"] == "idempotency_key_reused"
    await shop.drain()
    assert [m["payload"]["template"]["components"][1]["parameters"][0]["text"]
            for m in await sandbox_outbound(shop, FRESH)] == ["Asha"]
    assert await sandbox_outbound(shop, "919812377009") == []


async def test_a_retry_while_the_first_request_runs_is_409_and_sends_nothing_more(
        shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    await approved(shop)
    entered, release = asyncio.Event(), asyncio.Event()
    original = IdempotencyMiddleware._reserve

    async def held(self: IdempotencyMiddleware, *args: Any) -> Any:
        reserved = await original(self, *args)
        if isinstance(reserved, int) and not entered.is_set():
            entered.set()  # the first request's key is reserved (committed); it stops before its route runs
            await release.wait()
        return reserved

    monkeypatch.setattr(IdempotencyMiddleware, "_reserve", held)
    key = {"Idempotency-Key": "slow-network-retry"}
    first = asyncio.create_task(send(shop, SHIPPED, headers=key))
    await asyncio.wait_for(entered.wait(), 10)
    retry = await asyncio.wait_for(send(shop, SHIPPED, headers=key), 10)
    assert retry.status_code == 409 and retry.json()["error"]["code"] == "idempotency_in_progress"
    assert retry.headers["retry-after"] == "1"
    assert await outbound_counts(shop) == (0, 0)
    release.set()
    answered = await asyncio.wait_for(first, 10)
    assert answered.status_code == 202, answered.text
    later = await send(shop, SHIPPED, headers=key)
    assert later.status_code == 202 and later.json()["id"] == answered.json()["id"]
    await shop.drain()
    assert len(await sandbox_outbound(shop, FRESH)) == 1
    assert [m.id for m in await rows(shop.runtime, Message, Message.direction == "out")] == [answered.json()["id"]]
