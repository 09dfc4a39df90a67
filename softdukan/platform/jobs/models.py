"""The durable jobs table: written in the caller's transaction, so a job exists iff its change committed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from softdukan.kit.db import BigId, Model

QUEUED, RUNNING, DONE, DEAD = "queued", "running", "done", "dead"


class Job(Model):
    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_claim", "status", "run_at"),)

    name: Mapped[str] = mapped_column(String(100))
    args: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(10), default=QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=5)
    run_at: Mapped[datetime]
    lease_expires_at: Mapped[datetime | None]
    # set by the Dramatiq relay once the job was handed to Redis; cleared when it must be sent again
    relayed_at: Mapped[datetime | None]
    # a job with a unique key is enqueued at most once (scheduler slots, one-shot effects)
    unique_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime | None]
    organization_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
