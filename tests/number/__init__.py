"""Numbers tests. Helper: a connected sandbox number for an organization, made through the sandbox's service."""

from __future__ import annotations

from softdukan.number.models import PhoneNumber, WhatsAppAccount
from softdukan.number.provision import provision_sandbox_number
from softdukan.platform.runtime import Runtime
from softdukan.platform.uow import unit_of_work
from tests.support.factories import OrgFixture


async def connected_number(runtime: Runtime, org: OrgFixture, *, coexistence: bool = False
                           ) -> tuple[WhatsAppAccount, PhoneNumber]:
    async with unit_of_work(runtime) as uow:
        return await provision_sandbox_number(uow, org.org.id, business_name=org.org.name, coexistence=coexistence)
