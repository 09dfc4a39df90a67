"""/v1/broadcasts: write a draft (audience, template, variables), see its breakdown and a per-contact preview, launch
it now or at a time, pause, resume or cancel it, follow its funnel and recipients, resend to the failed, and turn an
outcome into a segment for retargeting. `Idempotency-Key` works on every POST (platform/idempotency.py).

A draft can be created and launched in one call (`"launch": {"at": null}` sends now); only drafts can be edited or
deleted. Errors are the API's `{"error": {"code", "message", "details"}}`; another organization's ids are 404.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from softdukan.auth.subject import Subject
from softdukan.broadcast.models import Broadcast
from softdukan.broadcast.outcome_segments import segment_from_outcome
from softdukan.broadcast.schemas import (
    BreakdownOut,
    BroadcastIn,
    BroadcastOut,
    BroadcastPage,
    BroadcastPatch,
    LaunchIn,
    OutcomeSegmentIn,
    PreviewIn,
    PreviewOut,
    RecipientPage,
    audience_dict,
    breakdown_out,
    broadcast_out,
    preview_out,
    recipient_out,
    summary,
    variables_dict,
)
from softdukan.broadcast.service import BroadcastInput, broadcast_service
from softdukan.broadcast.states import DRAFT
from softdukan.contact.directory import parse_cursor
from softdukan.kit.ids import PathId
from softdukan.platform.deps import Requires, UoW
from softdukan.platform.errors import DomainError
from softdukan.platform.http import error_responses
from softdukan.platform.uow import UnitOfWork
from softdukan.segment.schemas import SegmentOut, segment_out
from softdukan.segment.service import segment_service
from softdukan.wallet.usage import broadcast_cost

router = APIRouter(tags=["broadcasts"])
Cursor = Annotated[str | None, Query(max_length=20, description="next_cursor of the previous page")]
Limit = Annotated[int, Query(ge=1, le=200)]
State = Annotated[str | None, Query(max_length=20, description=(
    "pending, waiting, sending, sent, failed, skipped, cancelled; or an outcome: delivered, read, replied"))]


def broadcast_input(body: BroadcastIn | BroadcastPatch, current: Broadcast | None = None) -> BroadcastInput:
    """The service's input: what the body gives, the rest from the current draft (PATCH)."""
    given = body.model_fields_set

    def pick(name: str, value: object, fallback: object) -> object:
        return value if current is None or (name in given and value is not None) else fallback

    return BroadcastInput(
        name=pick("name", body.name, current.name if current else None),  # type: ignore[arg-type]
        phone_number_id=pick("phone_number_id", body.phone_number_id,  # type: ignore[arg-type]
                             current.phone_number_id if current else None),
        template_id=pick("template_id", body.template_id, current.template_id if current else None),  # type: ignore[arg-type]
        variables=variables_dict(body.variables) if body.variables is not None else dict(
            current.variables or {}) if current else {"values": {}, "mapping": {}},
        audience=audience_dict(body.audience) if body.audience is not None else dict(
            current.audience or {}) if current else {},
        retry_days_131049=pick("retry_days_131049", body.retry_days_131049,  # type: ignore[arg-type]
                               current.retry_days_131049 if current else 2))


async def _out(uow: UnitOfWork, subject: Subject, broadcast: Broadcast) -> BroadcastOut:
    """With the breakdown (None when it can't be computed, e.g. the segment was deleted) and, once launched, the
    funnel."""
    try:
        breakdown = await broadcast_service.breakdown(uow, subject, broadcast)
    except DomainError:
        breakdown = None
    funnel = await broadcast_service.funnel(uow, subject, broadcast) if broadcast.status != DRAFT else None
    cost = (await broadcast_cost(uow, broadcast.organization_id, broadcast.id)
            if broadcast.status != DRAFT and subject.can("wallet:read") else None)
    return broadcast_out(broadcast, breakdown, funnel, cost)


async def recipient_page(uow: UnitOfWork, subject: Subject, broadcast: Broadcast, *, state: str | None,
                         after: int | None, limit: int) -> RecipientPage:
    rows = list(await broadcast_service.recipients(uow, subject, broadcast, state=state, after=after,
                                                   limit=limit + 1))
    more = len(rows) > limit
    rows = rows[:limit]
    return RecipientPage(data=[recipient_out(r) for r in rows], next_cursor=str(rows[-1].id) if more and rows else None)


@router.post("/broadcasts", response_model=BroadcastOut, status_code=201, responses=error_responses(404, 409))
async def create_broadcast(body: BroadcastIn, uow: UoW, subject: Requires["broadcasts:write"]) -> BroadcastOut:
    """A draft; with `launch` it is launched in the same request (an error leaves nothing behind)."""
    broadcast = await broadcast_service.create(uow, subject, broadcast_input(body))
    if body.launch is not None:
        broadcast = await broadcast_service.launch(uow, subject, broadcast.id, scheduled_at=body.launch.at)
    return await _out(uow, subject, broadcast)


@router.get("/broadcasts", response_model=BroadcastPage, responses=error_responses())
async def list_broadcasts(uow: UoW, subject: Requires["broadcasts:read"], cursor: Cursor = None,
                          limit: Limit = 50) -> BroadcastPage:
    """Newest first, without breakdowns or funnels (GET one broadcast for those)."""
    rows = list(await broadcast_service.list(uow, subject, after=parse_cursor(cursor), limit=limit + 1))
    more = len(rows) > limit
    rows = rows[:limit]
    return BroadcastPage(data=[summary(b) for b in rows], next_cursor=str(rows[-1].id) if more and rows else None)


@router.get("/broadcasts/{broadcast_id}", response_model=BroadcastOut, responses=error_responses(404))
async def get_broadcast(broadcast_id: PathId, uow: UoW, subject: Requires["broadcasts:read"]) -> BroadcastOut:
    return await _out(uow, subject, await broadcast_service.get(uow, subject, broadcast_id))


@router.patch("/broadcasts/{broadcast_id}", response_model=BroadcastOut, responses=error_responses(404, 409))
async def update_broadcast(broadcast_id: PathId, body: BroadcastPatch, uow: UoW,
                           subject: Requires["broadcasts:write"]) -> BroadcastOut:
    """Drafts only (409 `broadcast_not_editable` once launched); only what is given changes."""
    current = await broadcast_service.get(uow, subject, broadcast_id)
    broadcast = await broadcast_service.update(uow, subject, broadcast_id, broadcast_input(body, current))
    return await _out(uow, subject, broadcast)


@router.delete("/broadcasts/{broadcast_id}", status_code=204, responses=error_responses(404, 409))
async def delete_broadcast(broadcast_id: PathId, uow: UoW, subject: Requires["broadcasts:write"]) -> Response:
    await broadcast_service.delete(uow, subject, broadcast_id)
    return Response(status_code=204)


@router.get("/broadcasts/{broadcast_id}/breakdown", response_model=BreakdownOut, responses=error_responses(404))
async def broadcast_breakdown(broadcast_id: PathId, uow: UoW, subject: Requires["broadcasts:read"]) -> BreakdownOut:
    """Who gets it and who is left out (opted out, blocked, invalid, duplicate, missing variable, over the tier),
    and the credit estimate: computed now for a draft, as snapshotted for a launched broadcast."""
    broadcast = await broadcast_service.get(uow, subject, broadcast_id)
    return breakdown_out(await broadcast_service.breakdown(uow, subject, broadcast))


@router.post("/broadcasts/{broadcast_id}/preview", response_model=PreviewOut, responses=error_responses(404))
async def preview_broadcast(broadcast_id: PathId, body: PreviewIn, uow: UoW, subject: Requires["broadcasts:write"]
                            ) -> PreviewOut:
    """The message as one contact of the audience will see it, or why they would be skipped. Changes nothing."""
    broadcast = await broadcast_service.get(uow, subject, broadcast_id)
    return preview_out(await broadcast_service.preview(uow, subject, broadcast, contact_id=body.contact_id))


@router.post("/broadcasts/{broadcast_id}/launch", response_model=BroadcastOut, responses=error_responses(404, 409))
async def launch_broadcast(broadcast_id: PathId, body: LaunchIn, uow: UoW, subject: Requires["broadcasts:write"]
                           ) -> BroadcastOut:
    """Send now, or at `scheduled_at` (in the future). 422: empty audience, template not approved, variables
    missing, a time in the past; 409: not a draft."""
    broadcast = await broadcast_service.launch(uow, subject, broadcast_id, scheduled_at=body.scheduled_at)
    return await _out(uow, subject, broadcast)


@router.post("/broadcasts/{broadcast_id}/pause", response_model=BroadcastOut, responses=error_responses(404, 409))
async def pause_broadcast(broadcast_id: PathId, uow: UoW, subject: Requires["broadcasts:write"]) -> BroadcastOut:
    return await _out(uow, subject, await broadcast_service.pause(uow, subject, broadcast_id))


@router.post("/broadcasts/{broadcast_id}/resume", response_model=BroadcastOut, responses=error_responses(404, 409))
async def resume_broadcast(broadcast_id: PathId, uow: UoW, subject: Requires["broadcasts:write"]) -> BroadcastOut:
    return await _out(uow, subject, await broadcast_service.resume(uow, subject, broadcast_id))


@router.post("/broadcasts/{broadcast_id}/cancel", response_model=BroadcastOut, responses=error_responses(404, 409))
async def cancel_broadcast(broadcast_id: PathId, uow: UoW, subject: Requires["broadcasts:write"]) -> BroadcastOut:
    """Recipients not sent yet are cancelled; what was sent stays sent."""
    return await _out(uow, subject, await broadcast_service.cancel(uow, subject, broadcast_id))


@router.post("/broadcasts/{broadcast_id}/resend-failed", response_model=BroadcastOut, status_code=201,
             responses=error_responses(404, 409))
async def resend_failed(broadcast_id: PathId, uow: UoW, subject: Requires["broadcasts:write"]) -> BroadcastOut:
    """A new draft to the recipients who failed (same template and variables), to review and launch."""
    return await _out(uow, subject, await broadcast_service.resend_failed(uow, subject, broadcast_id))


@router.post("/broadcasts/{broadcast_id}/segments", response_model=SegmentOut, status_code=201,
             responses=error_responses(404, 409))
async def outcome_segment(broadcast_id: PathId, body: OutcomeSegmentIn, uow: UoW,
                          subject: Requires["broadcasts:write"]) -> SegmentOut:
    """A segment of the recipients with this outcome (read, replied, not_replied, failed …), for retargeting.
    It stays live: someone who replies later joins a "replied" segment."""
    segment = await segment_from_outcome(uow, subject, broadcast_id, outcome=body.outcome, name=body.name)
    return segment_out(segment, await segment_service.count(uow, subject, segment))


@router.get("/broadcasts/{broadcast_id}/recipients", response_model=RecipientPage, responses=error_responses(404))
async def broadcast_recipients(broadcast_id: PathId, uow: UoW, subject: Requires["broadcasts:read"],
                               state: State = None, after: Cursor = None, limit: Limit = 50) -> RecipientPage:
    """Recipients in the order they were snapshotted; `after` is the previous page's `next_cursor`."""
    broadcast = await broadcast_service.get(uow, subject, broadcast_id)
    return await recipient_page(uow, subject, broadcast, state=state, after=parse_cursor(after), limit=limit)
