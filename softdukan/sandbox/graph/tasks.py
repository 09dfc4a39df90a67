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


@task("sandbox.finish_upgrade", max_attempts=5)
async def finish_upgrade(uow: UnitOfWork, phone_pk: int) -> None:
    from softdukan.sandbox.graph.limits import finish_upgrade as finish

    await finish(uow, phone_pk)


@task("sandbox.review_limit", max_attempts=5)
async def review_limit(uow: UnitOfWork, business_pk: int, phone_pk: int) -> None:
    from softdukan.sandbox.graph.limits import review_limit as review

    await review(uow, business_pk, phone_pk)


@task("sandbox.coexistence_sync", max_attempts=5)
async def coexistence_sync(uow: UnitOfWork, phone_pk: int, sync_type: str) -> None:
    from softdukan.sandbox.graph.coexistence import run_sync

    await run_sync(uow, phone_pk, sync_type)
