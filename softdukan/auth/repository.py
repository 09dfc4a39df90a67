"""Queries on users, sessions, resets, roles and API keys."""

from __future__ import annotations

from sqlalchemy import Select, select

from softdukan.auth.models import ApiKey, PasswordReset, Role, User, UserSession
from softdukan.auth.subject import Subject
from softdukan.kit.repository import Repository


class UserRepository(Repository[User]):
    model = User

    async def by_email(self, email: str) -> User | None:
        return await self.one_or_none(select(User).where(User.email == email.strip().lower()))

    async def by_id(self, user_id: int) -> User | None:
        return await self.session.get(User, user_id)


class SessionRepository(Repository[UserSession]):
    model = UserSession

    async def by_token_hash(self, token_hash: str) -> UserSession | None:
        return await self.one_or_none(select(UserSession).where(UserSession.token_hash == token_hash))

    async def for_user(self, user_id: int) -> list[UserSession]:
        return await self.all(select(UserSession).where(UserSession.user_id == user_id))


class PasswordResetRepository(Repository[PasswordReset]):
    model = PasswordReset

    async def by_token_hash(self, token_hash: str) -> PasswordReset | None:
        return await self.one_or_none(select(PasswordReset).where(PasswordReset.token_hash == token_hash))


class RoleRepository(Repository[Role]):
    model = Role

    def readable(self, subject: Subject) -> Select[tuple[Role]]:
        return select(Role).where(Role.organization_id == subject.organization_id)

    async def get(self, subject: Subject, role_id: int) -> Role | None:
        return await self.one_or_none(self.readable(subject).where(Role.id == role_id))

    async def by_name(self, organization_id: int, name: str) -> Role | None:
        return await self.one_or_none(
            select(Role).where(Role.organization_id == organization_id, Role.name == name))

    async def list(self, subject: Subject) -> list[Role]:
        return await self.all(self.readable(subject).order_by(Role.is_builtin.desc(), Role.id))

    async def by_id_in_org(self, organization_id: int, role_id: int) -> Role | None:
        return await self.one_or_none(
            select(Role).where(Role.organization_id == organization_id, Role.id == role_id))


class ApiKeyRepository(Repository[ApiKey]):
    model = ApiKey

    def readable(self, subject: Subject) -> Select[tuple[ApiKey]]:
        return select(ApiKey).where(ApiKey.organization_id == subject.organization_id)

    async def get(self, subject: Subject, key_id: int) -> ApiKey | None:
        return await self.one_or_none(self.readable(subject).where(ApiKey.id == key_id))

    async def list(self, subject: Subject) -> list[ApiKey]:
        return await self.all(self.readable(subject).order_by(ApiKey.id.desc()))

    async def by_hash(self, key_hash: str) -> ApiKey | None:
        """Authentication lookup: the key itself is the credential, before any subject exists."""
        return await self.one_or_none(select(ApiKey).where(ApiKey.key_hash == key_hash))
