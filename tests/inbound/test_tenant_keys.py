"""Idempotency keys are per tenant: a business whose webhooks we accept (signed with its own app secret) cannot
claim another business's wamid, so it can neither swallow their events as "duplicates" nor touch their messages."""

from __future__ import annotations

from softdukan.conversation.models import Message
from softdukan.inbound.ingest import _group
from softdukan.inbound.models import InboundEvent
from tests.support.whatsapp import envelope, inbound, make_whatsapp, messages_change, post_webhook, rows
from tests.support.whatsapp_fixtures import T0

WAMID = "wamid.HBgLOTE5ODEyMzQ1Njc4FQIAEhggQUJDREVGMDEyMzQ1Njc4OUFCQ0RFRjAxMjM0NTY3OAA="


async def test_a_wamid_replayed_by_another_tenant_does_not_block_the_real_one(runtime, client, drain_jobs,
                                                                             clock) -> None:  # type: ignore[no-untyped-def]
    mallory = await make_whatsapp(runtime, app_secret="mallory-own-app-secret-0123456789")
    victim = await make_whatsapp(runtime)
    forged = messages_change(mallory, messages=[inbound(WAMID, T0, "text", {"body": "first with your wamid"})])
    real = messages_change(victim, messages=[inbound(WAMID, T0, "text", {"body": "the customer's real message"})])

    first = await post_webhook(client, envelope(mallory.waba_id, [forged]), secret="mallory-own-app-secret-0123456789")
    second = await post_webhook(client, envelope(victim.waba_id, [real]))
    await drain_jobs()

    assert first.json() == {"stored": 1, "duplicates": 0} and second.json() == {"stored": 1, "duplicates": 0}
    events = await rows(runtime, InboundEvent, InboundEvent.wamid == WAMID)
    assert sorted(e.account_id for e in events) == sorted([mallory.account.id, victim.account.id])
    (theirs,) = await rows(runtime, Message, Message.organization_id == victim.org.org.id)
    assert theirs.wamid == WAMID and theirs.content["body"] == "the customer's real message"
    (own,) = await rows(runtime, Message, Message.organization_id == mallory.org.org.id)
    assert own.content["body"] == "first with your wamid"


async def test_one_group_commit_keeps_two_tenants_events_with_the_same_key(runtime, clock) -> None:  # type: ignore[no-untyped-def]
    """Concurrent webhooks of two businesses land in one batch: each keeps its own event."""
    first = await make_whatsapp(runtime, app_secret="first-own-app-secret-0123456789")
    second = await make_whatsapp(runtime)

    def row(wa) -> dict:  # type: ignore[no-untyped-def, type-arg]
        return {"organization_id": wa.org.org.id, "account_id": wa.account.id, "dedupe_key": f"msg:{WAMID}",
                "kind": "message", "field": "messages", "phone_number_id": wa.phone_number_id, "wamid": WAMID,
                "payload": {}, "received_at": T0, "state": "pending", "attempts": 0, "created_at": T0}

    results = await _group(runtime).write([[row(first)], [row(second)], [row(first)]])  # the webhook's own write
    assert [(r.stored, r.duplicates) for r in results] == [(1, 0), (1, 0), (0, 1)]
    assert len(await rows(runtime, InboundEvent, InboundEvent.wamid == WAMID)) == 2
