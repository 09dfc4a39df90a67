"""Razorpay sandbox jobs: webhook deliveries."""

from __future__ import annotations

from softdukan.platform.jobs.registry import task
from softdukan.platform.uow import UnitOfWork
from softdukan.sandbox.razorpay import webhooks


@task(webhooks.DELIVER_TASK, max_attempts=3)
async def deliver_webhook(uow: UnitOfWork, delivery_id: int) -> None:
    await webhooks.deliver(uow, delivery_id)
