from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from softdukan.kit.ids import BodyId


class MemberOut(BaseModel):
    id: int = Field(description="membership id")
    user_id: int
    name: str
    email: str
    role_id: int
    role: str
    is_owner: bool
    joined_at: datetime


class MemberRoleIn(BaseModel):
    role_id: BodyId


class InvitationIn(BaseModel):
    email: str = Field(max_length=254)
    role_id: BodyId


class InvitationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    email: str
    role_id: int
    expires_at: datetime
    created_at: datetime
    accepted_at: datetime | None
    revoked_at: datetime | None


class OrganizationIn(BaseModel):
    name: str = Field(max_length=120)
    timezone: str = Field(max_length=64)
