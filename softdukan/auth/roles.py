"""Custom roles: named sets of permissions. Built-in roles are fixed."""

from __future__ import annotations

from softdukan.audit.service import audit_service
from softdukan.auth.models import Role
from softdukan.auth.permissions import BUILTIN_ROLES, unknown
from softdukan.auth.repository import RoleRepository
from softdukan.auth.service import check_description, clean_name
from softdukan.auth.subject import Subject
from softdukan.organization.repository import MembershipRepository
from softdukan.platform.errors import Conflict, Forbidden, Invalid, NotFound
from softdukan.platform.uow import UnitOfWork


class RoleService:
    async def list(self, uow: UnitOfWork, subject: Subject) -> list[Role]:
        subject.require("roles:read")
        return await RoleRepository(uow.session).list(subject)

    async def get(self, uow: UnitOfWork, subject: Subject, role_id: int) -> Role:
        subject.require("roles:read")
        role = await RoleRepository(uow.session).get(subject, role_id)
        if role is None:
            raise NotFound("role_not_found", "No such role in this organization.")
        return role

    def _clean(self, subject: Subject, name: str, permissions: list[str],
               description: str | None = None) -> tuple[str, list[str]]:
        # lower-cased before the length check: some letters grow (İ → i̇), and the column holds 60
        name = clean_name(clean_name(name, "name", "Role name").lower(), "name", "Role name", max_length=60)
        check_description(description)
        if name in BUILTIN_ROLES:
            raise Conflict("role_name_reserved", f"'{name}' is a built-in role name.", {"name": "Reserved."})
        if bad := unknown(permissions):
            raise Invalid("unknown_permission", f"Unknown permissions: {', '.join(bad)}.", {"permissions": bad})
        if not permissions:
            raise Invalid("no_permissions", "Choose at least one permission.", {"permissions": "Choose one."})
        if not subject.is_owner and not set(permissions) <= subject.permissions:
            raise Forbidden("role_exceeds_yours", "A role can't have permissions you don't have yourself.")
        return name, sorted(set(permissions))

    async def _unique(self, uow: UnitOfWork, subject: Subject, name: str, role_id: int | None = None) -> None:
        existing = await RoleRepository(uow.session).by_name(subject.organization_id, name)
        if existing is not None and existing.id != role_id:
            raise Conflict("role_name_taken", f"A role named '{name}' exists.", {"name": "Already used."})

    async def create(self, uow: UnitOfWork, subject: Subject, *, name: str, description: str | None,
                     permissions: list[str]) -> Role:
        subject.require("roles:write")
        name, permissions = self._clean(subject, name, permissions, description)
        await self._unique(uow, subject, name)
        role = Role(organization_id=subject.organization_id, name=name, description=description or None,
                    permissions=permissions, is_builtin=False, created_at=uow.clock.now())
        uow.session.add(role)
        await uow.flush()
        audit_service.record(uow, "role.created", subject=subject, target=role, target_label=name,
                             permissions=permissions)
        return role

    async def update(self, uow: UnitOfWork, subject: Subject, role_id: int, *, name: str,
                     description: str | None, permissions: list[str]) -> Role:
        subject.require("roles:write")
        role = await self.get(uow, subject, role_id)
        if role.is_builtin:
            raise Forbidden("builtin_role", "Built-in roles can't be changed; create a custom role instead.")
        name, permissions = self._clean(subject, name, permissions, description)
        await self._unique(uow, subject, name, role.id)
        before = role.permissions
        role.name, role.description, role.permissions = name, description or None, permissions
        audit_service.record(uow, "role.updated", subject=subject, target=role, target_label=name,
                             before=before, after=permissions)
        return role

    async def delete(self, uow: UnitOfWork, subject: Subject, role_id: int) -> None:
        subject.require("roles:write")
        role = await self.get(uow, subject, role_id)
        if role.is_builtin:
            raise Forbidden("builtin_role", "Built-in roles can't be deleted.")
        if await MembershipRepository(uow.session).count_with_role(subject, role.id):
            raise Conflict("role_in_use", "Members still have this role; give them another role first.")
        await RoleRepository(uow.session).delete(role)
        audit_service.record(uow, "role.deleted", subject=subject, target=role, target_label=role.name)


role_service = RoleService()
