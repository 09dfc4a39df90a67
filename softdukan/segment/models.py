"""Segments: an organization's saved filters over its contacts, usable as broadcast audiences.

`definition` is a tree (see segment/definition.py): {"all" | "any": [condition or nested group, …]}; it is compiled
into one SQL select over contacts when it is counted or listed, so a segment always reflects today's contacts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from softdukan.kit.db import BigId, TenantModel, utcnow


class Segment(TenantModel):
    __tablename__ = "segments"
    __table_args__ = (UniqueConstraint("organization_id", "name_key"),)

    name: Mapped[str] = mapped_column(String(100))
    name_key: Mapped[str] = mapped_column(String(100))  # case-folded: "VIP buyers" and "vip buyers" are one name
    definition: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    created_by_label: Mapped[str] = mapped_column(String(254))  # the member's e-mail or the API key's prefix
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
