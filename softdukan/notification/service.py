"""E-mail goes through the outbox: a row plus a send job in the caller's transaction."""

from __future__ import annotations

from softdukan.notification.models import OutboundEmail
from softdukan.platform.uow import UnitOfWork


class MailService:
    async def send(self, uow: UnitOfWork, *, to: str, subject: str, text: str, html: str | None = None
                   ) -> OutboundEmail:
        email = OutboundEmail(to_address=to, subject=subject, body_text=text, body_html=html,
                              status="queued", created_at=uow.clock.now())
        uow.session.add(email)
        await uow.flush()
        uow.enqueue("notification.deliver_email", email_id=email.id)
        return email


mail_service = MailService()
