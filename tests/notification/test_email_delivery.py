"""The outbox delivers over real SMTP when configured, and into the mailbox otherwise."""

from __future__ import annotations

from email import message_from_bytes

from aiosmtpd.controller import Controller
from sqlalchemy import select, text

from softdukan.notification.models import OutboundEmail
from softdukan.notification.service import mail_service
from softdukan.platform.jobs.execute import drain
from softdukan.platform.runtime import build_runtime
from softdukan.platform.uow import unit_of_work
from tests.support.services import free_port


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


async def send_one(runtime, to: str) -> int:  # type: ignore[no-untyped-def]
    async with unit_of_work(runtime) as uow:
        email = await mail_service.send(uow, to=to, subject="Hello from SoftDukan", text="Plain body",
                                        html="<p>HTML body</p>")
    return email.id


async def test_smtp_delivery_marks_the_email_sent(settings, runtime) -> None:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    smtp_runtime = build_runtime(settings.model_copy(update={"smtp_url": f"smtp://127.0.0.1:{port}"}))
    try:
        email_id = await send_one(smtp_runtime, "customer@example.com")
        assert await drain(smtp_runtime) == 1
    finally:
        controller.stop()
        await smtp_runtime.close()
    assert len(inbox.messages) == 1
    recipients, raw = inbox.messages[0]
    assert recipients == ["customer@example.com"]
    parsed = message_from_bytes(raw)
    assert parsed["Subject"] == "Hello from SoftDukan" and parsed.is_multipart()
    async with runtime.sessionmaker() as session:
        email = await session.get(OutboundEmail, email_id)
    assert email is not None and email.status == "sent" and email.sent_at is not None


async def test_unreachable_smtp_retries_instead_of_losing_the_email(settings, runtime) -> None:
    broken = build_runtime(settings.model_copy(update={"smtp_url": f"smtp://127.0.0.1:{free_port()}"}))
    try:
        email_id = await send_one(broken, "customer@example.com")
        await drain(broken)
    finally:
        await broken.close()
    async with runtime.sessionmaker() as session:
        email = await session.get(OutboundEmail, email_id)
        from softdukan.platform.jobs.models import Job

        job = (await session.execute(select(Job).where(Job.name == "notification.deliver_email"))).scalar_one()
    assert email is not None and email.status == "queued"
    assert job.status == "queued" and job.attempts == 1 and "Connection refused" in (job.last_error or "")


async def test_without_smtp_the_email_lands_in_the_mailbox(runtime, drain_jobs) -> None:
    email_id = await send_one(runtime, "someone@example.com")
    assert await drain_jobs() == 1
    async with runtime.sessionmaker() as session:
        email = await session.get(OutboundEmail, email_id)
    assert email is not None and email.status == "mailbox"


async def test_a_slow_smtp_server_does_not_hold_the_database(settings, runtime) -> None:
    """While the SMTP server stalls, another writer gets the database at once (on SQLite: the write lock)."""
    import asyncio
    import threading

    from sqlalchemy import update

    entered, proceed = threading.Event(), threading.Event()

    class SlowInbox(Inbox):
        async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
            entered.set()
            await asyncio.get_running_loop().run_in_executor(None, proceed.wait, 30)
            return await super().handle_DATA(server, session, envelope)

    inbox = SlowInbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    smtp_runtime = build_runtime(settings.model_copy(update={"smtp_url": f"smtp://127.0.0.1:{port}"}))
    try:
        email_id = await send_one(smtp_runtime, "customer@example.com")
        delivery = asyncio.create_task(drain(smtp_runtime))
        assert await asyncio.to_thread(entered.wait, 30), "the SMTP server never saw the message"
        async with runtime.sessionmaker() as session:  # a writer while SMTP is stalled
            await session.execute(text("PRAGMA busy_timeout = 200")) if runtime.engine.dialect.name == "sqlite" \
                else None
            await session.execute(update(OutboundEmail).where(OutboundEmail.id == email_id)
                                  .values(body_text="edited while sending"))
            await session.commit()
        proceed.set()
        assert await delivery == 1
    finally:
        proceed.set()
        controller.stop()
        await smtp_runtime.close()
    async with runtime.sessionmaker() as session:
        email = await session.get(OutboundEmail, email_id)
    assert email is not None and email.status == "sent" and len(inbox.messages) == 1
