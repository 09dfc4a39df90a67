"""Sandbox jobs: message status steps, webhook deliveries, template and display-name reviews."""

from __future__ import annotations

from softdukan.platform.jobs.registry import task
from softdukan.platform.uow import UnitOfWork
from softdukan.sandbox.graph import webhooks
from softdukan.sandbox.graph.messages import statuses


@task("sandbox.message_status", max_attempts=5)
async def message_status(uow: UnitOfWork, message_id: int, status: str) -> None:
    await statuses.advance(uow, message_id, status)


@task("sandbox.deliver_webhook", max_attempts=3)
async def deliver_webhook(uow: UnitOfWork, delivery_id: int) -> None:
    await webhooks.deliver(uow, delivery_id)


@task("sandbox.review_template", max_attempts=5)
async def review_template(uow: UnitOfWork, template_pk: int) -> None:
    from softdukan.sandbox.graph.templates import review

    await review(uow, template_pk)


@task("sandbox.review_display_name", max_attempts=5)
async def review_display_name(uow: UnitOfWork, phone_pk: int) -> None:
    from softdukan.sandbox.graph.numbers import review_display_name as review

    await review(uow, phone_pk)
