"""Delivers queued e-mail: over SMTP when configured, else into the dashboard mailbox."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from softdukan.notification.models import OutboundEmail
from softdukan.platform.jobs.registry import task
from softdukan.platform.uow import UnitOfWork


def _smtp_send(smtp_url: str, message: EmailMessage) -> None:
    url = urlsplit(smtp_url)
    host, port = url.hostname or "localhost", url.port or (465 if url.scheme == "smtps" else 587)
    client_cls = smtplib.SMTP_SSL if url.scheme == "smtps" else smtplib.SMTP
    with client_cls(host, port, timeout=30) as client:
        if url.scheme == "smtp" and client.has_extn("starttls"):
            client.starttls(context=ssl.create_default_context())
        if url.username:
            client.login(unquote(url.username), unquote(url.password or ""))
        client.send_message(message)


@task("notification.deliver_email", max_attempts=8)
async def deliver_email(uow: UnitOfWork, email_id: int) -> None:
    email = await uow.session.get(OutboundEmail, email_id)
    if email is None or email.status in ("sent", "mailbox"):  # already delivered by an earlier attempt
        return
    smtp_url = uow.settings.smtp_url
    if not smtp_url:
        email.status, email.sent_at = "mailbox", uow.clock.now()
        return
    await uow.release()  # don't hold the database (on SQLite, its write lock) while SMTP answers
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = uow.settings.mail_from, email.to_address, email.subject
    message.set_content(email.body_text)
    if email.body_html:
        message.add_alternative(email.body_html, subtype="html")
    await asyncio.to_thread(_smtp_send, smtp_url, message)
    email.status, email.sent_at = "sent", uow.clock.now()
