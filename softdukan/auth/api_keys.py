"""API keys: shown once, stored as a keyed hash with a visible prefix, scoped, revocable."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from softdukan.audit.service import audit_service
from softdukan.auth.models import ApiKey
from softdukan.auth.permissions import unknown
from softdukan.auth.repository import ApiKeyRepository
from softdukan.auth.service import clean_name
from softdukan.auth.subject import Subject
from softdukan.kit.crypto import new_token, token_hash
from softdukan.organization.repository import OrganizationRepository
from softdukan.platform.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from softdukan.platform.uow import UnitOfWork

KEY_PREFIX = "sdk_"
LAST_USED_GRANULARITY = timedelta(minutes=1)  # don't write on every request


@dataclass(frozen=True)
class CreatedKey:
    api_key: ApiKey
    secret: str  # the whole key, returned once


class ApiKeyService:
    async def list(self, uow: UnitOfWork, subject: Subject) -> list[ApiKey]:
        subject.require("api_keys:read")
        return await ApiKeyRepository(uow.session).list(subject)

    async def create(self, uow: UnitOfWork, subject: Subject, *, name: str, scopes: list[str]) -> CreatedKey:
        subject.require("api_keys:write")
        name = clean_name(name, "name", "Key name", max_length=100)
        if bad := unknown(scopes):
            raise Invalid("unknown_scope", f"Unknown scopes: {', '.join(bad)}.", {"scopes": bad})
        if not scopes:
            raise Invalid("no_scopes", "Choose at least one scope.", {"scopes": "Choose at least one."})
        if not set(scopes) <= subject.permissions:
            raise Forbidden("scope_exceeds_yours", "A key can't have scopes you don't have yourself.",
                            {"scopes": sorted(set(scopes) - subject.permissions)})
        from softdukan.subscription import entitlements

        await entitlements.require(uow, subject.organization_id, "api_access")
        prefix = KEY_PREFIX + new_token(6)[:8]
        secret = f"{prefix}_{new_token(32)}"
        api_key = ApiKey(organization_id=subject.organization_id, name=name, prefix=prefix,
                         key_hash=token_hash(uow.settings.softdukan_secret_key, secret), scopes=sorted(set(scopes)),
                         created_by_user_id=subject.user_id, created_at=uow.clock.now())
        uow.session.add(api_key)
        await uow.flush()
        audit_service.record(uow, "api_key.created", subject=subject, target=api_key, target_label=prefix,
                             scopes=api_key.scopes)
        return CreatedKey(api_key, secret)

    async def revoke(self, uow: UnitOfWork, subject: Subject, key_id: int) -> ApiKey:
        subject.require("api_keys:write")
        api_key = await ApiKeyRepository(uow.session).get(subject, key_id)
        if api_key is None:
            raise NotFound("api_key_not_found", "No such API key.")
        if api_key.revoked_at is not None:
            raise Conflict("api_key_revoked", "This key is already revoked.")
        api_key.revoked_at = uow.clock.now()
        audit_service.record(uow, "api_key.revoked", subject=subject, target=api_key, target_label=api_key.prefix)
        return api_key

    async def authenticate(self, uow: UnitOfWork, secret: str, *, ip: str | None) -> Subject:
        invalid = Unauthorized("invalid_api_key", "The API key is missing, malformed, revoked or unknown.")
        if not secret.startswith(KEY_PREFIX) or len(secret) > 200:
            raise invalid
        api_key = await ApiKeyRepository(uow.session).by_hash(token_hash(uow.settings.softdukan_secret_key, secret))
        if api_key is None or api_key.revoked_at is not None:
            raise invalid
        org = await OrganizationRepository(uow.session).by_id(api_key.organization_id)
        if org is None or org.suspended_at is not None:
            raise Forbidden("organization_suspended", "This organization is suspended; its API keys don't work.")
        now = uow.clock.now()
        if api_key.last_used_at is None or now - api_key.last_used_at >= LAST_USED_GRANULARITY:
            api_key.last_used_at = now
        return Subject(kind="api_key", organization_id=api_key.organization_id,
                       permissions=frozenset(api_key.scopes), label=api_key.prefix, api_key_id=api_key.id, ip=ip)


api_key_service = ApiKeyService()
