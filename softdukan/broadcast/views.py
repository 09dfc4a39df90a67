"""Dashboard pages of broadcasts: the list; "New broadcast" (and editing a draft) on one page — number, audience
(segment, tags, or a pasted or uploaded list), template and its variable mapping, a live per-contact preview and the
audience breakdown with the credit estimate, then save, send now or schedule in the organization's time zone; and a
broadcast's page with its live funnel (re-fetched on each `broadcast.progressed` event of the SSE stream), pause,
resume, cancel, the per-recipient table, "Resend to failed" and "New segment from outcome".

The live panel (POST /broadcasts/check) writes the form as a draft through the service, reads its breakdown and
preview, and rolls the draft back: what the page shows is exactly what saving would check and count.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from softdukan.auth.settings_views import PathId, flash_for, undo
from softdukan.auth.views import form_errors
from softdukan.broadcast import pages
from softdukan.broadcast.forms import BroadcastForm, form_id
from softdukan.broadcast.models import Broadcast
from softdukan.broadcast.outcome_segments import segment_from_outcome
from softdukan.broadcast.service import broadcast_service
from softdukan.broadcast.states import DRAFT
from softdukan.contact.phones import display_phone
from softdukan.dashboard.context import WebContext, WebRequires
from softdukan.dashboard.render import render
from softdukan.platform.deps import UoW
from softdukan.platform.errors import DomainError
from softdukan.platform.uow import UnitOfWork
from softdukan.segment.form import OUTCOME_LABELS
from softdukan.segment.service import segment_service

router = APIRouter(include_in_schema=False)
Cursor = Annotated[str | None, Query(max_length=20)]
StateFilter = Annotated[str, Query(max_length=20)]
FLASH = {"saved": "The draft was saved.", "launched": "The broadcast is sending.",
         "scheduled": "The broadcast is scheduled.", "paused": "The broadcast is paused.",
         "resumed": "The broadcast goes on.", "cancelled": "The broadcast was cancelled.",
         "deleted": "The draft was deleted.", "resend": "A draft to the failed recipients: check it and send it."}
ACTIONS = {"save": "saved", "send": "launched", "schedule": "scheduled"}
OUTCOME_CHOICES = [(k, v.format(b="the broadcast", B="The broadcast")) for k, v in OUTCOME_LABELS.items()]


@router.get("/broadcasts", response_class=HTMLResponse)
async def broadcasts_page(request: Request, uow: UoW, web: WebRequires["broadcasts:read"], cursor: Cursor = None,
                          flash: str | None = None) -> Response:
    subject = pages.subject_of(web)
    rows = await broadcast_service.list(uow, subject, after=pages.cursor_id(cursor), limit=pages.LIST_PAGE + 1)
    more = len(rows) > pages.LIST_PAGE
    rows = rows[:pages.LIST_PAGE]
    segments = await pages.segment_names(uow, web)
    listed = [{"broadcast": b, "audience": pages.audience_text(b.audience, segments),
               "funnel": await broadcast_service.funnel(uow, subject, b) if b.status != DRAFT else None}
              for b in rows]
    return render(request, "broadcast/broadcasts.html", {
        "broadcasts": listed, "flash": flash_for(FLASH, flash), "tz": pages.tz_of(web),
        "next_cursor": str(rows[-1].id) if more and rows else None})


@router.get("/broadcasts/new", response_class=HTMLResponse)
async def new_broadcast_page(request: Request, uow: UoW, web: WebRequires["broadcasts:write"],
                             segment_id: Annotated[str, Query(max_length=20)] = "") -> Response:
    """`segment_id` preselects a segment as the audience (the segment's page links here)."""
    chosen = form_id(segment_id)
    if chosen is not None:  # another organization's segment is a 404, not a prefilled form
        await segment_service.get(uow, pages.subject_of(web), chosen)
    form = BroadcastForm(audience_kind="segment", segment_id=str(chosen or ""))
    return await _form_page(request, uow, web, None, form)


async def _form_page(request: Request, uow: UnitOfWork, web: WebContext, broadcast: Broadcast | None,
                     form: BroadcastForm, *, status_code: int = 200, errors: dict[str, str] | None = None,
                     error: str | None = None, flash: str | None = None) -> Response:
    ctx = await pages.form_context(uow, web, form)
    ctx.update({"broadcast": broadcast, "errors": errors or {}, "error": error, "tz": pages.tz_of(web),
                "flash": flash_for(FLASH, flash)})
    return render(request, "broadcast/edit.html", ctx, status_code=status_code)


@router.post("/broadcasts/form", response_class=HTMLResponse)
async def template_fragment(request: Request, uow: UoW, web: WebRequires["broadcasts:write"]) -> Response:
    """The template select and its variable mapping again, after the number or the template changed (htmx)."""
    form = await pages.parse_form(request, with_file=False)
    ctx = await pages.form_context(uow, web, form)
    return render(request, "broadcast/_template.html", {**ctx, "errors": {}})


@router.post("/broadcasts/check", response_class=HTMLResponse)
async def check_fragment(request: Request, uow: UoW, web: WebRequires["broadcasts:write"]) -> Response:
    """The live panel: the per-contact preview and the audience breakdown with the estimate (htmx)."""
    raw = await request.form()
    form = await pages.parse_form(request, raw=raw)
    ctx: dict[str, Any] = {"problem": None, "breakdown": None, "found": None, "candidates": []}
    try:
        data = await pages.input_of(uow, web, form)
        draft = await broadcast_service.create(uow, pages.subject_of(web), data)
        ctx.update(await pages.check(uow, web, draft, form_id(str(raw.get("preview_contact_id") or ""))))
    except DomainError as exc:
        ctx["problem"] = exc.message
    await undo(request, uow)  # the draft was only for counting: nothing is kept
    return render(request, "broadcast/_check.html", {**ctx, "display_phone": display_phone})


async def _save(request: Request, uow: UnitOfWork, web: WebContext, broadcast: Broadcast | None) -> Response:
    raw = await request.form()
    action = str(raw.get("action") or "save")
    action = action if action in ACTIONS else "save"
    broadcast_id = broadcast.id if broadcast is not None else None
    form = BroadcastForm()
    try:
        form = await pages.parse_form(request, raw=raw)
        subject = pages.subject_of(web)
        data = await pages.input_of(uow, web, form)
        if broadcast_id is None:
            saved = await broadcast_service.create(uow, subject, data)
        else:
            saved = await broadcast_service.update(uow, subject, broadcast_id, data)
        if action != "save":
            at = form.scheduled_at(pages.tz_of(web)) if action == "schedule" else None
            await broadcast_service.launch(uow, subject, saved.id, scheduled_at=at)
    except DomainError as exc:
        web = await undo(request, uow)
        message, errors = form_errors(exc)
        reloaded = await broadcast_service.get(uow, pages.subject_of(web), broadcast_id) if broadcast_id else None
        return await _form_page(request, uow, web, reloaded, form, status_code=exc.status,
                                errors=pages.field_errors(errors), error=message)
    return RedirectResponse(f"/broadcasts/{saved.id}?flash={ACTIONS[action]}", status_code=303)


@router.post("/broadcasts/new", response_class=HTMLResponse)
async def create_broadcast(request: Request, uow: UoW, web: WebRequires["broadcasts:write"]) -> Response:
    return await _save(request, uow, web, None)


@router.get("/broadcasts/{broadcast_id}", response_class=HTMLResponse)
async def broadcast_page(request: Request, uow: UoW, web: WebRequires["broadcasts:read"], broadcast_id: PathId,
                         state: StateFilter = "", after: Cursor = None, flash: str | None = None) -> Response:
    subject = pages.subject_of(web)
    broadcast = await broadcast_service.get(uow, subject, broadcast_id)
    ctx = await pages.live_context(uow, web, broadcast)
    state = state if state in pages.STATE_FILTERS else ""
    rows = await broadcast_service.recipients(uow, subject, broadcast, state=state or None,
                                              after=pages.cursor_id(after), limit=pages.RECIPIENT_PAGE + 1)
    ctx.update({"flash": flash_for(FLASH, flash), "state": state, "state_filters": pages.STATE_FILTERS,
                "recipients": rows[:pages.RECIPIENT_PAGE], "display_phone": display_phone,
                "next_after": str(rows[pages.RECIPIENT_PAGE - 1].id) if len(rows) > pages.RECIPIENT_PAGE else None,
                "outcome_choices": OUTCOME_CHOICES})
    return render(request, "broadcast/broadcast.html", ctx)


@router.get("/broadcasts/{broadcast_id}/funnel", response_class=HTMLResponse)
async def funnel_fragment(request: Request, uow: UoW, web: WebRequires["broadcasts:read"], broadcast_id: PathId
                          ) -> Response:
    """Status, notice, actions and the funnel: re-fetched when the broadcast progresses (htmx + SSE)."""
    broadcast = await broadcast_service.get(uow, pages.subject_of(web), broadcast_id)
    return render(request, "broadcast/_live.html", await pages.live_context(uow, web, broadcast))


@router.get("/broadcasts/{broadcast_id}/edit", response_class=HTMLResponse)
async def edit_broadcast_page(request: Request, uow: UoW, web: WebRequires["broadcasts:write"], broadcast_id: PathId,
                              flash: str | None = None) -> Response:
    broadcast = await broadcast_service.get(uow, pages.subject_of(web), broadcast_id)
    if broadcast.status != DRAFT:
        return RedirectResponse(f"/broadcasts/{broadcast.id}", status_code=303)
    return await _form_page(request, uow, web, broadcast, BroadcastForm.of(broadcast), flash=flash)


@router.post("/broadcasts/{broadcast_id}/edit", response_class=HTMLResponse)
async def update_broadcast(request: Request, uow: UoW, web: WebRequires["broadcasts:write"], broadcast_id: PathId
                           ) -> Response:
    broadcast = await broadcast_service.get(uow, pages.subject_of(web), broadcast_id)
    return await _save(request, uow, web, broadcast)


@router.post("/broadcasts/{broadcast_id}/delete")
async def delete_broadcast(uow: UoW, web: WebRequires["broadcasts:write"], broadcast_id: PathId) -> Response:
    await broadcast_service.delete(uow, pages.subject_of(web), broadcast_id)
    return RedirectResponse("/broadcasts?flash=deleted", status_code=303)


@router.post("/broadcasts/{broadcast_id}/pause")
async def pause_broadcast(uow: UoW, web: WebRequires["broadcasts:write"], broadcast_id: PathId) -> Response:
    await broadcast_service.pause(uow, pages.subject_of(web), broadcast_id)
    return RedirectResponse(f"/broadcasts/{broadcast_id}?flash=paused", status_code=303)


@router.post("/broadcasts/{broadcast_id}/resume")
async def resume_broadcast(uow: UoW, web: WebRequires["broadcasts:write"], broadcast_id: PathId) -> Response:
    await broadcast_service.resume(uow, pages.subject_of(web), broadcast_id)
    return RedirectResponse(f"/broadcasts/{broadcast_id}?flash=resumed", status_code=303)


@router.post("/broadcasts/{broadcast_id}/cancel")
async def cancel_broadcast(uow: UoW, web: WebRequires["broadcasts:write"], broadcast_id: PathId) -> Response:
    await broadcast_service.cancel(uow, pages.subject_of(web), broadcast_id)
    return RedirectResponse(f"/broadcasts/{broadcast_id}?flash=cancelled", status_code=303)


@router.post("/broadcasts/{broadcast_id}/resend-failed")
async def resend_failed(uow: UoW, web: WebRequires["broadcasts:write"], broadcast_id: PathId) -> Response:
    draft = await broadcast_service.resend_failed(uow, pages.subject_of(web), broadcast_id)
    return RedirectResponse(f"/broadcasts/{draft.id}/edit?flash=resend", status_code=303)


@router.post("/broadcasts/{broadcast_id}/segments")
async def outcome_segment(request: Request, uow: UoW, web: WebRequires["broadcasts:write"], broadcast_id: PathId
                          ) -> Response:
    raw = await request.form()
    outcome, name = str(raw.get("outcome") or "")[:20], str(raw.get("segment_name") or "")[:200]
    segment = await segment_from_outcome(uow, pages.subject_of(web), broadcast_id, outcome=outcome, name=name)
    return RedirectResponse(f"/segments/{segment.id}?flash=created", status_code=303)

