"""/v1/contacts and /v1/contact-attributes.

Numbers are normalised to E.164 (stored as digits without "+"); an invalid number is a 422 naming the field and the
reason, a number that is already a contact a 409 naming it (`details.contact_id`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from softdukan.auth.subject import Subject
from softdukan.contact.attributes import attribute_service
from softdukan.contact.consent import consent_service
from softdukan.contact.directory import UNSET, contact_directory
from softdukan.contact.export import export_csv
from softdukan.contact.models import BLOCKED, OPTED_IN, OPTED_OUT, UNBLOCKED
from softdukan.contact.notes import note_service
from softdukan.contact.schemas import (
    AttributeIn,
    AttributeOut,
    AttributePatch,
    ContactIn,
    ContactOut,
    ContactPage,
    ContactPatch,
    NoteIn,
    NoteOut,
    attribute_out,
    contact_out,
    note_out,
)
from softdukan.kit.ids import PathId
from softdukan.platform.deps import Requires, UoW, get_runtime
from softdukan.platform.http import error_responses
from softdukan.platform.uow import UnitOfWork

router = APIRouter(tags=["contacts"])
Search = Annotated[str, Query(max_length=100)]
Cursor = Annotated[str | None, Query(max_length=20, description="next_cursor of the previous page")]


@router.get("/contacts", response_model=ContactPage, responses=error_responses())
async def list_contacts(uow: UoW, subject: Requires["contacts:read"], q: Search = "", tag: Search = "",
                        attribute_key: Search = "", attribute_value: Search = "", cursor: Cursor = None,
                        limit: Annotated[int, Query(ge=1, le=200)] = 50) -> ContactPage:
    """Newest first. `q` matches the name or the number; `tag` a tag; `attribute_key` + `attribute_value` an
    attribute's value (read in the attribute's type)."""
    f = await contact_directory.filter(uow, subject, q=q, tag=tag, attribute_key=attribute_key,
                                       attribute_value=attribute_value)
    page = await contact_directory.search(uow, subject, f, cursor=cursor, limit=limit)
    return ContactPage(data=[contact_out(v) for v in page.views], next_cursor=page.next_cursor)


@router.post("/contacts", response_model=ContactOut, status_code=201, responses=error_responses(409))
async def create_contact(body: ContactIn, uow: UoW, subject: Requires["contacts:write"]) -> ContactOut:
    view = await contact_directory.create(uow, subject, phone=body.phone, name=body.name,
                                          attributes=dict(body.attributes), tags=body.tags,
                                          opt_in_source=body.opt_in_source, source="api")
    return contact_out(view)


@router.get("/contacts/export", response_class=StreamingResponse, responses={
    **error_responses(), 200: {"description": "Every matching contact as CSV", "content": {"text/csv": {}}}})
async def export_contacts(request: Request, uow: UoW, subject: Requires["contacts:export"], q: Search = "",
                          tag: Search = "", attribute_key: Search = "", attribute_value: Search = ""
                          ) -> StreamingResponse:
    f = await contact_directory.filter(uow, subject, q=q, tag=tag, attribute_key=attribute_key,
                                       attribute_value=attribute_value)
    return await export_csv(uow, get_runtime(request), subject, f)


@router.get("/contacts/{contact_id}", response_model=ContactOut, responses=error_responses(404))
async def get_contact(contact_id: PathId, uow: UoW, subject: Requires["contacts:read"]) -> ContactOut:
    return contact_out(await contact_directory.get(uow, subject, contact_id))


@router.patch("/contacts/{contact_id}", response_model=ContactOut, responses=error_responses(404, 409))
async def update_contact(contact_id: PathId, body: ContactPatch, uow: UoW, subject: Requires["contacts:write"]
                         ) -> ContactOut:
    sent = body.model_fields_set
    view = await contact_directory.update(
        uow, subject, contact_id, phone=body.phone if "phone" in sent and body.phone is not None else UNSET,
        name=body.name if "name" in sent else UNSET, attributes=dict(body.attributes or {}), tags=body.tags)
    return contact_out(view)


@router.delete("/contacts/{contact_id}", status_code=204, responses=error_responses(404))
async def delete_contact(contact_id: PathId, uow: UoW, subject: Requires["contacts:write"]) -> Response:
    """Deletes the contact with its conversations, messages and notes."""
    await contact_directory.delete(uow, subject, contact_id)
    return Response(status_code=204)


async def _consent(uow: UnitOfWork, subject: Subject, contact_id: int, action: str) -> ContactOut:
    await consent_service.apply(uow, subject, contact_id, action, source="api")
    return contact_out(await contact_directory.get(uow, subject, contact_id))


@router.post("/contacts/{contact_id}/opt-out", response_model=ContactOut, responses=error_responses(404))
async def opt_out(contact_id: PathId, uow: UoW, subject: Requires["contacts:write"]) -> ContactOut:
    """The contact gets no more marketing messages (recorded on its timeline)."""
    return await _consent(uow, subject, contact_id, OPTED_OUT)


@router.post("/contacts/{contact_id}/opt-in", response_model=ContactOut, responses=error_responses(404))
async def opt_in(contact_id: PathId, uow: UoW, subject: Requires["contacts:write"]) -> ContactOut:
    return await _consent(uow, subject, contact_id, OPTED_IN)


@router.post("/contacts/{contact_id}/block", response_model=ContactOut, responses=error_responses(404))
async def block(contact_id: PathId, uow: UoW, subject: Requires["contacts:write"]) -> ContactOut:
    """Blocked contacts receive nothing."""
    return await _consent(uow, subject, contact_id, BLOCKED)


@router.post("/contacts/{contact_id}/unblock", response_model=ContactOut, responses=error_responses(404))
async def unblock(contact_id: PathId, uow: UoW, subject: Requires["contacts:write"]) -> ContactOut:
    return await _consent(uow, subject, contact_id, UNBLOCKED)


@router.get("/contacts/{contact_id}/notes", response_model=list[NoteOut], responses=error_responses(404))
async def list_notes(contact_id: PathId, uow: UoW, subject: Requires["contacts:read"]) -> list[NoteOut]:
    return [note_out(n) for n in await note_service.list(uow, subject, contact_id)]


@router.post("/contacts/{contact_id}/notes", response_model=NoteOut, status_code=201, responses=error_responses(404))
async def add_note(contact_id: PathId, body: NoteIn, uow: UoW, subject: Requires["contacts:write"]) -> NoteOut:
    return note_out(await note_service.add(uow, subject, contact_id, body.text))


@router.get("/contact-attributes", response_model=list[AttributeOut], responses=error_responses())
async def list_attributes(uow: UoW, subject: Requires["contacts:read"]) -> list[AttributeOut]:
    return [attribute_out(a) for a in await attribute_service.list(uow, subject)]


@router.post("/contact-attributes", response_model=AttributeOut, status_code=201, responses=error_responses(409))
async def create_attribute(body: AttributeIn, uow: UoW, subject: Requires["contact_attributes:write"]) -> AttributeOut:
    attribute = await attribute_service.create(uow, subject, key=body.key, label=body.label, type_=body.type,
                                               options=body.options)
    await uow.flush()
    return attribute_out(attribute)


@router.get("/contact-attributes/{attribute_id}", response_model=AttributeOut, responses=error_responses(404))
async def get_attribute(attribute_id: PathId, uow: UoW, subject: Requires["contacts:read"]) -> AttributeOut:
    return attribute_out(await attribute_service.get(uow, subject, attribute_id))


@router.patch("/contact-attributes/{attribute_id}", response_model=AttributeOut, responses=error_responses(404))
async def update_attribute(attribute_id: PathId, body: AttributePatch, uow: UoW,
                           subject: Requires["contact_attributes:write"]) -> AttributeOut:
    """Label and choice options can change; key and type can't."""
    return attribute_out(await attribute_service.update(uow, subject, attribute_id, label=body.label,
                                                        options=body.options))


@router.delete("/contact-attributes/{attribute_id}", status_code=204, responses=error_responses(404))
async def delete_attribute(attribute_id: PathId, uow: UoW, subject: Requires["contact_attributes:write"]) -> Response:
    """Removes the definition and every contact's value of it."""
    await attribute_service.delete(uow, subject, attribute_id)
    return Response(status_code=204)
