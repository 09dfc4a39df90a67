"""Serving stored media to people (dashboard) and programs (/v1), scoped to the acting subject's organization.

Safety: the bytes came from a customer. Only types a browser shows as media (jpeg, png, webp, gif, mp4, 3gpp,
aac, amr, mpeg, mp4/ogg audio) are served inline; everything else, documents included, is an attachment, and a
type a browser would run (HTML, SVG, XML, JavaScript …) is served as application/octet-stream. Every answer carries
`X-Content-Type-Options: nosniff` and a CSP that forbids scripts, in case a file is opened directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from fastapi.responses import Response

from softdukan.auth.subject import Subject
from softdukan.conversation import listing
from softdukan.conversation.media.models import FAILED, PENDING, MediaFile
from softdukan.conversation.media.repository import MediaRepository
from softdukan.conversation.models import Message
from softdukan.platform.errors import Conflict, Gone, NotFound
from softdukan.platform.uow import UnitOfWork

INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif", "video/mp4", "video/3gpp",
                          "audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg", "audio/opus"})
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/gif": "gif", "video/mp4": "mp4",
              "video/3gpp": "3gp", "audio/aac": "aac", "audio/amr": "amr", "audio/mpeg": "mp3", "audio/mp4": "m4a",
              "audio/ogg": "ogg", "application/pdf": "pdf", "text/plain": "txt"}
# types a browser may execute or render as a page: never served under their own type
ACTIVE_TYPES = frozenset({"text/html", "application/xhtml+xml", "image/svg+xml", "text/xml", "application/xml",
                          "text/javascript", "application/javascript", "text/css", "application/x-shockwave-flash"})


@dataclass(frozen=True)
class StoredMedia:
    message: Message
    media: MediaFile
    data: bytes


async def stored_media(uow: UnitOfWork, subject: Subject, message_id: int, *, conversation_id: int | None = None
                       ) -> StoredMedia:
    """The stored file of a message of the subject's organization; 404 (another organization's id, no media),
    409 (still being fetched) or 410 (could not be fetched, with the reason)."""
    message = await listing.message(uow, subject, message_id, conversation_id=conversation_id)  # checks the read
    repository = MediaRepository(uow.session)
    media = await repository.for_message(subject.organization_id, message.id)
    if media is None:
        raise NotFound("media_not_found", "This message has no stored file.")
    if media.state == PENDING:
        raise Conflict("media_not_ready", "The file is still being fetched from WhatsApp. Try again in a moment.")
    if media.state == FAILED:
        raise Gone("media_unavailable", f"The file could not be fetched from WhatsApp: {media.error or 'unknown'}",
                   {"error_code": media.error_code})
    return StoredMedia(message, media, await repository.data_of(media))


def download_name(message: Message, media: MediaFile) -> str:
    if media.filename:
        return media.filename
    extension = EXTENSIONS.get(media.mime_type, "bin")
    return f"whatsapp-{message.type}-{message.id}.{extension}"


def media_response(stored: StoredMedia) -> Response:
    media, message = stored.media, stored.message
    mime = media.mime_type
    inline = message.type != "document" and mime in INLINE_TYPES
    served_type = "application/octet-stream" if mime in ACTIVE_TYPES or mime.startswith("text/html") else mime
    if served_type.startswith("text/"):
        served_type += "; charset=utf-8"
    name = download_name(message, media)
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_")
    disposition = f"{'inline' if inline else 'attachment'}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
    headers = {"Content-Disposition": disposition, "X-Content-Type-Options": "nosniff",
               "Content-Security-Policy": "default-src 'none'; sandbox", "Cache-Control": "private, max-age=3600"}
    if media.sha256:
        headers["ETag"] = f'"{media.sha256}"'
    return Response(content=stored.data, media_type=served_type, headers=headers)
