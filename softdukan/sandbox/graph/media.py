"""Media: upload (multipart, MIME and size table, lifetimes), URL (5 minutes), download (Bearer), delete
(reference §4, §7.6)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import timedelta
from typing import Any

from fastapi import Request
from sqlalchemy import select
from starlette.datastructures import UploadFile

from softdukan.platform.uow import UnitOfWork
from softdukan.sandbox.graph.access import Caller
from softdukan.sandbox.graph.errors import GraphFault, unknown_object
from softdukan.sandbox.graph.ids import object_id
from softdukan.sandbox.models import SandboxMedia, SandboxPhoneNumber, SandboxWaba

MB = 1024 * 1024
LIMITS: dict[str, int] = {
    "audio/aac": 16 * MB,
    "audio/amr": 16 * MB,
    "audio/mpeg": 16 * MB,
    "audio/mp4": 16 * MB,
    "audio/ogg": 16 * MB,
    "text/plain": 100 * MB,
    "application/pdf": 100 * MB,
    "application/vnd.ms-excel": 100 * MB,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": 100 * MB,
    "application/msword": 100 * MB,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": 100 * MB,
    "application/vnd.ms-powerpoint": 100 * MB,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": 100 * MB,
    "image/jpeg": 5 * MB,
    "image/png": 5 * MB,
    "image/webp": 500 * 1024,
    "video/mp4": 16 * MB,
    "video/3gpp": 16 * MB,
}
UPLOAD_TTL = timedelta(days=30)
URL_TTL = timedelta(minutes=5)


def _base_mime(mime: str) -> str:
    return mime.split(";")[0].strip().lower()


async def upload(uow: UnitOfWork, phone: SandboxPhoneNumber, request: Request) -> dict[str, Any]:
    try:
        form = await request.form(max_part_size=101 * MB)
    except Exception:  # not multipart, or a broken body: Graph answers with a parameter error
        raise GraphFault(100, "Upload the file as multipart/form-data with a 'file' part.") from None
    file = form.get("file")
    if not isinstance(file, UploadFile):
        raise GraphFault(100, "The parameter file is required.")
    if str(form.get("messaging_product", "")).lower() != "whatsapp":
        raise GraphFault(100, "The parameter messaging_product is required.")
    mime = _base_mime(str(form.get("type") or file.content_type or ""))
    data = await file.read()
    if mime not in LIMITS:
        raise GraphFault(131053, f"Unsupported file type {mime or 'unknown'}.")
    if not data:
        raise GraphFault(131053, "The uploaded file is empty.")
    if len(data) > LIMITS[mime]:
        raise GraphFault(131053, f"The file is {len(data)} bytes; {mime} files may be at most {LIMITS[mime]} bytes.")
    ttl = UPLOAD_TTL
    if form.get("ttl_minutes"):
        try:
            minutes = int(str(form.get("ttl_minutes")))
        except ValueError:
            raise GraphFault(100, "Param ttl_minutes must be an integer.") from None
        if not 1 <= minutes <= 43200:
            raise GraphFault(100, "Param ttl_minutes must be between 1 and 43200.")
        ttl = timedelta(minutes=minutes)
    waba = await uow.session.get(SandboxWaba, phone.waba_pk)
    media = SandboxMedia(
        media_id=object_id(),
        phone_pk=phone.id,
        business_pk=waba.business_pk if waba else None,
        origin="upload",
        mime_type=mime,
        filename=file.filename,
        sha256=hashlib.sha256(data).hexdigest(),
        file_size=len(data),
        data=data,
        expires_at=uow.clock.now() + ttl,
    )
    uow.session.add(media)
    await uow.flush()
    return {"id": media.media_id}


async def media_for(uow: UnitOfWork, caller: Caller, media_id: str, method: str = "get") -> SandboxMedia:
    media = (
        await uow.session.execute(select(SandboxMedia).where(SandboxMedia.media_id == media_id))
    ).scalar_one_or_none()
    if (
        media is None
        or media.deleted_at is not None
        or media.expires_at <= uow.clock.now()
        or media.business_pk != caller.business.id
    ):
        raise unknown_object(media_id, method)
    return media


def _signature(uow: UnitOfWork, media_id: str, expires: int) -> str:
    digest = hmac.new(
        uow.settings.softdukan_secret_key.encode(), f"sandbox-media:{media_id}:{expires}".encode(), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def hex_sha256(stored: str) -> str:
    """GET /{media-id} answers the hex digest (webhooks carry base64). Rows stored base64 by older sandboxes
    are converted."""
    if len(stored) == 64:
        return stored
    try:
        return base64.b64decode(stored).hex()
    except ValueError:
        return stored


def info(uow: UnitOfWork, media: SandboxMedia, base_url: str) -> dict[str, Any]:
    expires = int((uow.clock.now() + URL_TTL).timestamp())
    url = (
        f"{base_url}/_sandbox/media/{media.media_id}/download?ext={expires}"
        f"&hash={_signature(uow, media.media_id, expires)}"
    )
    return {
        "messaging_product": "whatsapp",
        "url": url,
        "mime_type": media.mime_type,
        "sha256": hex_sha256(media.sha256),
        "file_size": str(media.file_size),
        "id": media.media_id,
    }


async def download(uow: UnitOfWork, caller: Caller, media_id: str, ext: str, signature: str) -> SandboxMedia:
    try:
        expires = int(ext)
    except ValueError:
        raise GraphFault(100, "Not found.", status=404) from None
    if expires < uow.clock.now().timestamp() or not hmac.compare_digest(signature, _signature(uow, media_id, expires)):
        raise GraphFault(100, "The media URL expired; get a new one from GET /{media-id}.", status=404)
    return await media_for(uow, caller, media_id)


async def delete(uow: UnitOfWork, media: SandboxMedia) -> dict[str, Any]:
    media.deleted_at = uow.clock.now()
    return {"success": True}
