"""Every query on message templates: scoped to the acting subject, except the webhook lookups."""

from __future__ import annotations

from sqlalchemy import Select, select

from softdukan.auth.subject import Subject
from softdukan.kit.repository import Repository
from softdukan.template.models import MessageTemplate


class TemplateRepository(Repository[MessageTemplate]):
    model = MessageTemplate

    def readable(self, subject: Subject) -> Select[tuple[MessageTemplate]]:
        return select(MessageTemplate).where(MessageTemplate.organization_id == subject.organization_id)

    async def get(self, subject: Subject, template_id: int) -> MessageTemplate | None:
        return await self.one_or_none(self.readable(subject).where(MessageTemplate.id == template_id))

    async def page(self, subject: Subject, *, status: str | None = None, name: str | None = None,
                   account_id: int | None = None, after_id: int | None = None, limit: int = 50
                   ) -> list[MessageTemplate]:
        statement = self.readable(subject)
        if status:
            statement = statement.where(MessageTemplate.status == status)
        if name:
            statement = statement.where(MessageTemplate.name.contains(name, autoescape=True))
        if account_id is not None:
            statement = statement.where(MessageTemplate.account_id == account_id)
        if after_id is not None:
            statement = statement.where(MessageTemplate.id < after_id)
        return await self.all(statement.order_by(MessageTemplate.id.desc()).limit(limit))

    async def by_name(self, subject: Subject, account_id: int, name: str, language: str) -> MessageTemplate | None:
        return await self.one_or_none(self.readable(subject).where(
            MessageTemplate.account_id == account_id, MessageTemplate.name == name,
            MessageTemplate.language == language))

    async def of_account(self, subject: Subject, account_id: int) -> list[MessageTemplate]:
        return await self.all(self.readable(subject).where(MessageTemplate.account_id == account_id)
                              .order_by(MessageTemplate.id))

    # -- unscoped on purpose: webhooks name the template by Meta's id within the webhook's own account -------

    async def for_webhook(self, account_id: int, meta_template_id: str | None, name: str | None,
                          language: str | None) -> MessageTemplate | None:
        if meta_template_id:
            found = await self.one_or_none(select(MessageTemplate).where(
                MessageTemplate.account_id == account_id, MessageTemplate.meta_template_id == meta_template_id))
            if found is not None:
                return found
        if name and language:  # submitted, Meta's id not stored yet (webhook raced our create call)
            return await self.one_or_none(select(MessageTemplate).where(
                MessageTemplate.account_id == account_id, MessageTemplate.name == name,
                MessageTemplate.language == language))
        return None
