"""Meta delivers concurrently: out of order, duplicated, batched (reference §5.3). Whatever the order, the state
must be exactly that of one ordered delivery."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from softdukan.contact.models import Contact
from softdukan.conversation.models import Conversation, Message
from tests.support.whatsapp import (
    WhatsAppFixture,
    envelope,
    inbound,
    make_outbound,
    make_whatsapp,
    messages_change,
    post_webhook,
    rows,
    status,
)
from tests.support.whatsapp_fixtures import T0

PRICING = {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "utility"}
ERROR = {"code": 131026, "title": "Message undeliverable", "message": "Message undeliverable",
         "error_data": {"details": "Receiver is incapable of receiving this message"}}


def s(seconds: int) -> Any:
    return T0 + timedelta(seconds=seconds)


def scenario(wa: WhatsAppFixture, p: str) -> list[dict[str, Any]]:
    """The webhook bodies of one conversation, in the order Meta produced them; `p` keeps wamids unique."""
    referral = {"source_type": "ad", "source_id": "AD1", "source_url": "https://fb.me/a", "ctwa_clid": "c"}

    def msgs(*items: dict[str, Any], name: str = "Asha") -> dict[str, Any]:
        return envelope(wa.waba_id, [messages_change(wa, messages=list(items),
                                                     contacts=[{"profile": {"name": name}, "wa_id": "919812345678"}])])

    def sts(*items: dict[str, Any]) -> dict[str, Any]:
        return envelope(wa.waba_id, [messages_change(wa, statuses=list(items))])

    return [
        msgs(inbound(f"{p}in1", s(0), "text", {"body": "hi"}, referral=referral), name="Asha"),
        sts(status(f"{p}out1", "sent", s(10), pricing=PRICING)),
        sts(status(f"{p}out1", "delivered", s(11), pricing=PRICING)),
        msgs(inbound(f"{p}in2", s(20), "reaction", {"message_id": f"{p}out1", "emoji": "❤️"}), name="Asha V"),
        sts(status(f"{p}out1", "read", s(21))),
        sts(status(f"{p}out2", "sent", s(30)), status(f"{p}out2", "failed", s(31), errors=[ERROR])),
        msgs(inbound(f"{p}in3", s(40), "text", {"body": "thanks"}), inbound(f"{p}in4", s(41), "image",
                                                                          {"id": "m1", "mime_type": "image/png"}),
             name="Asha Verma"),
        msgs(inbound(f"{p}in5", s(50), "reaction", {"message_id": f"{p}out1", "emoji": "👍"}), name="Asha Verma"),
    ]


async def state(runtime, wa: WhatsAppFixture, p: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    org = wa.org.org.id
    messages = await rows(runtime, Message, Message.organization_id == org, order_by=Message.wamid)
    columns = ("direction", "type", "status", "content", "accepted_at", "sent_at", "delivered_at", "read_at",
               "failed_at", "error_code", "error_title", "error_details", "pricing_type", "pricing_category",
               "billable", "reaction_emoji", "reaction_to_wamid", "referral", "occurred_at")

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items()}
        return value.replace(p, "") if isinstance(value, str) else value

    [conversation] = await rows(runtime, Conversation, Conversation.organization_id == org)
    [contact] = await rows(runtime, Contact, Contact.organization_id == org)
    return {
        "messages": {strip(m.wamid): {c: strip(getattr(m, c)) for c in columns if c != "accepted_at"}
                     for m in messages},
        "conversation": {c: getattr(conversation, c) for c in (
            "last_inbound_at", "csw_expires_at", "fep_referral_at", "fep_referral", "fep_reply_by",
            "last_message_at", "unread_count")},
        "contact": {c: getattr(contact, c) for c in ("profile_name", "first_seen_at", "last_inbound_at")},
    }


async def run(client, runtime, drain_jobs, order: str, seed: int = 0) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    wa = await make_whatsapp(runtime)
    p = f"wamid.{order}{seed}."
    await make_outbound(runtime, wa, wamid=f"{p}out1")
    await make_outbound(runtime, wa, wamid=f"{p}out2", text="second")
    bodies = scenario(wa, p)
    if order == "reversed":
        bodies.reverse()
    elif order == "shuffled":
        random.Random(seed).shuffle(bodies)
    elif order == "thrice":
        bodies = bodies * 3
        random.Random(seed).shuffle(bodies)
    for body in bodies:
        assert (await post_webhook(client, body)).status_code == 200
        if order == "drain-each":
            await drain_jobs()
    await drain_jobs()
    return await state(runtime, wa, p)


async def test_any_order_and_any_duplication_reach_the_state_of_one_ordered_delivery(client, runtime,
                                                                                     drain_jobs, wa) -> None:
    expected = await run(client, runtime, drain_jobs, "drain-each")
    # the ordered state is the right one, not just a consistent one
    messages = expected["messages"]
    assert messages["out1"]["status"] == "read" and messages["out1"]["reaction_emoji"] == "👍"
    assert messages["out1"]["pricing_type"] == "regular" and messages["out1"]["delivered_at"] == s(11)
    assert messages["out2"]["status"] == "failed" and messages["out2"]["error_code"] == 131026
    assert messages["in4"]["type"] == "image"
    assert expected["conversation"]["unread_count"] == 5
    assert expected["conversation"]["csw_expires_at"] == s(50) + timedelta(hours=24)
    assert expected["conversation"]["fep_reply_by"] == s(0) + timedelta(hours=24)
    assert expected["contact"] == {"profile_name": "Asha Verma", "first_seen_at": s(0), "last_inbound_at": s(50)}

    for order, seed in [("batch", 0), ("reversed", 0), ("shuffled", 1), ("shuffled", 2), ("shuffled", 3),
                        ("thrice", 4), ("thrice", 5)]:
        assert await run(client, runtime, drain_jobs, order, seed) == expected, (order, seed)


async def test_one_webhook_three_times_is_one_effect(client, runtime, drain_jobs, wa) -> None:
    body = envelope(wa.waba_id, [messages_change(wa, messages=[inbound("wamid.x", T0, "text", {"body": "hi"})])])
    for _ in range(3):
        assert (await post_webhook(client, body)).status_code == 200
        await drain_jobs()
    assert len(await rows(runtime, Message)) == 1
    [conversation] = await rows(runtime, Conversation)
    assert conversation.unread_count == 1
