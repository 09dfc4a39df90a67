"""Wire shapes of /v1/segments. A definition is a JSON tree; segment/definition.py documents its fields."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from softdukan.contact.schemas import ContactOut
from softdukan.segment.models import Segment
from softdukan.segment.service import Count

DEFINITION_HELP = ('{"all" | "any": [conditions or nested groups]}; a condition is {"field", "op", "value"} '
                   '(attributes add "key"). Fields: tags, attribute, consent, last_inbound, window, source, '
                   'conversation. Example: {"all": [{"field": "tags", "op": "has_any", "value": ["VIP"]}, '
                   '{"field": "consent", "op": "is", "value": "opted_in"}]}')


class SegmentIn(BaseModel):
    name: str = Field(max_length=200)
    definition: dict[str, Any] = Field(default_factory=dict, description=DEFINITION_HELP)


class SegmentPatch(BaseModel):
    name: str | None = Field(default=None, max_length=200)
    definition: dict[str, Any] | None = Field(default=None, description=DEFINITION_HELP)


class PreviewIn(BaseModel):
    definition: dict[str, Any] = Field(default_factory=dict, description=DEFINITION_HELP)


class SegmentOut(BaseModel):
    id: int
    name: str
    definition: dict[str, Any]
    contact_count: int | None = Field(description="Contacts in the segment now (null when it can't be counted)")
    problems: dict[str, str] | None = Field(description="Why it can't be counted: condition path → message")
    created_by: str
    created_at: datetime
    updated_at: datetime


class SegmentSummary(BaseModel):
    id: int
    name: str
    definition: dict[str, Any]
    created_by: str
    created_at: datetime
    updated_at: datetime


class SegmentPage(BaseModel):
    data: list[SegmentSummary]
    next_cursor: str | None


class PreviewOut(BaseModel):
    count: int
    contacts: list[ContactOut] = Field(description="The newest few contacts of the audience")


class MemberPageOut(BaseModel):
    data: list[ContactOut]
    next_cursor: str | None


def segment_summary(s: Segment) -> SegmentSummary:
    return SegmentSummary(id=s.id, name=s.name, definition=dict(s.definition or {}), created_by=s.created_by_label,
                          created_at=s.created_at, updated_at=s.updated_at)


def segment_out(s: Segment, count: Count) -> SegmentOut:
    return SegmentOut(id=s.id, name=s.name, definition=dict(s.definition or {}), contact_count=count.value,
                      problems=count.problems, created_by=s.created_by_label, created_at=s.created_at,
                      updated_at=s.updated_at)
