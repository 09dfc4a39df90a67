"""Connected numbers: reading them, refreshing them from Meta, and the updates webhooks bring.

The onboarding steps ("Connect WhatsApp", bring an existing number) live in `onboarding.py`.

For webhook routing (softdukan/inbound) this module offers, all taking the job's `uow` and never committing:
- `find_by_phone_number_id(uow, phone_number_id)`, `find_account_by_waba_id(uow, waba_id)`,
  `find_by_display_number(uow, account, display_phone_number)`, `find_account_by_verify_token(uow, token)`:
  **unscoped on purpose** — a webhook has no acting subject; Meta's ids (unique across organizations) are
  what route it. Never call them with ids a tenant typed in.
- `apply_quality_update(uow, phone_number, quality_rating=…, messaging_limit_tier=…, throughput_level=…)`
- `apply_account_update(uow, account, status=…, restriction=…)`
- `record_history_progress(uow, phone_number, progress=…, declined=…)`: coexistence history import

For other domains acting on a number under their own permission (no `numbers:read` needed):
- `number_in_organization(uow, subject, number_id)`, `numbers_in_organization(uow, subject)`: scoped to the
  subject's organization only — sending a message needs `conversations:write`, not `numbers:read`.
- `number_and_account(uow, organization_id, number_id)`: for jobs, which act for the organization they were given.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from softdukan.auth.subject import Subject
from softdukan.number.errors import meta_call
from softdukan.number.events import PhoneNumberUpdated, WhatsAppAccountUpdated
from softdukan.number.graph import account_client
from softdukan.number.models import (
    CONNECTED,
    DISCONNECTED,
    HISTORY_DECLINED,
    HISTORY_DONE,
    SOURCE_COEXISTENCE,
    PhoneNumber,
    WhatsAppAccount,
)
from softdukan.number.repository import AccountRepository, PhoneNumberRepository
from softdukan.platform.errors import Conflict, NotFound
from softdukan.platform.uow import UnitOfWork

# Fields read by "refresh from Meta" (reference §10.1, §7.1, §7.4).
REFRESH_FIELDS = ("verified_name", "code_verification_status", "display_phone_number", "quality_rating",
                  "throughput", "status", "name_status", "new_name_status", "is_on_biz_app", "platform_type",
                  "whatsapp_business_manager_messaging_limit")
QUALITY_RATINGS = {"GREEN", "YELLOW", "RED", "UNKNOWN"}
THROUGHPUT_MPS = {"STANDARD": 80, "HIGH": 1000}
COEXISTENCE_MPS = 20  # fixed for WhatsApp Business app numbers (reference §7.1)
ACCOUNT_STATUSES = {"ACTIVE", "RESTRICTED", "DISCONNECTED"}


def digits(raw: str) -> str:
    return "".join(ch for ch in raw if ch.isdigit())


def throughput_mps(phone_number: PhoneNumber) -> int:
    if phone_number.source == SOURCE_COEXISTENCE:
        return COEXISTENCE_MPS
    return THROUGHPUT_MPS.get(phone_number.throughput_level, 80)


def _text(value: Any, limit: int) -> str | None:
    return value[:limit] if isinstance(value, str) and value else None


def emit_number(uow: UnitOfWork, phone_number: PhoneNumber) -> None:
    uow.emit(PhoneNumberUpdated(organization_id=phone_number.organization_id, number_id=phone_number.id,
                                status=phone_number.status, quality_rating=phone_number.quality_rating,
                                onboarding_step=phone_number.onboarding_step))


@dataclass(frozen=True)
class NumberView:
    number: PhoneNumber
    account: WhatsAppAccount


class NumberService:
    # -- reads (scoped) --------------------------------------------------------------------------------------

    async def list(self, uow: UnitOfWork, subject: Subject) -> list[NumberView]:
        subject.require("numbers:read")
        accounts = {a.id: a for a in await AccountRepository(uow.session).list(subject)}
        return [NumberView(n, accounts[n.account_id]) for n in await PhoneNumberRepository(uow.session).list(subject)
                if n.account_id in accounts]

    async def accounts(self, uow: UnitOfWork, subject: Subject) -> list[WhatsAppAccount]:
        subject.require("numbers:read")
        return await AccountRepository(uow.session).list(subject)

    async def get(self, uow: UnitOfWork, subject: Subject, number_id: int) -> NumberView:
        subject.require("numbers:read")
        number = await PhoneNumberRepository(uow.session).get(subject, number_id)
        account = await AccountRepository(uow.session).get(subject, number.account_id) if number else None
        if number is None or account is None:
            raise NotFound("phone_number_not_found", "No such phone number in this organization.")
        return NumberView(number, account)

    async def get_account(self, uow: UnitOfWork, subject: Subject, account_id: int) -> WhatsAppAccount:
        subject.require("numbers:read")
        account = await AccountRepository(uow.session).get(subject, account_id)
        if account is None:
            raise NotFound("whatsapp_account_not_found", "No such WhatsApp Business account in this organization.")
        return account

    async def default_number(self, uow: UnitOfWork, subject: Subject) -> PhoneNumber | None:
        """The number business-initiated sends use unless told otherwise: the default one, else the first connected."""
        numbers = [v.number for v in await self.list(uow, subject) if v.number.status == CONNECTED]
        return next((n for n in numbers if n.is_default), numbers[0] if numbers else None)

    # -- writes ----------------------------------------------------------------------------------------------

    async def make_default(self, uow: UnitOfWork, subject: Subject, number_id: int) -> NumberView:
        subject.require("numbers:write")
        view = await self.get(uow, subject, number_id)
        for other in await PhoneNumberRepository(uow.session).list(subject):
            other.is_default = other.id == number_id
        from softdukan.audit.service import audit_service

        audit_service.record(uow, "number.made_default", subject=subject, target=view.number,
                             target_label=view.number.display_phone_number)
        return view

    async def refresh(self, uow: UnitOfWork, subject: Subject, number_id: int) -> NumberView:
        """Read the number's fields from Meta now ("refresh from Meta")."""
        subject.require("numbers:write")
        view = await self.get(uow, subject, number_id)
        await refresh_from_meta(uow, view.account, view.number)
        return view


async def refresh_from_meta(uow: UnitOfWork, account: WhatsAppAccount, phone_number: PhoneNumber) -> PhoneNumber:
    """GET /{phone-number-id}?fields=… and keep what it says. Releases the transaction around the call."""
    await uow.release()
    async with meta_call("read the number's status"), account_client(uow.runtime, account) as client:
        fields = await client.get_phone_number(phone_number.phone_number_id, fields=REFRESH_FIELDS)
    apply_phone_fields(phone_number, fields)
    phone_number.refreshed_at = uow.clock.now()
    if (phone_number.new_display_name and phone_number.verified_name == phone_number.new_display_name
            and phone_number.registered_at is not None and phone_number.pin_sealed):
        # the new display name was approved: Meta needs the number registered again (reference §10.1)
        await uow.release()
        async with meta_call("register the number again after its new display name"), \
                account_client(uow.runtime, account) as client:
            await client.register(phone_number.phone_number_id, uow.runtime.secrets.open(phone_number.pin_sealed))
        phone_number.new_display_name, phone_number.registered_at = None, uow.clock.now()
    emit_number(uow, phone_number)
    return phone_number


def apply_phone_fields(phone_number: PhoneNumber, fields: dict[str, Any]) -> None:
    """Copy what Meta said about the number onto our row; unknown or missing values leave ours alone."""
    if name := _text(fields.get("verified_name"), 200):
        phone_number.verified_name = name
    if shown := _text(fields.get("display_phone_number"), 32):
        phone_number.display_phone_number = shown
        phone_number.wa_number = digits(shown)[:20] or phone_number.wa_number
    if status := _text(fields.get("code_verification_status"), 16):
        phone_number.code_verification_status = status.upper()
    if (quality := _text(fields.get("quality_rating"), 16)) and quality.upper() in QUALITY_RATINGS:
        phone_number.quality_rating = quality.upper()
    if name_status := _text(fields.get("name_status"), 32):
        phone_number.name_status = name_status.upper()
    if status := _text(fields.get("status"), 32):
        phone_number.status = status.upper()
    limit = fields.get("whatsapp_business_manager_messaging_limit") or fields.get("messaging_limit_tier")
    if tier := _text(limit, 32):
        phone_number.messaging_limit_tier = tier.upper()
    throughput = fields.get("throughput")
    if isinstance(throughput, dict) and (level := _text(throughput.get("level"), 16)):
        phone_number.throughput_level = level.upper()
    phone_number.throughput_mps = throughput_mps(phone_number)


# -- for other domains (scoped to an organization, no numbers:read) ------------------------------------------


async def number_in_organization(uow: UnitOfWork, subject: Subject, number_id: int) -> PhoneNumber | None:
    """The subject's organization's number, or None. Checks NO permission: the caller's own route or service
    did (e.g. conversations:write to send). Another organization's id is None, never its row."""
    return await PhoneNumberRepository(uow.session).get(subject, number_id)


async def numbers_in_organization(uow: UnitOfWork, subject: Subject) -> list[PhoneNumber]:
    """Every number of the subject's organization (no permission checked, as above)."""
    return await PhoneNumberRepository(uow.session).list(subject)


async def sending_number(uow: UnitOfWork, subject: Subject, number_id: int | None, *, purpose: str) -> PhoneNumber:
    """The number to send from: the one given (404 if not the organization's), else the default connected one,
    else the first connected one (409 "Connect a WhatsApp number before {purpose}."). No permission checked."""
    if number_id is not None:
        phone = await number_in_organization(uow, subject, number_id)
        if phone is None:
            raise NotFound("phone_number_not_found", "No such phone number in this organization.")
        return phone
    candidates = [n for n in await numbers_in_organization(uow, subject) if n.status == CONNECTED]
    phone = next((n for n in candidates if n.is_default), candidates[0] if candidates else None)
    if phone is None:
        raise Conflict("no_connected_number", f"Connect a WhatsApp number before {purpose}.")
    return phone


async def number_and_account(uow: UnitOfWork, organization_id: int, number_id: int
                             ) -> tuple[PhoneNumber, WhatsAppAccount] | None:
    """For jobs acting for `organization_id`: the number (ours, by id) and its account, both in that organization."""
    number = await PhoneNumberRepository(uow.session).by_id_unscoped(number_id)
    if number is None or number.organization_id != organization_id:
        return None
    account = await AccountRepository(uow.session).by_id_unscoped(number.account_id)
    if account is None or account.organization_id != organization_id:
        return None
    return number, account


# -- for webhook routing (softdukan/inbound) -----------------------------------------------------------------


async def find_by_phone_number_id(uow: UnitOfWork, phone_number_id: str) -> PhoneNumber | None:
    """UNSCOPED on purpose: routes a webhook by Meta's phone_number_id (unique across organizations)."""
    return await PhoneNumberRepository(uow.session).by_phone_number_id(phone_number_id)


async def find_account_by_waba_id(uow: UnitOfWork, waba_id: str) -> WhatsAppAccount | None:
    """UNSCOPED on purpose: routes a webhook (and checks its signature) by `entry[].id`, the WABA id."""
    return await AccountRepository(uow.session).by_waba_id(waba_id)


async def find_account_by_verify_token(uow: UnitOfWork, verify_token: str) -> WhatsAppAccount | None:
    """UNSCOPED on purpose: the GET verification handshake names its account only by the verify token."""
    from softdukan.kit.crypto import token_hash

    return await AccountRepository(uow.session).by_verify_token_hash(
        token_hash(uow.settings.softdukan_secret_key, verify_token))


async def find_by_display_number(uow: UnitOfWork, account: WhatsAppAccount, display_phone_number: str
                                 ) -> PhoneNumber | None:
    """UNSCOPED on purpose (within the webhook's account): quality webhooks name the number by
    `display_phone_number` only (reference §5.9)."""
    return await PhoneNumberRepository(uow.session).by_account_and_wa_number(account.id, digits(display_phone_number))


async def apply_quality_update(uow: UnitOfWork, phone_number: PhoneNumber, *, quality_rating: str | None = None,
                               messaging_limit_tier: str | None = None, throughput_level: str | None = None) -> None:
    """A phone_number_quality_update (or similar) webhook: keep what it says. Safe to apply twice.

    The messaging limit is the portfolio's (reference §7.4): it is copied to the number's account too.
    """
    changed = False
    if quality_rating and quality_rating.upper() in QUALITY_RATINGS and phone_number.quality_rating != quality_rating:
        phone_number.quality_rating, changed = quality_rating.upper(), True
    if messaging_limit_tier and phone_number.messaging_limit_tier != messaging_limit_tier.upper()[:32]:
        phone_number.messaging_limit_tier, changed = messaging_limit_tier.upper()[:32], True
        account = await AccountRepository(uow.session).by_id_unscoped(phone_number.account_id)
        if account is not None:
            account.messaging_limit_tier = phone_number.messaging_limit_tier
    if throughput_level and phone_number.throughput_level != throughput_level.upper()[:16]:
        phone_number.throughput_level, changed = throughput_level.upper()[:16], True
        phone_number.throughput_mps = throughput_mps(phone_number)
    if changed:
        emit_number(uow, phone_number)


async def apply_account_update(uow: UnitOfWork, account: WhatsAppAccount, *, status: str,
                               restriction: Any = None) -> None:
    """An account_update webhook: ACTIVE | RESTRICTED | DISCONNECTED, with the restriction info if any.

    DISCONNECTED (account deleted, partner removed) disconnects the account's numbers too.
    """
    status = status.upper()
    if status not in ACCOUNT_STATUSES:
        raise ValueError(f"unknown account status {status!r}; use one of {sorted(ACCOUNT_STATUSES)}")
    account.status = status
    if restriction is None or isinstance(restriction, str):
        account.restriction = restriction if status == "RESTRICTED" else None
    else:
        account.restriction = json.dumps(restriction)
    if status == DISCONNECTED:
        for number in await PhoneNumberRepository(uow.session).of_account_unscoped(account.id):
            number.status = DISCONNECTED
            emit_number(uow, number)
    uow.emit(WhatsAppAccountUpdated(organization_id=account.organization_id, account_id=account.id, status=status))


async def record_history_progress(uow: UnitOfWork, phone_number: PhoneNumber, *, progress: int | None = None,
                                  declined: bool = False) -> bool:
    """A coexistence `history` webhook: at progress 100 the import is done; an error saying the business turned
    history sharing off marks it declined. True when the number changed (a `number.updated` event follows)."""
    target = HISTORY_DECLINED if declined else HISTORY_DONE if progress is not None and progress >= 100 else None
    if target is None or phone_number.history_import == target or phone_number.history_import == HISTORY_DONE:
        return False
    phone_number.history_import = target
    emit_number(uow, phone_number)
    return True


number_service = NumberService()
