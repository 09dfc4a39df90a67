"""Meta's Resumable Upload API: an app opens a session, sends the file (resuming from `file_offset` after a break)
and gets a handle (`4::…`) that a template's media header names as its sample (`example.header_handle`).

* `POST /{app-id}/uploads?file_name=&file_length=&file_type=` → `{"id": "upload:<session>?sig=<sig>"}`
* `POST /upload:<session>` (`Authorization: OAuth <token>`, header `file_offset`, raw bytes) → `{"h": "<handle>"}`
  once every byte is in; a body that stops short stores what came and answers `{"id", "file_offset"}`.
* `GET /upload:<session>` → `{"id", "file_offset"}`.

Errors use Graph's body: code 100 for parameters (bad offset, too many bytes, unsupported type), an unknown or
foreign session is an unknown object. Sessions and handles live 30 days.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from softdukan.platform.uow import UnitOfWork
from softdukan.sandbox.graph.access import Caller
from softdukan.sandbox.graph.errors import GraphFault, template_fault, unknown_object
from softdukan.sandbox.graph.media import LIMITS
from softdukan.sandbox.graph.profile import load_profile
from softdukan.sandbox.models import SandboxApp, SandboxUpload, SandboxWaba

# Meta's list for the resumable upload (image/jpg is its alias of image/jpeg)
FILE_TYPES = ("application/pdf", "image/jpeg", "image/jpg", "image/png", "video/mp4")
LIFETIME = timedelta(days=30)
# header format → the sample file types it takes (a GIF header's sample is an MP4, as Meta plays GIFs)
HEADER_TYPES = {"IMAGE": ("image/jpeg", "image/jpg", "image/png"), "VIDEO": ("video/mp4",), "GIF": ("video/mp4",),
                "DOCUMENT": ("application/pdf",)}
INVALID_HANDLE_SUBCODE = 2494102  # "Uploaded media handle is invalid" (Meta's wording; subcode unverified)


def _sig(uow: UnitOfWork, key: str) -> str:
    digest = hmac.new(uow.settings.softdukan_secret_key.encode(), f"sandbox-upload:{key}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()[:15]).decode()


def session_id(uow: UnitOfWork, upload: SandboxUpload) -> str:
    encoded = base64.urlsafe_b64encode(f"1:attachment:{upload.session_key}".encode()).decode().rstrip("=")
    return f"upload:{encoded}?sig={_sig(uow, upload.session_key)}"


def _limit(file_type: str) -> int:
    return LIMITS["image/jpeg" if file_type == "image/jpg" else file_type]


async def start(uow: UnitOfWork, caller: Caller, app_id: str, body: dict[str, Any]) -> dict[str, Any]:
    app = (await uow.session.execute(select(SandboxApp).where(SandboxApp.app_id == app_id))).scalar_one_or_none()
    if app is None:
        raise unknown_object(app_id, "post")
    if caller.token.app_pk != app.id:
        raise GraphFault(200, f"The access token was not issued for app {app_id}.", message="(#200) Permissions error")
    file_name = body.get("file_name")
    if not isinstance(file_name, str) or not file_name.strip():
        raise GraphFault(100, "The parameter file_name is required.")
    if len(file_name) > 255 or "/" in file_name or "\\" in file_name:
        raise GraphFault(100, "Param file_name must be a file name of at most 255 characters, without folders.")
    raw_length = body.get("file_length")
    if isinstance(raw_length, bool) or not str(raw_length or "").strip().isdecimal():
        raise GraphFault(100, "Param file_length must be a positive integer (the file's size in bytes).")
    file_length = int(str(raw_length))
    file_type = str(body.get("file_type") or "").split(";", 1)[0].strip().lower()
    if file_type not in FILE_TYPES:
        raise GraphFault(100, f"Param file_type must be one of {', '.join(FILE_TYPES)}; got {file_type or 'nothing'}.")
    if not 1 <= file_length <= _limit(file_type):
        raise GraphFault(100, f"Param file_length must be between 1 and {_limit(file_type)} bytes for {file_type}.")
    now = uow.clock.now()
    upload = SandboxUpload(session_key=secrets.token_urlsafe(24), app_pk=app.id, business_pk=caller.business.id,
                           file_name=file_name.strip(), file_type=file_type, file_length=file_length, data=b"",
                           expires_at=now + LIFETIME, created_at=now)
    uow.session.add(upload)
    await uow.flush()
    return {"id": session_id(uow, upload)}


async def session_for(uow: UnitOfWork, caller: Caller, encoded: str, sig: str, method: str) -> SandboxUpload:
    """The caller's session named by the path's `upload:<encoded>` and its `sig`, or an unknown object."""
    try:
        decoded = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        decoded = ""
    key = decoded.removeprefix("1:attachment:") if decoded.startswith("1:attachment:") else ""
    upload = None
    if key and hmac.compare_digest(sig.encode(), _sig(uow, key).encode()):
        upload = (
            await uow.session.execute(select(SandboxUpload).where(SandboxUpload.session_key == key))
        ).scalar_one_or_none()
    if upload is None or upload.app_pk != caller.token.app_pk or upload.expires_at <= uow.clock.now():
        raise unknown_object(f"upload:{encoded}"[:80], method)
    return upload


def status(uow: UnitOfWork, upload: SandboxUpload) -> dict[str, Any]:
    return {"id": session_id(uow, upload), "file_offset": len(upload.data)}


async def append(uow: UnitOfWork, upload: SandboxUpload, raw_offset: str | None, data: bytes
                 ) -> dict[str, Any] | GraphFault:
    """Store the bytes at `file_offset`. A GraphFault is *returned* (not raised) for an injected break, so the
    bytes that did arrive are committed, as a real server keeps what it received before the connection dropped."""
    if raw_offset is None or not raw_offset.strip():
        raise GraphFault(100, "The header file_offset is required (0 for a new upload).")
    if not raw_offset.strip().isdecimal():
        raise GraphFault(100, "The header file_offset must be a whole number of bytes.")
    offset, received = int(raw_offset), len(upload.data)
    if offset != received:
        raise GraphFault(100, f"file_offset {offset} does not match the {received} bytes received so far: resume "
                              f"from file_offset {received}.")
    if received + len(data) > upload.file_length:
        raise GraphFault(100, f"The upload has {received + len(data)} bytes, more than its file_length of "
                              f"{upload.file_length}.")
    if upload.handle is not None:  # complete already: a retry that lost the first answer
        return {"h": upload.handle}
    cut = (await load_profile(uow)).upload_cut_after_bytes
    broken = cut is not None and len(data) > cut
    if broken:
        data = data[:cut]
    upload.data = upload.data + data
    if len(upload.data) == upload.file_length:
        kind = base64.urlsafe_b64encode(upload.file_type.encode()).decode().rstrip("=")
        upload.handle = f"4::{kind}:{secrets.token_urlsafe(32)}"
        upload.completed_at = uow.clock.now()
    await uow.flush()
    if broken:
        return GraphFault(2, "The connection was interrupted while the file was being received; resume the upload.",
                          status=503)
    if upload.handle is not None:
        return {"h": upload.handle}
    return status(uow, upload)


async def by_handle(uow: UnitOfWork, handle: str) -> SandboxUpload | None:
    if not handle:
        return None
    return (await uow.session.execute(select(SandboxUpload).where(SandboxUpload.handle == handle))).scalar_one_or_none()


async def check_header_samples(uow: UnitOfWork, waba: SandboxWaba, components: list[dict[str, Any]]) -> None:
    """A media header (image, video, GIF, document) needs a sample: a handle this business uploaded, of a type that
    header shows. Called after `check_template`, which has upper-cased types and formats."""
    for component in components:
        fmt = str(component.get("format", "")).upper()
        if component.get("type") != "HEADER" or fmt not in HEADER_TYPES:
            continue
        example = component.get("example")
        handles = example.get("header_handle") if isinstance(example, dict) else None
        if not isinstance(handles, list) or not handles or not all(isinstance(h, str) and h for h in handles):
            raise template_fault(2388047, "Invalid header", f"A {fmt} header needs an example: the header_handle "
                                                            "of a sample file from the Resumable Upload API.")
        for handle in handles:
            upload = await by_handle(uow, handle)
            if (upload is None or upload.business_pk != waba.business_pk or upload.completed_at is None
                    or upload.expires_at <= uow.clock.now()):
                raise GraphFault(100, f"The uploaded media handle {handle[:40]} is invalid or has expired: upload "
                                      "the sample file again.", subcode=INVALID_HANDLE_SUBCODE,
                                 user_title="Uploaded media handle is invalid",
                                 user_msg="The sample file's upload handle is invalid; upload the file again.")
            if upload.file_type not in HEADER_TYPES[fmt]:
                raise template_fault(2388047, "Invalid header", f"The sample file is {upload.file_type}; a {fmt} "
                                                                f"header takes {', '.join(HEADER_TYPES[fmt])}.")


def sample_url(root: str, handle: str) -> str:
    """Where a template's GET shows its sample: Meta answers a CDN URL in place of the handle (observed practice;
    the reference does not say). The handle itself is the capability, like the CDN's signed URL."""
    from urllib.parse import quote

    return f"{root}/_sandbox/header-samples/{quote(handle, safe='')}"


def with_sample_urls(components: list[Any], root: str) -> list[Any]:
    out: list[Any] = []
    for component in components:
        example = component.get("example") if isinstance(component, dict) else None
        handles = example.get("header_handle") if isinstance(example, dict) else None
        if isinstance(handles, list) and handles and all(isinstance(h, str) for h in handles):
            component = {**component, "example": {**example, "header_handle": [
                h if h.startswith(("http://", "https://")) else sample_url(root, h) for h in handles]}}
        out.append(component)
    return out
