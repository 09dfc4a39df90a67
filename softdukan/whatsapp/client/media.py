"""Media: upload (multipart), URL lookup, download with the token, delete (reference §4, limits §7.6)."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from softdukan.whatsapp.client.http import (
    GraphBase,
    GraphTransportError,
    UnexpectedResponseError,
    _decode,
    expect_object,
    expect_str,
    expect_success,
    path_id,
)
from softdukan.whatsapp.client.types import MediaInfo
from softdukan.whatsapp.messages import MessageValidationError

_KB = 1024
_MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class MediaKind:
    kind: str
    max_bytes: int
    label: str


_AUDIO = MediaKind("audio", 16 * _MB, "16 MB")
_DOCUMENT = MediaKind("document", 100 * _MB, "100 MB")
_IMAGE = MediaKind("image", 5 * _MB, "5 MB")
_VIDEO = MediaKind("video", 16 * _MB, "16 MB")
_STICKER_STATIC = MediaKind("sticker", 100 * _KB, "100 KB for a static sticker")
_STICKER_ANIMATED = MediaKind("sticker", 500 * _KB, "500 KB for an animated sticker")

# §7.6: the formats WhatsApp accepts, by MIME type.
MEDIA_TYPES: dict[str, MediaKind] = {
    "audio/aac": _AUDIO,
    "audio/amr": _AUDIO,
    "audio/mpeg": _AUDIO,  # mp3
    "audio/mp4": _AUDIO,  # m4a
    "audio/ogg": _AUDIO,  # OPUS codec only, mono
    "text/plain": _DOCUMENT,
    "application/vnd.ms-excel": _DOCUMENT,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": _DOCUMENT,
    "application/msword": _DOCUMENT,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": _DOCUMENT,
    "application/vnd.ms-powerpoint": _DOCUMENT,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": _DOCUMENT,
    "application/pdf": _DOCUMENT,
    "image/jpeg": _IMAGE,
    "image/png": _IMAGE,
    "image/webp": _STICKER_STATIC,
    "video/mp4": _VIDEO,
    "video/3gpp": _VIDEO,
}
DOWNLOAD_MAX_BYTES = 100 * _MB  # inbound files above 100 MB never arrive (131052)


class MediaValidationError(MessageValidationError):
    """A file WhatsApp would refuse (type or size), caught before uploading."""


def _is_animated_webp(data: bytes) -> bool:
    # RIFF....WEBPVP8X, then a flags byte whose bit 1 is "animation".
    return data[:4] == b"RIFF" and data[8:16] == b"WEBPVP8X" and len(data) > 20 and bool(data[20] & 0x02)


def media_kind(mime_type: str, data: bytes) -> MediaKind:
    """The §7.6 row for this file, or MediaValidationError naming the limit that failed."""
    if not isinstance(mime_type, str) or not mime_type.strip():
        raise MediaValidationError("type", "Say what kind of file this is (its MIME type, e.g. image/jpeg).")
    base = mime_type.split(";", 1)[0].strip().lower()
    kind = MEDIA_TYPES.get(base)
    if kind is None:
        raise MediaValidationError(
            "type",
            f"WhatsApp does not accept {base!r} files. Use JPEG or PNG images, MP4 or 3GPP video, AAC, AMR, MP3, "
            "M4A or OGG audio, WebP stickers, or PDF, TXT, Word, Excel or PowerPoint documents.",
        )
    if not isinstance(data, bytes | bytearray | memoryview):
        raise MediaValidationError("file", "The file content must be bytes.")
    if len(data) == 0:
        raise MediaValidationError("file", "The file is empty.")
    if kind is _STICKER_STATIC and _is_animated_webp(bytes(data[:32])):
        kind = _STICKER_ANIMATED
    if len(data) > kind.max_bytes:
        raise MediaValidationError(
            "file",
            f"A {kind.kind} file can be at most {kind.label}; this one is {_human(len(data))}.",
        )
    return kind


def _human(size: int) -> str:
    if size >= _MB:
        return f"{size / _MB:.1f} MB"
    return f"{size / _KB:.0f} KB"


class MediaAPI(GraphBase):
    async def upload_media(
        self,
        phone_number_id: str,
        data: bytes,
        mime_type: str,
        filename: str,
        ttl_minutes: int | None = None,
    ) -> str:
        """Upload a file (kept 30 days) and return its media id. Type and size are checked first (§7.6)."""
        media_kind(mime_type, data)
        mime = mime_type.split(";", 1)[0].strip().lower()
        if not isinstance(filename, str) or not filename.strip() or "/" in filename or "\\" in filename:
            raise MediaValidationError("file", "Give the file a name without folders, e.g. invoice.pdf.")
        form: dict[str, str] = {"type": mime, "messaging_product": "whatsapp"}
        if ttl_minutes is not None:
            if isinstance(ttl_minutes, bool) or not isinstance(ttl_minutes, int) or ttl_minutes < 1:
                raise MediaValidationError("ttl_minutes", "The time to live is a whole number of minutes (at least 1).")
            form["ttl_minutes"] = str(ttl_minutes)
        body = await self.request(
            "POST",
            f"{path_id(phone_number_id, 'phone_number_id')}/media",
            data=form,
            files={"file": (filename, bytes(data), mime)},
        )
        return expect_str(expect_object(body), "id")

    async def get_media(self, media_id: str, phone_number_id: str | None = None) -> MediaInfo:
        """The short-lived (5 min) download URL and metadata of a media id."""
        params = {"phone_number_id": path_id(phone_number_id, "phone_number_id")} if phone_number_id else None
        body = await self.request("GET", path_id(media_id, "media_id"), params=params)
        return MediaInfo.parse(body)

    async def download_media(self, url: str, *, max_bytes: int = DOWNLOAD_MAX_BYTES) -> bytes:
        """Download from a URL returned by :meth:`get_media` (needs the Bearer token; stale URLs give 404)."""
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise ValueError("The media URL must be an http(s) URL returned by get_media.")
        try:
            async with self._http.stream("GET", url, headers=self._headers(), timeout=self._timeout) as response:
                if not 200 <= response.status_code < 300:
                    await response.aread()
                    _decode(response)  # raises the mapped error
                chunks: list[bytes] = []
                received = 0
                async for chunk in response.aiter_bytes():
                    received += len(chunk)
                    if received > max_bytes:
                        raise UnexpectedResponseError(
                            response.status_code, f"media download is larger than {_human(max_bytes)}"
                        )
                    chunks.append(chunk)
                return b"".join(chunks)
        except httpx.TimeoutException as exc:
            raise GraphTransportError(f"media download timed out: {type(exc).__name__}", timeout=True) from exc
        except httpx.HTTPError as exc:
            raise GraphTransportError(f"media download failed: {type(exc).__name__}: {exc}"[:300]) from exc

    async def delete_media(self, media_id: str, phone_number_id: str | None = None) -> None:
        params = {"phone_number_id": path_id(phone_number_id, "phone_number_id")} if phone_number_id else None
        body = await self.request("DELETE", path_id(media_id, "media_id"), params=params)
        expect_success(body)
