"""/v1/policies: the policy documents, public (no API key needed: anyone may read them, clause 9)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from softdukan.platform.deps import UoW
from softdukan.platform.http import error_responses
from softdukan.policy.models import KINDS, PolicyVersion
from softdukan.policy.service import SLUGS, kind_of, policy_service

router = APIRouter(tags=["policies"])
PUBLIC: dict[str, object] = {"security": []}  # OpenAPI: these need no API key (the schema's default is one)
Kind = Annotated[str, Path(max_length=40, description="refund_policy, terms or privacy ('-' may stand for '_')")]
Number = Annotated[int, Path(ge=1, le=1_000_000)]


class PolicyVersionOut(BaseModel):
    kind: str
    number: int
    title: str
    body: str = Field(description="Markdown")
    change_summary: str
    effective_at: datetime
    url: str = Field(description="the public page of this version")


class PolicyOut(PolicyVersionOut):
    history_url: str


def _out(version: PolicyVersion) -> PolicyVersionOut:
    return PolicyVersionOut(kind=version.kind, number=version.number, title=version.title, body=version.body,
                            change_summary=version.change_summary, effective_at=version.effective_at,
                            url=f"/legal/{SLUGS[version.kind]}/versions/{version.number}")


def _current(version: PolicyVersion) -> PolicyOut:
    return PolicyOut(**_out(version).model_dump(), history_url=f"/legal/{SLUGS[version.kind]}/versions")


@router.get("/policies", response_model=list[PolicyOut], openapi_extra=PUBLIC)
async def list_policies(uow: UoW) -> list[PolicyOut]:
    """The current version of each policy document."""
    current = await policy_service.current_of_each(uow)
    return [_current(current[kind]) for kind in KINDS]


@router.get("/policies/{kind}", response_model=PolicyOut, responses=error_responses(404),
            openapi_extra=PUBLIC)
async def get_policy(uow: UoW, kind: Kind) -> PolicyOut:
    return _current(await policy_service.current(uow, kind_of(kind)))


@router.get("/policies/{kind}/versions", response_model=list[PolicyVersionOut], responses=error_responses(404),
            openapi_extra=PUBLIC)
async def policy_versions(uow: UoW, kind: Kind) -> list[PolicyVersionOut]:
    """Every version, newest first; each was in force from its `effective_at` until the next one's."""
    return [_out(v) for v in await policy_service.history(uow, kind_of(kind))]


@router.get("/policies/{kind}/versions/{number}", response_model=PolicyVersionOut, responses=error_responses(404),
            openapi_extra=PUBLIC)
async def policy_version(uow: UoW, kind: Kind, number: Number) -> PolicyVersionOut:
    return _out(await policy_service.version(uow, kind_of(kind), number))
