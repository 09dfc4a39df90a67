"""The send job's at-most-once rules without a reachable Meta: a lost answer is never resent (the status webhook
resolves it, or it fails as not confirmed); a request that never left is retried; a disconnected number fails."""

from __future__ import annotations

from typing import Any

import pytest

from softdukan.conversation.models import Conversation, Message
from softdukan.conversation.send import SEND_TASK, claim_attempt, resolve_target, send_message
from softdukan.conversation.tasks import MAX_ATTEMPTS, MAX_CHECKS, NOT_CONFIRMED
from softdukan.conversation.tasks import send_message as send_job
from softdukan.number.models import DISCONNECTED, PhoneNumber
from softdukan.platform.errors import Conflict
from softdukan.platform.jobs.models import Job
from softdukan.platform.uow import unit_of_work
from softdukan.whatsapp.messages import TextMessage
from tests.support.whatsapp import envelope, inbound, messages_change, post_webhook, rows, status
from tests.support.whatsapp_fixtures import T0


@pytest.fixture
async def pending(client, runtime, drain_jobs, wa) -> Message:  # type: ignore[no-untyped-def]
    """A reply inside the window, written by the send service; its job not run yet."""
    payload = envelope(wa.waba_id, [messages_change(wa, messages=[inbound("wamid.hi", T0, "text", {"body": "hi"})])])
    assert (await post_webhook(client, payload)).status_code == 200
    await drain_jobs()
    (conversation,) = await rows(runtime, Conversation)
    async with unit_of_work(runtime) as uow:
        target = await resolve_target(uow, wa.org.subject, conversation_id=conversation.id)
        return await send_message(uow, wa.org.subject, target=target, message=TextMessage("On its way"))


async def run(runtime, message: Message, **args: Any) -> None:  # type: ignore[no-untyped-def]
    async with unit_of_work(runtime) as uow:
        await send_job(uow, org_id=message.organization_id, message_id=message.id, **args)


async def reload(runtime, message: Message) -> Message:  # type: ignore[no-untyped-def]
    async with runtime.sessionmaker() as session:
        found = await session.get(Message, message.id)
    assert found is not None
    return found


async def send_jobs(runtime) -> list[Job]:  # type: ignore[no-untyped-def]
    return [j for j in await rows(runtime, Job) if j.name == SEND_TASK]


async def test_a_lost_answer_is_never_resent_and_the_status_webhook_resolves_it(client, runtime, drain_jobs, wa,
                                                                                pending) -> None:
    # an earlier run marked the attempt and then lost Meta's answer (timeout, crash)
    async with unit_of_work(runtime) as uow:
        message = await uow.session.get(Message, pending.id)
        assert message is not None and await claim_attempt(uow, message)
    await run(runtime, pending)
    after = await reload(runtime, pending)
    # Meta is unreachable in-process: had the job called it, the mark would be cleared and attempt 2 queued
    assert (after.status, after.biz_opaque_callback_data) == ("pending", f"sdm:{pending.id}")
    assert [j.args.get("checks") for j in await send_jobs(runtime)] == [None, 1]

    # Meta had accepted it: the status webhook carries our id and resolves the row
    sent = status("wamid.lost-answer", "sent", T0, biz_opaque_callback_data=f"sdm:{pending.id}")
    assert (await post_webhook(client, envelope(wa.waba_id, [messages_change(wa, statuses=[sent])]))).status_code == 200
    await drain_jobs()
    resolved = await reload(runtime, pending)
    assert (resolved.status, resolved.wamid) == ("sent", "wamid.lost-answer")
    await run(runtime, pending, checks=1)  # the waiting check now finds it done
    assert (await reload(runtime, pending)).status == "sent"


async def test_an_unconfirmed_send_fails_after_the_last_check_without_resending(runtime, pending) -> None:
    async with unit_of_work(runtime) as uow:
        message = await uow.session.get(Message, pending.id)
        assert message is not None and await claim_attempt(uow, message)
    await run(runtime, pending, checks=MAX_CHECKS)
    failed = await reload(runtime, pending)
    assert failed.status == "failed" and failed.error_title == NOT_CONFIRMED and failed.wamid is None
    assert "not sent again" in (failed.error_details or "")


async def test_a_request_that_never_left_is_retried_then_fails(runtime, pending) -> None:
    await run(runtime, pending)  # in-process the Graph host does not resolve: the connection never opens
    after = await reload(runtime, pending)
    assert (after.status, after.biz_opaque_callback_data) == ("pending", None)  # free to send again
    assert [j.args.get("attempt") for j in await send_jobs(runtime)] == [None, 2]
    await run(runtime, pending, attempt=MAX_ATTEMPTS)
    failed = await reload(runtime, pending)
    assert failed.status == "failed" and failed.error_code is None and failed.error_title


async def test_a_disconnected_number_is_refused_before_and_fails_after(runtime, wa, pending) -> None:
    async with unit_of_work(runtime) as uow:
        phone = await uow.session.get(PhoneNumber, wa.phone.id)
        assert phone is not None
        phone.status = DISCONNECTED
    await run(runtime, pending)
    assert (await reload(runtime, pending)).status == "failed"
    (conversation,) = await rows(runtime, Conversation)
    async with unit_of_work(runtime) as uow:
        target = await resolve_target(uow, wa.org.subject, conversation_id=conversation.id)
        with pytest.raises(Conflict) as refused:
            await send_message(uow, wa.org.subject, target=target, message=TextMessage("Hello"))
    assert refused.value.code == "number_not_connected"
