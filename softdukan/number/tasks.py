"""Background work of the numbers domain: keep status, quality and limits current between webhooks."""

from __future__ import annotations

from datetime import timedelta

import structlog

from softdukan.number.models import DISCONNECTED
from softdukan.number.repository import AccountRepository, PhoneNumberRepository
from softdukan.number.service import refresh_from_meta
from softdukan.platform.errors import DomainError
from softdukan.platform.jobs.registry import periodic, task
from softdukan.platform.uow import UnitOfWork

log = structlog.get_logger(__name__)

REFRESH_EVERY = timedelta(hours=6)


@task("number.refresh", max_attempts=3)
async def refresh_number(uow: UnitOfWork, number_id: int) -> None:
    """Read one number's fields from Meta (a refusal is logged, not retried: the next sweep tries again)."""
    number = await PhoneNumberRepository(uow.session).by_id_unscoped(number_id)
    if number is None or number.status == DISCONNECTED:
        return
    account = await AccountRepository(uow.session).by_id_unscoped(number.account_id)
    if account is None or account.status == DISCONNECTED:
        return
    try:
        await refresh_from_meta(uow, account, number)  # releases the transaction around the call
    except DomainError as exc:
        if exc.status >= 500:
            raise  # Meta unreachable: the job retries with backoff
        log.info("number_refresh_refused", number_id=number_id, code=exc.code)


@periodic("number.refresh_all", every=REFRESH_EVERY)
async def refresh_all(uow: UnitOfWork) -> None:
    """One refresh job per number, so a slow or failing one doesn't hold up the rest."""
    for number_id in await PhoneNumberRepository(uow.session).ids_to_refresh():
        hour = f"{uow.clock.now():%Y%m%d%H}"
        uow.enqueue("number.refresh", number_id=number_id, unique_key=f"number.refresh:{number_id}:{hour}")
