# ruff: noqa: F811  (the `shop` fixture of tests/template is imported by name and requested by name)
"""The ₹0 stop (issue 5 item 4): a send the wallet can't cover is refused (402 `insufficient_credits`) and a
broadcast pauses with a notice and resumes by itself after a recharge; replies inside the window keep flowing."""

from __future__ import annotations

from sqlalchemy import func, select

from softdukan.broadcast.models import BroadcastRecipient
from softdukan.sandbox.models import SandboxMessage
from tests.broadcast.engine_support import add_contacts, broadcast, launch, marketing_template, run_until_done
from tests.conversation.template_send_page_support import closed_conversation_of
from tests.conversation.template_send_support import approved, send, shipped_values
from tests.support.factories import browser_sign_in, csrf_from
from tests.template.conftest import Shop, shop  # noqa: F401  (fixture)
from tests.wallet.support import empty_wallet, fund, ledger_findings, wallet

MARKETING_IN = 7846 + 1000  # India, Sep 2025, with Basic's markup


async def test_a_template_the_wallet_cannot_cover_is_refused_with_402_and_replies_still_go(shop: Shop) -> None:
    await approved(shop)
    await empty_wallet(shop.runtime, shop.org.org.id)
    response = await send(shop, {"name": "order_shipped", "language": "en", "values": shipped_values()})
    assert response.status_code == 402, response.text
    error = response.json()["error"]
    assert error["code"] == "insufficient_credits" and "Add credits" in error["message"]
    assert error["details"]["available_units"] == 0 and error["details"]["market"] == "IN"
    # the customer writes: a free-form reply inside the 24-hour window holds nothing and goes out
    inbound = await shop.client.post("/sandbox/graph/_sandbox/customers/919812377001/messages", json={
        "phone_number_id": shop.number.phone_number_id,
        "message": {"type": "text", "text": {"body": "Where is my order?"}}})
    assert inbound.status_code == 200, inbound.text
    await shop.settle()
    reply = await shop.client.post("/v1/messages", headers=shop.org.auth, json={
        "phone_number_id": shop.number.id, "to": "919812377001", "type": "text", "text": {"body": "On its way!"}})
    assert reply.status_code == 202, reply.text
    assert (await wallet(shop.runtime, shop.org.org.id)).held_units == 0


async def test_a_broadcast_pauses_when_credits_run_out_and_resumes_after_a_recharge(shop: Shop) -> None:
    template_id = await marketing_template(shop)
    await add_contacts(shop, 30)
    await empty_wallet(shop.runtime, shop.org.org.id)
    await fund(shop.runtime, shop.org.org.id, 10 * MARKETING_IN + 5000, "ten")  # ten messages and change
    broadcast_id = await launch(shop, template_id)
    paused = await run_until_done(shop, broadcast_id)
    assert (paused.status, paused.pause_reason) == ("paused", "insufficient_credits")
    assert "add credits" in (paused.notice or "").lower()
    async with shop.runtime.sessionmaker() as session:
        states = dict((await session.execute(select(BroadcastRecipient.state, func.count()).where(
            BroadcastRecipient.broadcast_id == broadcast_id).group_by(BroadcastRecipient.state))).all())
        waiting = await session.scalar(select(func.count()).select_from(BroadcastRecipient).where(
            BroadcastRecipient.broadcast_id == broadcast_id, BroadcastRecipient.reason == "insufficient_credits"))
    assert states.get("sent") == 10 and states.get("pending") == 20 and waiting == 20
    assert (await wallet(shop.runtime, shop.org.org.id)).available_units < MARKETING_IN

    created = await shop.client.post("/v1/wallet/recharges", json={"amount_paise": 500_00}, headers=shop.org.auth)
    assert created.status_code == 201, created.text
    paid = await shop.client.post(f"/sandbox/razorpay/_sandbox/orders/{created.json()['razorpay_order_id']}/pay",
                                  json={})
    assert paid.status_code == 200
    await shop.drain()  # the signed payment.captured webhook credits the wallet and resumes the broadcast
    resumed = await broadcast(shop, broadcast_id)
    assert resumed.status in ("sending", "completed") and resumed.pause_reason is None
    done = await run_until_done(shop, broadcast_id)
    assert done.status == "completed"
    async with shop.runtime.sessionmaker() as session:
        per_customer = dict((await session.execute(select(SandboxMessage.wa_id, func.count()).where(
            SandboxMessage.direction == "out").group_by(SandboxMessage.wa_id))).all())
    assert len(per_customer) == 30 and set(per_customer.values()) == {1}
    cost = (await shop.client.get(f"/v1/broadcasts/{broadcast_id}", headers=shop.org.auth)).json()["cost"]
    assert cost["charged_units"] + cost["held_units"] == 30 * MARKETING_IN  # each charged or still held, once
    charged = (await shop.client.get("/v1/wallet/charges", params={"broadcast_id": broadcast_id},
                                     headers=shop.org.auth)).json()
    assert len(charged) == cost["charged_messages"] and {c["broadcast_id"] for c in charged} <= {broadcast_id}
    assert await ledger_findings(shop.runtime) == []


async def test_the_dashboard_says_why_a_template_is_not_sent_at_zero(shop: Shop) -> None:
    created = await approved(shop)
    conversation = await closed_conversation_of(shop, "919812377011")
    await empty_wallet(shop.runtime, shop.org.org.id)
    await browser_sign_in(shop.client, shop.org.owner.email)
    form = await shop.client.get(f"/conversations/{conversation.id}/template-form",
                                 params={"template_id": created["id"]}, headers={"HX-Request": "true"})
    values = {"var:header.1": "#77", "var:body.1": "Meera", "var:body.2": "#77", "var:body.3": "Monday",
              "var:button.0": "77"}
    sent = await shop.client.post(f"/conversations/{conversation.id}/template", headers={"HX-Request": "true"},
                                  data={"csrf_token": csrf_from(form.text), "template_id": str(created["id"]),
                                        **values})
    assert sent.status_code == 402 and "needs ₹0.1350 in WhatsApp credits" in sent.text
    assert "Add credits" in sent.text
    assert (await wallet(shop.runtime, shop.org.org.id)).held_units == 0
