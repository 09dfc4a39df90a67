"""The Resumable Upload API's paths (`softdukan/sandbox/graph/uploads.py`), included first by `graph.router` so
`/{app-id}/uploads` and `/upload:<session>` are matched before the generic node and phone-action paths."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from softdukan.platform.deps import UoW
from softdukan.sandbox.graph import uploads
from softdukan.sandbox.graph.access import authenticate, check_version, params
from softdukan.sandbox.graph.errors import GraphFault

router = APIRouter(include_in_schema=False)


@router.post("/{version}/{app_id}/uploads")
async def start_upload(version: str, app_id: str, request: Request, uow: UoW) -> JSONResponse:
    check_version(version)
    caller = await authenticate(uow, request)
    return JSONResponse(await uploads.start(uow, caller, app_id, await params(request)))


@router.get("/{version}/upload:{session}")
async def upload_status(version: str, session: str, request: Request, uow: UoW, sig: str = "") -> JSONResponse:
    check_version(version)
    caller = await authenticate(uow, request)
    return JSONResponse(uploads.status(uow, await uploads.session_for(uow, caller, session, sig, "get")))


@router.post("/{version}/upload:{session}")
async def upload_bytes(version: str, session: str, request: Request, uow: UoW, sig: str = "") -> JSONResponse:
    check_version(version)
    caller = await authenticate(uow, request)
    upload = await uploads.session_for(uow, caller, session, sig, "post")
    result = await uploads.append(uow, upload, request.headers.get("file_offset"), await request.body())
    if isinstance(result, GraphFault):  # an injected break: what arrived is kept (committed), the call fails
        return JSONResponse(result.body(), status_code=result.status)
    return JSONResponse(result)


@router.get("/_sandbox/header-samples/{handle}")
async def header_sample(handle: str, uow: UoW) -> Response:
    """A template's sample file, as the CDN URL Meta answers in place of the handle (no token, like the CDN)."""
    upload = await uploads.by_handle(uow, handle)
    if upload is None or upload.completed_at is None or upload.expires_at <= uow.clock.now():
        raise GraphFault(100, "Not found.", status=404)
    return Response(upload.data, media_type=upload.file_type, headers={"Cache-Control": "private, max-age=300"})
