"""Message templates: check Meta's rules, submit, list, delete, and sync from the WhatsApp account.

Calls to Meta happen after `uow.release()`, so no transaction is held while Meta answers. A template is stored
(status SUBMITTING) and committed *before* the create call: the review webhook may arrive before Meta's answer
does, and it must find the row. A refused submission deletes that row again, so nothing is left half-written.

Webhook updates (status, category, quality) are applied by `softdukan/template/webhooks.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from softdukan.auth.subject import Subject
from softdukan.number.errors import meta_call
from softdukan.number.graph import account_client
from softdukan.number.models import WhatsAppAccount
from softdukan.number.service import number_and_account, numbers_in_organization
from softdukan.platform.errors import Conflict, Invalid, NotFound
from softdukan.platform.uow import UnitOfWork
from softdukan.template import rules
from softdukan.template.events import TemplateUpdated
from softdukan.template.models import DELETED, NAMED, POSITIONAL, SUBMITTING, MessageTemplate
from softdukan.template.repository import TemplateRepository
from softdukan.template.sync import apply_listing
from softdukan.whatsapp.client import MediaValidationError, upload_kind
from softdukan.whatsapp.errors import GraphError

TEMPLATE_NOT_FOUND_AT_META = 2388042  # deleting a template Meta no longer has: it is gone either way


def emit_template(uow: UnitOfWork, template: MessageTemplate) -> None:
    uow.emit(TemplateUpdated(organization_id=template.organization_id, template_id=template.id, name=template.name,
                             language=template.language, status=template.status, category=template.category,
                             quality=template.quality, reason=template.rejected_reason))


@dataclass(frozen=True)
class HeaderSample:
    handle: str
    file_type: str
    file_size: int
    file_name: str
    account_id: int | None = None


MAX_SAMPLE_BYTES = 100 * 1024 * 1024  # a PDF sample; images (5 MB) and videos (16 MB) are checked by type
# header format → the sample types Meta's resumable upload takes for it (a GIF header plays an MP4)
HEADER_SAMPLE_TYPES = {"IMAGE": ("image/jpeg", "image/png"), "VIDEO": ("video/mp4",), "GIF": ("video/mp4",),
                       "DOCUMENT": ("application/pdf",)}
_SAMPLE_WORDS = {"IMAGE": "a JPEG or PNG image", "VIDEO": "an MP4 video", "GIF": "an MP4 video",
                 "DOCUMENT": "a PDF document"}


def check_header_sample(data: bytes, *, file_type: str, file_name: str,
                        header_format: str | None = None) -> HeaderSample:
    """The sample as it will be uploaded (clean name, plain MIME type), or Invalid naming the `file` problem."""
    mime = (file_type or "").split(";", 1)[0].strip().lower()
    mime = "image/jpeg" if mime == "image/jpg" else mime
    fmt = (header_format or "").strip().upper()
    if fmt and fmt not in HEADER_SAMPLE_TYPES:
        raise Invalid("header_format", "The sample file is for an IMAGE, VIDEO or DOCUMENT header.",
                      {"header_format": "Choose IMAGE, VIDEO or DOCUMENT."})
    try:
        upload_kind(mime, data)
    except MediaValidationError as exc:
        raise Invalid("header_sample_invalid", exc.limit_description, {"file": exc.limit_description}) from None
    if fmt and mime not in HEADER_SAMPLE_TYPES[fmt]:
        message = f"A {fmt.lower()} header needs {_SAMPLE_WORDS[fmt]} as its sample; this file is {mime}."
        raise Invalid("header_sample_type", message, {"file": message})
    name = (file_name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()[:200]
    name = "".join(ch for ch in name if ch.isprintable()) or "sample." + mime.rsplit("/", 1)[-1]
    return HeaderSample(handle="", file_type=mime, file_size=len(data), file_name=name)


@dataclass(frozen=True)
class SyncReport:
    created: int
    updated: int
    removed: int


class TemplateService:
    # -- reads ------------------------------------------------------------------------------------------------

    async def list(self, uow: UnitOfWork, subject: Subject, *, status: str | None = None, name: str | None = None,
                   account_id: int | None = None, after_id: int | None = None, limit: int = 50
                   ) -> list[MessageTemplate]:
        subject.require("templates:read")
        return await TemplateRepository(uow.session).page(subject, status=status, name=name, account_id=account_id,
                                                          after_id=after_id, limit=limit)

    async def get(self, uow: UnitOfWork, subject: Subject, template_id: int) -> MessageTemplate:
        subject.require("templates:read")
        template = await TemplateRepository(uow.session).get(subject, template_id)
        if template is None:
            raise NotFound("template_not_found", "No such template in this organization.")
        return template

    async def accounts(self, uow: UnitOfWork, subject: Subject) -> list[WhatsAppAccount]:
        """The organization's WhatsApp accounts that have a number (templates belong to an account)."""
        found: dict[int, WhatsAppAccount] = {}
        for number in await numbers_in_organization(uow, subject):
            pair = await number_and_account(uow, subject.organization_id, number.id)
            if pair is not None:
                found.setdefault(pair[1].id, pair[1])
        return list(found.values())

    async def account(self, uow: UnitOfWork, subject: Subject, account_id: int | None) -> WhatsAppAccount:
        accounts = await self.accounts(uow, subject)
        if account_id is not None:
            chosen = next((a for a in accounts if a.id == account_id), None)
            if chosen is None:
                raise NotFound("whatsapp_account_not_found", "No such WhatsApp Business account in this organization.")
            return chosen
        if not accounts:
            raise Invalid("no_whatsapp_account", "Connect a WhatsApp number first: templates belong to its account.",
                          {"account_id": "Connect a WhatsApp number first."})
        if len(accounts) > 1:
            raise Invalid("account_required", "This organization has several WhatsApp accounts: choose one.",
                          {"account_id": "Choose the WhatsApp account."})
        return accounts[0]

    # -- submit -----------------------------------------------------------------------------------------------

    async def create(self, uow: UnitOfWork, subject: Subject, definition: dict[str, Any], *,
                     account_id: int | None = None) -> MessageTemplate:
        """Check Meta's rules, store the template and submit it for review (it comes back PENDING)."""
        subject.require("templates:write")
        account = await self.account(uow, subject, account_id)
        problems = rules.check(definition)
        if problems:
            raise Invalid("template_invalid", _problems_message(problems), rules.details(problems))
        body = rules.normalise(definition)
        repository = TemplateRepository(uow.session)
        template = await repository.by_name(subject, account.id, body["name"], body["language"])
        if template is not None and template.status != DELETED:
            raise Conflict("template_exists", f"A template named {body['name']} already exists in "
                                              f"{body['language']} (status {template.status.lower()}).",
                           {"template_id": template.id})
        now = uow.clock.now()
        reused = template is not None  # a deleted template of that name and language comes back to life
        if template is None:
            template = repository.add(MessageTemplate(organization_id=subject.organization_id, account_id=account.id,
                                                      name=body["name"], language=body["language"],
                                                      created_at=now))
        template.meta_template_id = None
        template.category, template.previous_category = body["category"], None
        template.parameter_format = NAMED if body["parameter_format"] == "NAMED" else POSITIONAL
        template.components = body["components"]
        template.status, template.rejected_reason, template.status_detail = SUBMITTING, None, None
        template.quality, template.status_event_at, template.submitted_at, template.updated_at = (
            "UNKNOWN", None, now, now)
        try:
            await uow.flush()
        except IntegrityError:  # the same name and language submitted at the same moment by someone else
            raise Conflict("template_exists", f"A template named {body['name']} already exists in "
                                              f"{body['language']}.") from None
        await uow.release()  # committed before Meta is called: the review webhook must find the row
        try:
            async with meta_call("submit the template"), account_client(uow.runtime, account) as client:
                created = await client.create_template(account.waba_id, **body)
        except Exception:
            if reused:
                template.status = DELETED
            else:
                await uow.session.delete(template)
            await uow.release()
            raise
        await uow.session.refresh(template)  # a webhook may have moved it on meanwhile
        template.meta_template_id = created.id
        if template.status == SUBMITTING:
            template.status = created.status.upper()
        if created.category and created.category.upper() != template.category and template.previous_category is None:
            template.previous_category, template.category = template.category, created.category.upper()
        template.updated_at = uow.clock.now()
        from softdukan.audit.service import audit_service

        audit_service.record(uow, "template.submitted", subject=subject, target=template,
                             target_label=f"{template.name} ({template.language})")
        emit_template(uow, template)
        return template

    # -- media header samples ---------------------------------------------------------------------------------

    async def upload_header_sample(self, uow: UnitOfWork, subject: Subject, data: bytes, *, file_type: str,
                                   file_name: str, header_format: str | None = None,
                                   account_id: int | None = None) -> HeaderSample:
        """Upload a sample file for an image, video or document header through Meta's Resumable Upload API (on the
        account's app) and return its handle, which goes in the header's `example.header_handle`."""
        subject.require("templates:write")
        account = await self.account(uow, subject, account_id)  # another organization's account: 404 first
        sample = check_header_sample(data, file_type=file_type, file_name=file_name, header_format=header_format)
        app_id = account.app_id or uow.settings.platform_app[0]
        await uow.release()  # no transaction held while Meta receives the file
        async with meta_call("upload the sample file"), account_client(uow.runtime, account) as client:
            handle = await client.upload_file(app_id, data, file_name=sample.file_name, file_type=sample.file_type)
        return HeaderSample(handle=handle, file_type=sample.file_type, file_size=len(data),
                            file_name=sample.file_name, account_id=account.id)

    # -- delete -----------------------------------------------------------------------------------------------

    async def delete(self, uow: UnitOfWork, subject: Subject, template_id: int) -> MessageTemplate:
        """Delete this language of the template at Meta (by name and its id), then mark it deleted here."""
        subject.require("templates:write")
        template = await self.get(uow, subject, template_id)
        if template.status == DELETED:
            return template
        account = await self.account(uow, subject, template.account_id)
        if template.meta_template_id:
            await uow.release()
            try:
                async with meta_call("delete the template"), account_client(uow.runtime, account) as client:
                    await client.delete_template(account.waba_id, template.name, hsm_id=template.meta_template_id)
            except Exception as exc:
                cause = exc.__cause__ if isinstance(exc.__cause__, GraphError) else None
                if cause is None or cause.body.error_subcode != TEMPLATE_NOT_FOUND_AT_META:
                    raise
        template.status, template.updated_at = DELETED, uow.clock.now()
        from softdukan.audit.service import audit_service

        audit_service.record(uow, "template.deleted", subject=subject, target=template,
                             target_label=f"{template.name} ({template.language})")
        emit_template(uow, template)
        return template

    # -- sync -------------------------------------------------------------------------------------------------

    async def sync(self, uow: UnitOfWork, subject: Subject, *, account_id: int | None = None) -> SyncReport:
        """Pull every template of the account(s) from Meta, page by page, and upsert them here."""
        subject.require("templates:write")
        accounts = [await self.account(uow, subject, account_id)] if account_id is not None else \
            await self.accounts(uow, subject)
        if not accounts:
            raise Invalid("no_whatsapp_account", "Connect a WhatsApp number first: templates belong to its account.",
                          {"account_id": "Connect a WhatsApp number first."})
        totals = [0, 0, 0]
        for account in accounts:
            await uow.release()
            async with meta_call("list the account's templates"), account_client(uow.runtime, account) as client:
                items = [item async for item in client.iter_templates(account.waba_id, limit=200)]
            existing = await TemplateRepository(uow.session).of_account(subject, account.id)
            changed, counts = apply_listing(uow, account, existing, items)
            for template in changed:
                uow.session.add(template)
            await uow.flush()
            for template in changed:
                emit_template(uow, template)
            totals = [a + b for a, b in zip(totals, counts, strict=True)]
        return SyncReport(*totals)


def _problems_message(problems: list[rules.Problem]) -> str:
    if len(problems) == 1:
        return problems[0].message
    return f"The template breaks {len(problems)} of WhatsApp's rules: " + " ".join(p.message for p in problems)


template_service = TemplateService()
