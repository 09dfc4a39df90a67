"""/v1/audit-events"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from softdukan.audit.models import AuditEvent
from softdukan.audit.service import audit_service
from softdukan.kit.ids import MAX_ID
from softdukan.platform.deps import Requires, UoW
from softdukan.platform.http import error_responses

router = APIRouter(tags=["audit"])


class AuditEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    action: str
    actor_type: str
    actor_id: int | None
    actor_label: str
    target_type: str | None
    target_id: int | None
    target_label: str | None
    ip: str | None
    details: dict[str, Any]
    created_at: datetime


@router.get("/audit-events", response_model=list[AuditEventOut], responses=error_responses())
async def list_audit_events(
    uow: UoW, subject: Requires["audit:read"],
    action: str | None = Query(default=None, max_length=60, description="prefix, e.g. 'member.'"),
    actor: str | None = Query(default=None, max_length=254, description="part of the actor's e-mail or key prefix"),
    since: datetime | None = None, until: datetime | None = None,
    before_id: Annotated[int | None, Query(ge=1, le=MAX_ID,
                                           description="page: the smallest id of the previous page")] = None,
    limit: int = Query(default=50, ge=1, le=200),
) -> list[AuditEvent]:
    return await audit_service.search(uow, subject, action=action, actor=actor, since=since, until=until,
                                      before_id=before_id, limit=limit)
