"""Wire shapes of /v1/templates. A template's `components` are Meta's own (reference §9.1)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from softdukan.kit.ids import BodyId
from softdukan.template.models import MessageTemplate
from softdukan.template.variables import template_variables


class TemplateIn(BaseModel):
    """Meta's create body (reference §9.1). `account_id` picks the WhatsApp account when there are several."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "name": "order_shipped", "language": "en", "category": "UTILITY", "parameter_format": "POSITIONAL",
        "components": [{"type": "BODY", "text": "Hi {{1}}, your order {{2}} has shipped today.",
                        "example": {"body_text": [["Asha", "#1042"]]}}]}})

    account_id: BodyId | None = None
    name: str = Field(max_length=600)
    language: str = Field(max_length=20)
    category: str = Field(max_length=20)
    parameter_format: str | None = Field(default=None, max_length=20)
    components: list[Any] = Field(max_length=10)  # checked rule by rule, each broken rule named

    def definition(self) -> dict[str, Any]:
        return {"name": self.name, "language": self.language, "category": self.category,
                "parameter_format": self.parameter_format, "components": self.components}


class HeaderMediaOut(BaseModel):
    """A sample file uploaded to Meta for an image, video or document header: put `handle` in the header's
    `example.header_handle` (`{"type": "HEADER", "format": "IMAGE", "example": {"header_handle": [handle]}}`)."""

    handle: str = Field(description="Meta's handle of the uploaded file (4::…)")
    file_type: str
    file_size: int
    file_name: str
    account_id: int | None


class SyncIn(BaseModel):
    account_id: BodyId | None = None  # None: every connected account


class SyncOut(BaseModel):
    created: int
    updated: int
    removed: int


class TemplateOut(BaseModel):
    id: int
    account_id: int
    meta_template_id: str | None
    name: str
    language: str
    category: str
    previous_category: str | None
    parameter_format: str
    components: list[dict[str, Any]]
    variables: list[str] = Field(description="keys a send needs values for: header.1, body.first_name, button.0 …")
    status: str
    rejected_reason: str | None
    status_detail: str | None
    quality: str
    submitted_at: datetime | None
    synced_at: datetime | None
    created_at: datetime
    updated_at: datetime


class TemplatePage(BaseModel):
    data: list[TemplateOut]
    next_cursor: str | None


def template_out(t: MessageTemplate) -> TemplateOut:
    return TemplateOut(
        id=t.id, account_id=t.account_id, meta_template_id=t.meta_template_id, name=t.name, language=t.language,
        category=t.category, previous_category=t.previous_category, parameter_format=t.parameter_format,
        components=list(t.components or []), variables=[v.key for v in template_variables(t)], status=t.status,
        rejected_reason=t.rejected_reason, status_detail=t.status_detail, quality=t.quality,
        submitted_at=t.submitted_at, synced_at=t.synced_at, created_at=t.created_at, updated_at=t.updated_at)
