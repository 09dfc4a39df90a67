"""Meta's Resumable Upload API (Graph, app-scoped): sample files for template media headers (reference §9.1).

1. ``POST /{version}/{app-id}/uploads?file_name=&file_length=&file_type=`` (Bearer) → ``{"id": "upload:<session>"}``
2. ``POST /{version}/upload:<session>`` with ``Authorization: OAuth <token>``, ``file_offset: <n>`` and the raw
   bytes from that offset as the body → ``{"h": "4::…"}``, the handle a template's ``example.header_handle`` takes.
3. ``GET /{version}/upload:<session>`` (OAuth) → ``{"id", "file_offset": <n>}``: where to resume after a break.

A session id may carry its own query string (``upload:MTph…?sig=ARZ…``): it is put in the URL exactly as Meta gave
it, never re-encoded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from softdukan.whatsapp.client.http import (
    GraphBase,
    UnexpectedResponseError,
    _decode,
    expect_object,
    expect_str,
    path_id,
)
from softdukan.whatsapp.client.media import MediaValidationError, media_kind
from softdukan.whatsapp.errors import GraphError

# The file types Meta's resumable upload takes for template samples (image/jpg is Meta's alias of image/jpeg).
UPLOAD_TYPES: dict[str, str] = {"image/jpeg": "image", "image/jpg": "image", "image/png": "image",
                                "video/mp4": "video", "application/pdf": "document"}
_SESSION = re.compile(r"upload:[A-Za-z0-9_\-=.%]{1,1024}(\?sig=[A-Za-z0-9_\-=.%]{1,512})?")
MAX_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class UploadSession:
    """``GET /upload:<session>``: how many bytes Meta holds so far."""

    id: str
    file_offset: int


def upload_kind(file_type: str, data: bytes) -> str:
    """``image``, ``video`` or ``document`` for a file the resumable upload accepts, else MediaValidationError
    naming the type or size limit (§7.6 sizes: image 5 MB, video 16 MB, document 100 MB)."""
    base = file_type.split(";", 1)[0].strip().lower() if isinstance(file_type, str) else ""
    if base not in UPLOAD_TYPES:
        raise MediaValidationError("type", "A sample file for a template header must be a JPEG or PNG image, an MP4 "
                                           f"video or a PDF document; this one is {base or 'of unknown type'}.")
    media_kind("image/jpeg" if base == "image/jpg" else base, data)  # empty or too big: raises, naming the limit
    return UPLOAD_TYPES[base]


def _session_path(session_id: object) -> str:
    if not isinstance(session_id, str) or not _SESSION.fullmatch(session_id):
        raise ValueError(f"session_id must be the 'upload:…' id start_upload returned; got {session_id!r:.60}")
    return session_id


def _file_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip() or "/" in name or "\\" in name or len(name) > 255:
        raise MediaValidationError("file", "Give the file a name without folders (at most 255 characters).")
    return name.strip()


class UploadsAPI(GraphBase):
    async def start_upload(self, app_id: str, *, file_name: str, file_length: int, file_type: str) -> str:
        """Open an upload session on the app; returns its ``upload:…`` id."""
        if isinstance(file_length, bool) or not isinstance(file_length, int) or file_length < 1:
            raise MediaValidationError("file", "The file is empty.")
        params = {"file_name": _file_name(file_name), "file_length": file_length,
                  "file_type": file_type.split(";", 1)[0].strip().lower()}
        body = await self.request("POST", f"{path_id(app_id, 'app_id')}/uploads", params=params)
        session = expect_str(expect_object(body), "id")
        if not _SESSION.fullmatch(session):
            raise UnexpectedResponseError(200, f"expected an 'upload:…' session id, got {session[:80]!r}")
        return session

    def _oauth(self) -> dict[str, str]:
        return {"Authorization": f"OAuth {self._token}"} if self._token else {}

    async def upload_status(self, session_id: str) -> UploadSession:
        """Where the session stands: resume by sending the bytes from ``file_offset`` on."""
        response = await self._send("GET", self.url(_session_path(session_id)), auth=False, headers=self._oauth())
        body = expect_object(_decode(response))
        offset = body.get("file_offset")
        if isinstance(offset, str) and offset.isdecimal():
            offset = int(offset)
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise UnexpectedResponseError(200, f"expected an integer 'file_offset', got {str(body)[:120]}")
        return UploadSession(id=str(body.get("id") or session_id), file_offset=offset)

    async def upload_part(self, session_id: str, data: bytes, *, offset: int) -> str | None:
        """Send ``data`` (the file from ``offset`` on). Returns the handle once Meta holds the whole file, None when
        it answered without one (it holds part: ask :meth:`upload_status` and continue)."""
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise ValueError("offset must be a whole number of bytes, 0 or more")
        headers = {**self._oauth(), "file_offset": str(offset), "Content-Type": "application/octet-stream"}
        response = await self._send("POST", self.url(_session_path(session_id)), auth=False, headers=headers,
                                    content=bytes(data))
        body: Any = expect_object(_decode(response))
        handle = body.get("h")
        if handle is None:
            return None
        if not isinstance(handle, str) or not handle:
            raise UnexpectedResponseError(200, f"expected a handle 'h', got {str(body)[:120]}")
        return handle

    async def upload_file(self, app_id: str, data: bytes, *, file_name: str, file_type: str,
                          max_attempts: int = MAX_ATTEMPTS) -> str:
        """The whole flow: open a session, send the file, and after a break (a retryable error or a partial answer)
        ask where Meta stands and send the rest, up to ``max_attempts`` sends. Returns the file handle."""
        upload_kind(file_type, data)
        data = bytes(data)
        session = await self.start_upload(app_id, file_name=file_name, file_length=len(data), file_type=file_type)
        offset = 0
        last_error: GraphError | None = None
        for _attempt in range(max_attempts):
            try:
                handle = await self.upload_part(session, data[offset:], offset=offset)
            except GraphError as exc:
                if not exc.retryable:
                    raise
                last_error = exc
                handle = None
            if handle is not None:
                return handle
            offset = (await self.upload_status(session)).file_offset
            if offset > len(data):
                raise UnexpectedResponseError(200, f"Meta holds {offset} bytes of a {len(data)}-byte file")
        if last_error is not None:
            raise last_error
        raise UnexpectedResponseError(200, f"the upload did not finish after {max_attempts} attempts")
