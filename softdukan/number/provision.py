"""A connected sandbox number in one call, without the wizard: for the demo organization and for tests.

It uses the sandbox's own Python service (same process, same database), so it works before the server is
serving (e.g. `softdukan demo`, run by `make run` ahead of `serve`). Sandbox shape only.
"""

from __future__ import annotations

from typing import Any

from softdukan.kit.crypto import new_token, token_hash
from softdukan.number.graph import webhook_url
from softdukan.number.models import CONNECTED, SOURCE_COEXISTENCE, SOURCE_NEW, STEP_DONE, PhoneNumber, WhatsAppAccount
from softdukan.number.repository import AccountRepository, PhoneNumberRepository
from softdukan.number.service import throughput_mps
from softdukan.platform.uow import UnitOfWork


async def provision_sandbox_number(uow: UnitOfWork, organization_id: int, *, business_name: str,
                                   verified_name: str | None = None, display_phone_number: str | None = None,
                                   coexistence: bool = False) -> tuple[WhatsAppAccount, PhoneNumber]:
    """A registered, webhook-subscribed sandbox number with an approved name, connected to the organization."""
    from softdukan.sandbox.service.accounts import provision  # the sandbox exists in the sandbox shape only

    settings, secrets = uow.settings, uow.runtime.secrets
    app_id, app_secret = settings.platform_app
    verify_token = new_token(24)
    made: dict[str, Any] = await provision(
        uow, app_id=app_id, app_secret=app_secret, callback_url=webhook_url(settings), verify_token=verify_token,
        business_name=business_name, verified_name=verified_name or business_name,
        display_phone_number=display_phone_number, coexistence=coexistence)
    now = uow.clock.now()
    account = WhatsAppAccount(
        organization_id=organization_id, waba_id=made["waba_id"], business_id=made.get("business_id"),
        name=business_name, app_id=app_id, access_token_sealed=secrets.seal(made["access_token"]),
        app_secret_sealed=secrets.seal(app_secret), verify_token_sealed=secrets.seal(verify_token),
        verify_token_hash=token_hash(settings.softdukan_secret_key, verify_token), webhooks_subscribed_at=now,
        created_at=now)
    uow.session.add(account)
    await uow.flush()
    wa_number = "".join(ch for ch in str(made["display_phone_number"]) if ch.isdigit())
    number = PhoneNumber(
        organization_id=organization_id, account_id=account.id, phone_number_id=made["phone_number_id"],
        display_phone_number=f"+{wa_number}", wa_number=wa_number, verified_name=verified_name or business_name,
        name_status="APPROVED", status=CONNECTED, onboarding_step=STEP_DONE,
        source=SOURCE_COEXISTENCE if coexistence else SOURCE_NEW, code_verification_status="VERIFIED",
        quality_rating="GREEN", registered_at=now, is_default=not any(
            n.is_default for n in await PhoneNumberRepository(uow.session).of_organization(organization_id)),
        pin_sealed=secrets.seal(made["pin"]) if made.get("pin") else None, created_at=now)
    number.throughput_mps = throughput_mps(number)
    uow.session.add(number)
    await uow.flush()
    return account, number


def credentials(uow: UnitOfWork, account: WhatsAppAccount, number: PhoneNumber) -> dict[str, str]:
    """What `softdukan demo --json` prints so scripts can act as Meta (sign webhooks) or call the sandbox."""
    secrets = uow.runtime.secrets
    return {"graph_url": uow.settings.graph_url, "phone_number_id": number.phone_number_id,
            "waba_id": account.waba_id, "access_token": secrets.open(account.access_token_sealed),
            "app_secret": secrets.open(account.app_secret_sealed),
            "verify_token": secrets.open(account.verify_token_sealed)}


async def ensure_demo_number(uow: UnitOfWork, organization_id: int, *, business_name: str) -> dict[str, str]:
    """The demo organization's sandbox number, made once; its credentials every time."""
    numbers = await PhoneNumberRepository(uow.session).of_organization(organization_id)
    if numbers:
        account = await AccountRepository(uow.session).by_id_unscoped(numbers[0].account_id)
        assert account is not None
        return credentials(uow, account, numbers[0])
    account, number = await provision_sandbox_number(uow, organization_id, business_name=business_name)
    return credentials(uow, account, number)
