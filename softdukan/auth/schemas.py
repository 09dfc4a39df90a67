from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class OrganizationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    timezone: str
    country_code: str
    created_at: datetime


class MeOut(BaseModel):
    organization: OrganizationOut
    kind: str = Field(description="user or api_key")
    scopes: list[str]
    api_key_prefix: str | None = None


class RoleIn(BaseModel):
    name: str = Field(max_length=60)
    description: str | None = Field(default=None, max_length=300)
    permissions: list[str]


class RoleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    description: str | None
    permissions: list[str]
    is_builtin: bool


class ApiKeyIn(BaseModel):
    name: str = Field(max_length=100)
    scopes: list[str]


class ApiKeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The whole key. Shown once: store it now.")


class PermissionOut(BaseModel):
    name: str
    description: str
