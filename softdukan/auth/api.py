"""/v1: who am I, permissions, roles and API keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from softdukan.auth.api_keys import api_key_service
from softdukan.auth.models import ApiKey, Role
from softdukan.auth.permissions import PERMISSIONS
from softdukan.auth.roles import role_service
from softdukan.auth.schemas import (
    ApiKeyCreated,
    ApiKeyIn,
    ApiKeyOut,
    MeOut,
    OrganizationOut,
    PermissionOut,
    RoleIn,
    RoleOut,
)
from softdukan.auth.subject import Subject
from softdukan.kit.ids import PathId
from softdukan.organization.service import organization_service
from softdukan.platform.deps import Requires, UoW, api_subject
from softdukan.platform.http import error_responses

router = APIRouter(tags=["account"])
AnyKey = Annotated[Subject, Depends(api_subject)]


@router.get("/me", response_model=MeOut, responses=error_responses())
async def get_me(uow: UoW, subject: AnyKey) -> MeOut:
    """The organization this key belongs to and its scopes. Needs no particular scope."""
    org = await organization_service.get(uow, subject)
    return MeOut(organization=OrganizationOut.model_validate(org), kind=subject.kind,
                 scopes=sorted(subject.permissions),
                 api_key_prefix=subject.label if subject.kind == "api_key" else None)


@router.get("/permissions", response_model=list[PermissionOut], responses=error_responses())
async def list_permissions(subject: AnyKey) -> list[PermissionOut]:
    return [PermissionOut(name=name, description=text) for name, text in PERMISSIONS.items()]


@router.get("/roles", response_model=list[RoleOut], responses=error_responses())
async def list_roles(uow: UoW, subject: Requires["roles:read"]) -> list[Role]:
    return await role_service.list(uow, subject)


@router.post("/roles", response_model=RoleOut, status_code=201, responses=error_responses(409))
async def create_role(body: RoleIn, uow: UoW, subject: Requires["roles:write"]) -> Role:
    return await role_service.create(uow, subject, name=body.name, description=body.description,
                                     permissions=body.permissions)


@router.get("/roles/{role_id}", response_model=RoleOut, responses=error_responses(404))
async def get_role(role_id: PathId, uow: UoW, subject: Requires["roles:read"]) -> Role:
    return await role_service.get(uow, subject, role_id)


@router.put("/roles/{role_id}", response_model=RoleOut, responses=error_responses(404, 409))
async def update_role(role_id: PathId, body: RoleIn, uow: UoW, subject: Requires["roles:write"]) -> Role:
    return await role_service.update(uow, subject, role_id, name=body.name, description=body.description,
                                     permissions=body.permissions)


@router.delete("/roles/{role_id}", status_code=204, responses=error_responses(404, 409))
async def delete_role(role_id: PathId, uow: UoW, subject: Requires["roles:write"]) -> Response:
    await role_service.delete(uow, subject, role_id)
    return Response(status_code=204)


@router.get("/api-keys", response_model=list[ApiKeyOut], responses=error_responses())
async def list_api_keys(uow: UoW, subject: Requires["api_keys:read"]) -> list[ApiKey]:
    return await api_key_service.list(uow, subject)


@router.post("/api-keys", response_model=ApiKeyCreated, status_code=201, responses=error_responses())
async def create_api_key(body: ApiKeyIn, uow: UoW, subject: Requires["api_keys:write"]) -> ApiKeyCreated:
    created = await api_key_service.create(uow, subject, name=body.name, scopes=body.scopes)
    return ApiKeyCreated.model_validate({**ApiKeyOut.model_validate(created.api_key).model_dump(),
                                         "key": created.secret})


@router.delete("/api-keys/{key_id}", response_model=ApiKeyOut, responses=error_responses(404, 409))
async def revoke_api_key(key_id: PathId, uow: UoW, subject: Requires["api_keys:write"]) -> ApiKey:
    return await api_key_service.revoke(uow, subject, key_id)
