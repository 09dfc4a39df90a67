"""POST /webhooks/whatsapp: signature, shape, storage, replay; GET handshake."""

from __future__ import annotations

from sqlalchemy import func, select

from softdukan.inbound.models import InboundEvent
from softdukan.platform.jobs.models import Job
from softdukan.whatsapp.webhook import sign
from tests.support.whatsapp import (
    body_of,
    envelope,
    inbound,
    make_whatsapp,
    messages_change,
    post_webhook,
    rows,
    status,
)
from tests.support.whatsapp_fixtures import T0


async def counts(runtime) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    async with runtime.sessionmaker() as session:
        events = await session.scalar(select(func.count()).select_from(InboundEvent))
        jobs = await session.scalar(select(func.count()).select_from(Job).where(Job.name == "inbound.route"))
    return int(events or 0), int(jobs or 0)


def text_payload(wa, wamid: str = "wamid.HBgLOTE5ODEyMzQ1Njc4FQIAEhgg1") -> dict:  # type: ignore[no-untyped-def]
    return envelope(wa.waba_id, [messages_change(wa, messages=[inbound(wamid, T0, "text", {"body": "Hi"})])])


async def test_signed_webhook_is_stored_with_one_routing_job(client, runtime, wa) -> None:
    response = await post_webhook(client, text_payload(wa))
    assert response.status_code == 200, response.text
    assert response.json() == {"stored": 1, "duplicates": 0}
    [event] = await rows(runtime, InboundEvent)
    assert (event.kind, event.field, event.wamid, event.state) == ("message", "messages",
                                                                  "wamid.HBgLOTE5ODEyMzQ1Njc4FQIAEhgg1", "pending")
    assert event.organization_id == wa.org.org.id and event.phone_number_id == wa.phone_number_id
    [job] = await rows(runtime, Job, Job.name == "inbound.route")
    assert job.args == {"event_id": event.id} and job.organization_id == wa.org.org.id


async def test_replay_changes_nothing(client, runtime, wa) -> None:
    payload = text_payload(wa)
    assert (await post_webhook(client, payload)).json() == {"stored": 1, "duplicates": 0}
    for _ in range(2):
        response = await post_webhook(client, payload)
        assert response.status_code == 200
        assert response.json() == {"stored": 0, "duplicates": 1}
    assert await counts(runtime) == (1, 1)


async def test_batch_stores_one_event_per_message_and_status(client, runtime, wa) -> None:
    change = messages_change(wa, messages=[inbound("wamid.a", T0, "text", {"body": "1"}),
                                           inbound("wamid.b", T0, "text", {"body": "2"})],
                             statuses=[status("wamid.out1", "sent", T0), status("wamid.out1", "delivered", T0)])
    response = await post_webhook(client, envelope(wa.waba_id, [change]))
    assert response.json() == {"stored": 4, "duplicates": 0}
    keys = sorted(e.dedupe_key for e in await rows(runtime, InboundEvent))
    assert keys == ["msg:wamid.a", "msg:wamid.b", "st:wamid.out1:delivered", "st:wamid.out1:sent"]
    assert await counts(runtime) == (4, 4)


async def test_missing_or_bad_signature_is_401_and_stores_nothing(client, runtime, wa) -> None:
    payload = text_payload(wa)
    body = body_of(payload)
    cases = {
        "missing": await post_webhook(client, payload, secret=None),
        "wrong secret": await post_webhook(client, payload, secret="another-secret"),
        "not hex": await post_webhook(client, payload, signature="sha256=xyz"),
        "no prefix": await post_webhook(client, payload, signature=sign(wa.app_secret, body)[7:]),
        "other body": await post_webhook(client, body, signature=sign(wa.app_secret, body + b" ")),
    }
    for name, response in cases.items():
        assert response.status_code == 401, name
        assert response.json()["error"]["code"] == "invalid_signature", name
    assert await counts(runtime) == (0, 0)


async def test_signature_is_over_the_exact_bytes(client, runtime, wa) -> None:
    body = b'{ "object" : "whatsapp_business_account", "entry": [{"id": "%s", "changes": []}] }' % wa.waba_id.encode()
    assert (await post_webhook(client, body, secret=wa.app_secret)).status_code == 200
    assert (await post_webhook(client, body.replace(b" ", b""), signature=sign(wa.app_secret, body))).status_code == 401


async def test_unknown_waba_is_401(client, runtime, wa) -> None:
    payload = text_payload(wa)
    payload["entry"][0]["id"] = "999999999"
    response = await post_webhook(client, payload)
    assert response.status_code == 401
    assert await counts(runtime) == (0, 0)


async def test_another_accounts_secret_does_not_sign_for_this_waba(client, runtime, wa) -> None:
    other = await make_whatsapp(runtime, app_secret="the-other-apps-secret")
    response = await post_webhook(client, text_payload(wa), secret=other.app_secret)
    assert response.status_code == 401
    # a body naming both WABAs must satisfy both secrets
    payload = text_payload(wa)
    payload["entry"].append({"id": other.waba_id, "changes": []})
    assert (await post_webhook(client, payload, secret=wa.app_secret)).status_code == 401
    assert await counts(runtime) == (0, 0)


async def test_malformed_bodies_are_400_never_500(client, runtime, wa) -> None:
    bad_json = await post_webhook(client, b"{not json", secret=wa.app_secret)
    assert bad_json.status_code == 400 and bad_json.json()["error"]["code"] == "invalid_json"
    shapes = [
        [], {"object": "page", "entry": []}, {"object": "whatsapp_business_account"},
        {"object": "whatsapp_business_account", "entry": "x"},
        {"object": "whatsapp_business_account", "entry": [{"changes": []}]},
        {"object": "whatsapp_business_account", "entry": [{"id": wa.waba_id, "changes": [{"field": "messages"}]}]},
        {"object": "whatsapp_business_account", "entry": [{"id": wa.waba_id, "changes": "no"}]},
        envelope(wa.waba_id, [{"field": "messages", "value": {"messages": []}}]),  # no metadata
        envelope(wa.waba_id, [messages_change(wa, messages=[{"from": "1", "timestamp": "1", "type": "text"}])]),
        envelope(wa.waba_id, [messages_change(wa, messages=[{"from": "1", "id": "w", "timestamp": "soon"}])]),
        envelope(wa.waba_id, [messages_change(wa, statuses=[{"id": "w", "timestamp": "1"}])]),
        envelope(wa.waba_id, [messages_change(wa, statuses=["sent"])]),
        envelope(wa.waba_id, [messages_change(wa, messages=[inbound("w" * 201, T0, "text", {"body": "long id"})])]),
        envelope(wa.waba_id, [messages_change(wa, messages=[inbound("w", T0, "text", {}, sender="9" * 65)])]),
    ]
    for payload in shapes:
        response = await post_webhook(client, body_of(payload), secret=wa.app_secret)  # type: ignore[arg-type]
        assert response.status_code == 400, (payload, response.text)
        error = response.json()["error"]
        assert error["code"] == "invalid_payload" and error["message"].startswith("Not a WhatsApp webhook"), error
    assert await counts(runtime) == (0, 0)


async def test_odd_values_inside_a_valid_shape_are_stored_not_refused(client, runtime, drain_jobs, wa) -> None:
    odd_error = {"code": 10**30, "title": 5, "error_data": "plain string details"}
    change = messages_change(wa, messages=[inbound("wamid.odd", T0, "text", {"body": None}, errors=[odd_error],
                                                   context="not an object", referral=[])],
                             statuses=[status("wamid.nope", "sent", T0, pricing="free", conversation=7)])
    assert (await post_webhook(client, envelope(wa.waba_id, [change]))).status_code == 200
    await drain_jobs()
    from softdukan.conversation.models import Message

    [message] = await rows(runtime, Message)
    assert (message.type, message.content, message.error_code, message.error_title) == ("text", {"body": ""}, None,
                                                                                        "5")


async def test_oversized_body_is_413(client, runtime, wa) -> None:
    body = b'{"object":"whatsapp_business_account","pad":"' + b"x" * 1_000_001 + b'"}'
    response = await post_webhook(client, body, secret=wa.app_secret)
    assert response.status_code == 413
    assert await counts(runtime) == (0, 0)


async def test_handshake_echoes_the_challenge_for_a_known_token(client, wa) -> None:
    response = await client.get("/webhooks/whatsapp", params={
        "hub.mode": "subscribe", "hub.verify_token": wa.verify_token, "hub.challenge": "1158201444"})
    assert response.status_code == 200
    assert response.text == "1158201444"
    assert response.headers["content-type"].startswith("text/plain")


async def test_handshake_refuses_unknown_tokens(client, wa) -> None:
    for params in ({"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1"},
                   {"hub.mode": "subscribe", "hub.challenge": "1"},
                   {"hub.mode": "unsubscribe", "hub.verify_token": wa.verify_token, "hub.challenge": "1"},
                   {"hub.verify_token": "x" * 500, "hub.challenge": "1"}):
        response = await client.get("/webhooks/whatsapp", params=params)
        assert response.status_code == 403, params
        assert response.text != "1"
    missing = await client.get("/webhooks/whatsapp", params={"hub.mode": "subscribe",
                                                              "hub.verify_token": wa.verify_token})
    assert missing.status_code == 400
