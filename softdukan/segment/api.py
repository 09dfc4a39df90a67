"""/v1/segments: saved filters over contacts (create, list, get with the live count, patch, delete), the contacts
of a segment (paged), and a preview (count + first contacts) of an unsaved definition.

A broken condition is a 422 whose `details` name each one's path (`definition.all[1].value`) with its message;
a name that another segment has is a 409 naming it (`details.segment_id`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from softdukan.contact.directory import parse_cursor
from softdukan.contact.schemas import contact_out
from softdukan.kit.ids import PathId
from softdukan.platform.deps import Requires, UoW
from softdukan.platform.http import error_responses
from softdukan.segment.schemas import (
    MemberPageOut,
    PreviewIn,
    PreviewOut,
    SegmentIn,
    SegmentOut,
    SegmentPage,
    SegmentPatch,
    segment_out,
    segment_summary,
)
from softdukan.segment.service import segment_service

router = APIRouter(tags=["segments"])
Cursor = Annotated[str | None, Query(max_length=20, description="next_cursor of the previous page")]
Limit = Annotated[int, Query(ge=1, le=200)]


@router.post("/segments", response_model=SegmentOut, status_code=201, responses=error_responses(409))
async def create_segment(body: SegmentIn, uow: UoW, subject: Requires["segments:write"]) -> SegmentOut:
    segment = await segment_service.create(uow, subject, name=body.name, definition=body.definition)
    return segment_out(segment, await segment_service.count(uow, subject, segment))


@router.get("/segments", response_model=SegmentPage, responses=error_responses())
async def list_segments(uow: UoW, subject: Requires["segments:read"], cursor: Cursor = None,
                        limit: Limit = 50) -> SegmentPage:
    """Newest first, without counts (GET one segment for its count)."""
    rows = await segment_service.list(uow, subject, after_id=parse_cursor(cursor), limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return SegmentPage(data=[segment_summary(s) for s in rows], next_cursor=str(rows[-1].id) if more else None)


@router.post("/segments/preview", response_model=PreviewOut, responses=error_responses())
async def preview_segment(body: PreviewIn, uow: UoW, subject: Requires["segments:write"]) -> PreviewOut:
    """How many contacts an unsaved definition selects now, and the newest few of them. Changes nothing."""
    preview = await segment_service.preview(uow, subject, body.definition)
    return PreviewOut(count=preview.count, contacts=[contact_out(v) for v in preview.contacts])


@router.get("/segments/{segment_id}", response_model=SegmentOut, responses=error_responses(404))
async def get_segment(segment_id: PathId, uow: UoW, subject: Requires["segments:read"]) -> SegmentOut:
    segment = await segment_service.get(uow, subject, segment_id)
    return segment_out(segment, await segment_service.count(uow, subject, segment))


@router.patch("/segments/{segment_id}", response_model=SegmentOut, responses=error_responses(404, 409))
async def update_segment(segment_id: PathId, body: SegmentPatch, uow: UoW, subject: Requires["segments:write"]
                         ) -> SegmentOut:
    segment = await segment_service.update(uow, subject, segment_id, name=body.name, definition=body.definition)
    return segment_out(segment, await segment_service.count(uow, subject, segment))


@router.delete("/segments/{segment_id}", status_code=204, responses=error_responses(404))
async def delete_segment(segment_id: PathId, uow: UoW, subject: Requires["segments:write"]) -> Response:
    await segment_service.delete(uow, subject, segment_id)
    return Response(status_code=204)


@router.get("/segments/{segment_id}/contacts", response_model=MemberPageOut, responses=error_responses(404))
async def segment_contacts(segment_id: PathId, uow: UoW, subject: Requires["segments:read"], cursor: Cursor = None,
                           limit: Limit = 50) -> MemberPageOut:
    """The segment's contacts now, newest first."""
    segment = await segment_service.get(uow, subject, segment_id)
    page = await segment_service.members(uow, subject, segment, cursor=cursor, limit=limit)
    return MemberPageOut(data=[contact_out(v) for v in page.views], next_cursor=page.next_cursor)
