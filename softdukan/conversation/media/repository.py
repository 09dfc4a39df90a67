"""Every query on stored media. Jobs pass the organization id they were given; reads for people pass the subject's
organization. The bytes (`data`) are loaded only by `data_of`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from softdukan.conversation.media.models import PENDING, MediaFile
from softdukan.kit.repository import Repository
from softdukan.kit.upsert import insert_ignore


class MediaRepository(Repository[MediaFile]):
    model = MediaFile

    async def ensure_pending(self, organization_id: int, message_id: int, *, media_id: str, mime_type: str,
                             filename: str | None, now: datetime) -> bool:
        """A pending row for the message (unique by message); True when it is new."""
        result = await self.session.execute(
            insert_ignore(self.session, MediaFile, ["message_id"]).returning(MediaFile.id),
            [{"organization_id": organization_id, "message_id": message_id, "media_id": media_id[:256],
              "state": PENDING, "mime_type": mime_type[:120], "size": 0, "filename": filename, "attempts": 0,
              "created_at": now, "updated_at": now}])
        return result.scalar_one_or_none() is not None

    async def for_message(self, organization_id: int, message_id: int) -> MediaFile | None:
        return await self.one_or_none(select(MediaFile).where(MediaFile.organization_id == organization_id,
                                                              MediaFile.message_id == message_id))

    async def for_messages(self, organization_id: int, message_ids: list[int]) -> dict[int, MediaFile]:
        if not message_ids:
            return {}
        rows = await self.all(select(MediaFile).where(MediaFile.organization_id == organization_id,
                                                      MediaFile.message_id.in_(message_ids)))
        return {row.message_id: row for row in rows}

    async def data_of(self, media: MediaFile) -> bytes:
        value = (await self.session.execute(select(MediaFile.data).where(MediaFile.id == media.id))).scalar_one()
        return bytes(value or b"")

    async def store(self, media: MediaFile, values: dict[str, object]) -> None:
        """Writes the outcome only while the row is still pending (a second run of the job changes nothing)."""
        await self.session.execute(update(MediaFile).where(MediaFile.id == media.id, MediaFile.state == PENDING)
                                   .values(**values).execution_options(synchronize_session=False))
