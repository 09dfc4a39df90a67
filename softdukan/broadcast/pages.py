"""What the broadcast pages (broadcast/views.py) show, gathered from the services: the form's choices (numbers,
approved templates of the number's account, segments, tags, attributes), the form → BroadcastInput, the live
panel's breakdown, preview and audience sample, and a broadcast's live part (status, notice, funnel)."""

from __future__ import annotations

import dataclasses
from typing import Any

from fastapi import Request
from sqlalchemy import select
from starlette.datastructures import FormData, UploadFile

from softdukan.auth.subject import Subject
from softdukan.broadcast import audience as aud
from softdukan.broadcast import states as s
from softdukan.broadcast.forms import FIELD_LABELS, FILE_MAX, SOURCES, BroadcastForm, form_id
from softdukan.broadcast.models import Broadcast
from softdukan.broadcast.service import BroadcastInput, broadcast_service
from softdukan.contact.models import Contact
from softdukan.contact.phones import display_phone
from softdukan.dashboard.context import WebContext
from softdukan.number.models import CONNECTED, PhoneNumber
from softdukan.number.service import numbers_in_organization
from softdukan.platform.errors import DomainError, Invalid
from softdukan.platform.uow import UnitOfWork
from softdukan.segment.service import segment_service
from softdukan.template.form import Preview, preview, whatsapp_markup
from softdukan.template.models import NAMED, MessageTemplate
from softdukan.template.send_form import approved_templates
from softdukan.template.service import template_service
from softdukan.wallet.usage import broadcast_cost

LIST_PAGE = 50
RECIPIENT_PAGE = 50
SAMPLE = 20  # contacts offered in the preview's picker
STATE_FILTERS = (s.PENDING, s.WAITING, s.SENDING_R, s.SENT, s.FAILED, s.SKIPPED, s.CANCELLED_R)
# form field for each error path the service names
_ERROR_FIELDS = {"scheduled_at": "scheduled_local", "audience.segment_id": "segment_id", "audience.tags": "tags",
                 "audience.numbers": "numbers", "audience.kind": "audience", "retry_days_131049": "retry_days_131049"}


def subject_of(web: WebContext) -> Subject:
    assert web.subject is not None
    return web.subject


def tz_of(web: WebContext) -> str:
    return (web.organization.timezone if web.organization else None) or "Asia/Kolkata"


def cursor_id(cursor: str | None) -> int | None:
    return form_id(cursor or "")


async def _quietly(call: Any, default: Any) -> Any:
    """A choice list the member may not be allowed to read (e.g. segments) is left empty rather than refused."""
    try:
        return await call
    except DomainError:
        return default


async def segment_names(uow: UnitOfWork, web: WebContext) -> dict[int, str]:
    found = await _quietly(segment_service.list(uow, subject_of(web), limit=200), [])
    return {segment.id: segment.name for segment in found}


def audience_text(audience: dict[str, Any] | None, segments: dict[int, str]) -> str:
    audience = audience or {}
    kind = audience.get("kind")
    if kind == "segment":
        return f"Segment: {segments.get(audience.get('segment_id') or 0, '(deleted segment)')}"
    if kind == "tags":
        joiner = " and " if audience.get("match") == "all" else " or "
        return "Tagged " + joiner.join(audience.get("tags") or [])
    if kind == "list":
        n = len(audience.get("numbers") or [])
        return f"A list of {n:,} number{'' if n == 1 else 's'}"
    if kind == "outcome":
        return f"The {audience.get('outcome', 'failed')} recipients of broadcast #{audience.get('broadcast_id')}"
    return "All contacts"


async def parse_form(request: Request, *, raw: FormData | None = None, with_file: bool = True) -> BroadcastForm:
    raw = raw if raw is not None else await request.form()
    upload = raw.get("numbers_file") if with_file else None
    data = None
    if isinstance(upload, UploadFile) and upload.filename and raw.get("audience_kind") == "list":
        data = await upload.read(FILE_MAX + 1)
    return BroadcastForm.parse(raw, data)


async def form_context(uow: UnitOfWork, web: WebContext, form: BroadcastForm) -> dict[str, Any]:
    subject = subject_of(web)
    numbers = [n for n in await numbers_in_organization(uow, subject) if n.status == CONNECTED]
    chosen = form_id(form.phone_number_id)
    phone: PhoneNumber | None = next((n for n in numbers if n.id == chosen), None) or next(
        (n for n in numbers if n.is_default), numbers[0] if numbers else None)
    templates = await approved_templates(uow, subject, phone) if phone is not None else []
    template = next((t for t in templates if t.id == form_id(form.template_id)), None)
    segments = await _quietly(segment_service.list(uow, subject, limit=200), [])
    attributes, tags = await _quietly(segment_service.builder_choices(uow, subject), ([], []))
    return {"form": form, "numbers": numbers, "phone": phone, "templates": templates, "template": template,
            "rows": form.rows_for(template), "segments": segments, "tag_names": tags, "attributes": attributes,
            "field_labels": FIELD_LABELS, "sources": SOURCES, "display_phone": display_phone,
            "template_preview": _template_preview(template) if template is not None else None}


def _template_preview(template: MessageTemplate) -> Preview:
    return preview(list(template.components or []), named=template.parameter_format == NAMED)


async def input_of(uow: UnitOfWork, web: WebContext, form: BroadcastForm) -> BroadcastInput:
    template_id = form_id(form.template_id)
    if template_id is None:
        raise Invalid("missing_field", "Choose an approved template.", {"template_id": "Choose a template."})
    template = await template_service.get(uow, subject_of(web), template_id)
    return BroadcastInput(name=form.name, template_id=template_id, audience=form.audience(),
                          phone_number_id=form_id(form.phone_number_id), variables=form.variables_for(template),
                          retry_days_131049=form.retry_days())


async def check(uow: UnitOfWork, web: WebContext, draft: Broadcast, contact_id: int | None) -> dict[str, Any]:
    """Breakdown, preview and the audience's first contacts of a (not yet committed) draft, as plain values: the
    caller rolls the draft back."""
    subject = subject_of(web)
    breakdown = await broadcast_service.breakdown(uow, subject, draft)
    found = await broadcast_service.preview(uow, subject, draft, contact_id)
    template = await template_service.get(uow, subject, draft.template_id or 0)
    bubble = None
    if found.body is not None:
        bubble = dataclasses.replace(_template_preview(template), body=whatsapp_markup(found.body),
                                     header_text=whatsapp_markup(found.header) if found.header else None)
    region = (web.organization.country_code if web.organization else None) or "IN"
    condition = await aud.contact_condition(uow, draft, region)
    sample = (await uow.session.execute(
        select(Contact.id, Contact.name, Contact.profile_name, Contact.wa_id)
        .where(Contact.organization_id == draft.organization_id, condition).order_by(Contact.id).limit(SAMPLE))).all()
    contact = found.contact
    return {"breakdown": dataclasses.replace(breakdown), "bubble": bubble, "error": found.error,
            "contact": {"id": contact.id, "name": contact.name or contact.profile_name or "", "wa_id": contact.wa_id}
            if contact is not None else None,
            "candidates": [{"id": r.id, "name": r.name or r.profile_name or "", "wa_id": r.wa_id} for r in sample]}


def field_errors(errors: dict[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for path, message in errors.items():
        if path.startswith("variables."):
            out[f"val:{path[len('variables.'):]}"] = message
        else:
            out[_ERROR_FIELDS.get(path, path)] = message
    return out


async def live_context(uow: UnitOfWork, web: WebContext, broadcast: Broadcast) -> dict[str, Any]:
    subject = subject_of(web)
    funnel = await broadcast_service.funnel(uow, subject, broadcast) if broadcast.status != s.DRAFT else None
    breakdown = await _quietly(broadcast_service.breakdown(uow, subject, broadcast), None)
    cost = (await broadcast_cost(uow, broadcast.organization_id, broadcast.id)
            if funnel is not None and web.can("wallet:read") else None)
    return {"broadcast": broadcast, "funnel": funnel, "breakdown": breakdown, "tz": tz_of(web), "cost": cost,
            "active": broadcast.status in s.ACTIVE,
            "audience": audience_text(broadcast.audience, await segment_names(uow, web))}
