"""Fetching a message's media from Meta (reference §4): `GET /{media-id}` gives a URL valid 5 minutes, then the URL
is downloaded with the account's token. One job per message, at most one stored file per message.

- Ids from webhooks live 7 days (§4): an older inbound message is not fetched (the file is gone at Meta).
- Size limits of §7.6 per kind, checked on Meta's `file_size` before downloading and while downloading.
- Transient failures (network, timeouts, Meta's retryable codes) retry with backoff up to MAX_ATTEMPTS; a
  permanent one (unknown or expired id, too large, …) is recorded on the message's media row (`state` failed,
  `error_code`, `error`), which the thread and /v1 show.

    await request_media(uow, message)        # routing: a message with a media id was stored
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from typing import Any

import structlog

from softdukan.conversation.events import MessageMediaChanged
from softdukan.conversation.media.models import FAILED, PENDING, STORED, MediaFile
from softdukan.conversation.media.repository import MediaRepository
from softdukan.conversation.models import INBOUND, Message
from softdukan.conversation.repository import MessageRepository
from softdukan.number.graph import account_client
from softdukan.number.service import number_and_account
from softdukan.platform.jobs.queue import backoff
from softdukan.platform.jobs.registry import task
from softdukan.platform.uow import UnitOfWork
from softdukan.whatsapp.errors import GraphError

log = structlog.get_logger(__name__)

FETCH_TASK = "conversation.fetch_media"
MEDIA_TYPES = frozenset({"image", "video", "audio", "sticker", "document"})
MAX_ATTEMPTS = 6
WEBHOOK_ID_LIFETIME = timedelta(days=7)
_KB, _MB = 1024, 1024 * 1024
MAX_BYTES = {"image": 5 * _MB, "video": 16 * _MB, "audio": 16 * _MB, "sticker": 500 * _KB, "document": 100 * _MB}
_MIME = re.compile(r"^[a-z0-9][a-z0-9.+\-]{0,60}/[a-z0-9][a-z0-9.+\-]{0,60}$")
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\\"<>|:*?]")


def clean_mime(value: Any) -> str | None:
    base = value.split(";", 1)[0].strip().lower() if isinstance(value, str) else ""
    return base if _MIME.fullmatch(base) else None


def clean_filename(value: Any) -> str | None:
    """A display/download name: no folders, quotes or control characters; None when nothing is left."""
    if not isinstance(value, str):
        return None
    name = _UNSAFE_NAME.sub("_", value.strip()).strip(". ")
    return name[:200] or None


def media_id_of(message: Message) -> str | None:
    """Meta's media id of a media message: `media_id` in parsed webhook content, `id` in Meta's send shape."""
    if message.type not in MEDIA_TYPES:
        return None
    content = message.content or {}
    value = content.get("media_id") or content.get("id")
    return value if isinstance(value, str) and 0 < len(value) <= 256 else None


async def request_media(uow: UnitOfWork, message: Message) -> bool:
    """A stored message carries a media id: its pending media row and the fetch job (same transaction)."""
    media_id = media_id_of(message)
    if media_id is None:
        return False
    content = message.content or {}
    new = await MediaRepository(uow.session).ensure_pending(
        message.organization_id, message.id, media_id=media_id,
        mime_type=clean_mime(content.get("mime_type")) or "application/octet-stream",
        filename=clean_filename(content.get("filename")), now=uow.clock.now())
    if new:
        uow.enqueue(FETCH_TASK, organization_id=message.organization_id, org_id=message.organization_id,
                    message_id=message.id)
    return new


def _changed(uow: UnitOfWork, message: Message, state: str) -> None:
    uow.emit(MessageMediaChanged(organization_id=message.organization_id, conversation_id=message.conversation_id,
                                 message_id=message.id, state=state))


async def _fail(uow: UnitOfWork, message: Message, media: MediaFile, error: str, code: int | None = None) -> None:
    await MediaRepository(uow.session).store(media, {"state": FAILED, "error": error[:300], "error_code": code,
                                                     "attempts": media.attempts + 1, "updated_at": uow.clock.now()})
    _changed(uow, message, FAILED)
    log.info("media_fetch_failed", message_id=media.message_id, error=error, code=code)


@task(FETCH_TASK, max_attempts=3)
async def fetch_media(uow: UnitOfWork, org_id: int, message_id: int, attempt: int = 1) -> None:
    media = await MediaRepository(uow.session).for_message(org_id, message_id)
    message = await MessageRepository(uow.session).by_id(org_id, message_id)
    if media is None or message is None or media.state != PENDING or not media.media_id:
        return  # stored or failed by an earlier run
    now = uow.clock.now()
    if message.direction == INBOUND and now - message.occurred_at > WEBHOOK_ID_LIFETIME:
        await _fail(uow, message, media, "The file expired at WhatsApp (media of received messages is kept 7 days).")
        return
    found = await number_and_account(uow, org_id, message.phone_number_id)
    if found is None:
        await _fail(uow, message, media, "The number this message belongs to is no longer connected.")
        return
    phone, account = found
    limit = MAX_BYTES.get(message.type, MAX_BYTES["document"])
    media_id, phone_number_id = media.media_id, phone.phone_number_id
    await uow.release()  # no transaction held while Meta answers
    try:
        async with account_client(uow.runtime, account) as client:
            info = await client.get_media(media_id, phone_number_id=phone_number_id)
            if info.file_size is not None and info.file_size > limit:
                await _fail(uow, message, media, f"The file is larger than WhatsApp allows for a {message.type} "
                                        f"({limit // _KB} KB).")
                return
            data = await client.download_media(info.url, max_bytes=limit)
    except GraphError as exc:
        if exc.retryable and attempt < MAX_ATTEMPTS:
            await MediaRepository(uow.session).store(media, {"attempts": attempt, "updated_at": uow.clock.now()})
            uow.enqueue(FETCH_TASK, run_at=uow.clock.now() + backoff(attempt), organization_id=org_id,
                        org_id=org_id, message_id=message_id, attempt=attempt + 1)
            return
        await _fail(uow, message, media, str(exc) or exc.kind, None if exc.body.malformed else exc.code)
        return
    if not data:
        await _fail(uow, message, media, "WhatsApp sent an empty file.")
        return
    mime = clean_mime(info.mime_type) or media.mime_type
    await MediaRepository(uow.session).store(media, {
        "state": STORED, "data": data, "size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
        "mime_type": mime, "attempts": attempt, "error": None, "error_code": None, "stored_at": uow.clock.now(),
        "updated_at": uow.clock.now()})
    _changed(uow, message, STORED)
