"""One stored media file per message.

Storage decision: the bytes live in the database (`data`, a BLOB on SQLite and `bytea` on PostgreSQL), deferred so
no query loads them unless asked. Why not files under var/media: the web process and the job workers may run on
different hosts in the Redis shape (no shared disk to assume), a row commits or rolls back together with its
state (no orphan files, no half-written file served), backups and tenant deletion (ON DELETE CASCADE from the
message) cover it with nothing extra, and it needs no new setting. The cost is database size: WhatsApp caps
files at 100 MB (reference §7.6), and a `storage` seam (`MediaFile.data` read in one place, repository.py) keeps
a later move to object storage local.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, deferred, mapped_column

from softdukan.kit.db import BigId, TenantModel, UTCDateTime, utcnow

# state
PENDING, STORED, FAILED = "pending", "stored", "failed"


class MediaFile(TenantModel):
    __tablename__ = "media_files"

    message_id: Mapped[int] = mapped_column(BigId, ForeignKey("messages.id", ondelete="CASCADE"), unique=True)
    media_id: Mapped[str | None] = mapped_column(String(256))  # Meta's media id it was fetched by
    state: Mapped[str] = mapped_column(String(10), default=PENDING)
    sha256: Mapped[str | None] = mapped_column(String(64))  # hex digest of the stored bytes
    mime_type: Mapped[str] = mapped_column(String(120), default="application/octet-stream")
    size: Mapped[int] = mapped_column(Integer, default=0)
    filename: Mapped[str | None] = mapped_column(String(255))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error_code: Mapped[int | None] = mapped_column(Integer)  # Meta's code when Meta refused
    error: Mapped[str | None] = mapped_column(String(300))  # why it could not be stored (permanent)
    stored_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    data: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
