"""Demo requests and contact messages: validated and bounded, bots dropped by a honeypot field, at most a few per
address per hour; staff are e-mailed about each one and the requester gets a confirmation when they gave an
e-mail. Staff then mark them contacted, scheduled (with a time), done or spam, and add notes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from softdukan.audit.service import audit_service
from softdukan.auth.service import clean_email
from softdukan.backoffice.models import StaffUser
from softdukan.kit.phone import normalize
from softdukan.lead.models import CONTACT, DEMO, SCHEDULED, SPAM, STATUSES, Lead, LeadNote
from softdukan.lead.repository import LeadRepository
from softdukan.notification.service import mail_service
from softdukan.platform.errors import Invalid, NotFound, TooManyRequests
from softdukan.platform.uow import UnitOfWork

DEFAULT_SUPPORT_EMAIL = "support@softdukan.com"
PER_IP_LIMIT, PER_IP_PERIOD = 5, 3600.0  # submissions an address may make per hour
MAX_NAME, MAX_BUSINESS, MAX_PHONE, MAX_EMAIL, MAX_TIME, MAX_MESSAGE, MAX_NOTE = 120, 200, 30, 254, 100, 2000, 2000
LABELS = {DEMO: "demo request", CONTACT: "contact message"}


def support_email(settings: object) -> str:
    return str(getattr(settings, "support_email", None) or DEFAULT_SUPPORT_EMAIL)


@dataclass(frozen=True)
class LeadForm:
    """What the public form sent, as typed (validated by `submit`)."""

    kind: str
    name: str = ""
    business: str = ""
    phone: str = ""
    email: str = ""
    preferred_time: str = ""
    message: str = ""
    honeypot: str = ""  # a field people never see: anything in it is a bot


def _text(errors: dict[str, str], field: str, raw: str, label: str, max_length: int, *, required: bool,
          multiline: bool = False) -> str | None:
    value = raw.strip() if multiline else " ".join(raw.split())
    if not value:
        if required:
            errors[field] = f"{label} is required."
        return None
    if len(value) > max_length:
        errors[field] = f"Use at most {max_length} characters."
        return None
    return value


def _checked(errors: dict[str, str], field: str, raw: str, max_length: int, required: bool,
             clean: Callable[[str], str]) -> str | None:
    value = raw.strip()
    if not value:
        if required:
            errors[field] = "Required."
        return None
    if len(value) > max_length:
        errors[field] = f"Use at most {max_length} characters."
        return None
    try:
        return clean(value)
    except Invalid:
        errors[field] = "Not a valid phone number for its country (e.g. +91 98123 45678)." if field == "phone" \
            else "Not a valid e-mail address."
        return None


class LeadService:
    async def submit(self, uow: UnitOfWork, form: LeadForm, *, ip: str | None) -> Lead | None:
        """The new lead, or None when the honeypot caught a bot (which is shown the same thanks as a person)."""
        if form.kind not in (DEMO, CONTACT):
            raise NotFound("lead_kind_not_found", "No such form.")
        if form.honeypot.strip():
            return None
        key = f"lead:ip:{ip}"
        decision = await uow.runtime.limiter.peek(key, limit=PER_IP_LIMIT, period=PER_IP_PERIOD)
        if not decision.allowed:
            raise TooManyRequests("too_many_requests", "We already have several requests from you. We will be in "
                                                       "touch; or write to " + support_email(uow.settings) + ".",
                                  retry_after=decision.retry_after)
        demo = form.kind == DEMO
        errors: dict[str, str] = {}
        name = _text(errors, "name", form.name, "Your name", MAX_NAME, required=True)
        business = _text(errors, "business", form.business, "Business name", MAX_BUSINESS, required=demo)
        phone = _checked(errors, "phone", form.phone, MAX_PHONE, demo, lambda v: normalize(v, field="phone"))
        email = _checked(errors, "email", form.email, MAX_EMAIL, not demo, clean_email)
        preferred_time = _text(errors, "preferred_time", form.preferred_time, "A preferred time", MAX_TIME,
                               required=demo)
        message = _text(errors, "message", form.message, "A message", MAX_MESSAGE, required=not demo, multiline=True)
        if errors:
            raise Invalid("invalid_lead", "Please correct the marked fields.", errors)
        assert name is not None
        now = uow.clock.now()
        lead = Lead(kind=form.kind, name=name, business=business if demo else None, phone=phone if demo else None,
                    email=email, preferred_time=preferred_time if demo else None, message=message, ip=ip,
                    created_at=now)
        uow.session.add(lead)
        await uow.flush()
        await self._announce(uow, lead)
        await uow.runtime.limiter.hit(key, limit=PER_IP_LIMIT, period=PER_IP_PERIOD)
        return lead

    async def _announce(self, uow: UnitOfWork, lead: Lead) -> None:
        label = LABELS[lead.kind]
        lines = [f"A new {label} (#{lead.id}):", "", f"Name: {lead.name}"]
        lines += [f"{title}: {value}" for title, value in (
            ("Business", lead.business), ("Phone", f"+{lead.phone}" if lead.phone else None), ("E-mail", lead.email),
            ("Preferred time", lead.preferred_time)) if value]
        if lead.message:
            lines += ["", lead.message]
        lines += ["", f"Handle it: {uow.settings.base_url.rstrip('/')}/backoffice/leads/{lead.id}"]
        subject = f"New {label}: {lead.business or lead.name}"
        for address in await LeadRepository(uow.session).staff_addresses():
            await mail_service.send(uow, to=address, subject=subject[:200], text="\n".join(lines))
        if lead.email:
            what = ("We will call you to arrange a demo of SoftDukan around the time you asked for "
                    f"({lead.preferred_time})." if lead.kind == DEMO else "We will answer your message shortly.")
            await mail_service.send(
                uow, to=lead.email, subject=f"We received your {label}",
                text=f"Hello {lead.name},\n\nThank you for contacting SoftDukan. {what}\n\nIf anything changes, "
                     f"reply to {support_email(uow.settings)}.\n\nThe SoftDukan team")

    async def listing(self, uow: UnitOfWork, status: str | None = None, *, limit: int = 200) -> list[Lead]:
        return await LeadRepository(uow.session).listing(status if status in STATUSES else None, limit=limit)

    async def counts(self, uow: UnitOfWork) -> dict[str, int]:
        return await LeadRepository(uow.session).counts()

    async def get(self, uow: UnitOfWork, lead_id: int, *, for_update: bool = False) -> Lead:
        lead = await LeadRepository(uow.session).get(lead_id, for_update=for_update)
        if lead is None:
            raise NotFound("lead_not_found", f"There is no request #{lead_id}.")
        return lead

    async def notes(self, uow: UnitOfWork, lead_id: int) -> list[LeadNote]:
        return await LeadRepository(uow.session).notes(lead_id)

    async def set_status(self, uow: UnitOfWork, staff: StaffUser, lead_id: int, status: str, *,
                         scheduled_for: datetime | None = None, ip: str | None = None) -> Lead:
        if status not in STATUSES:
            raise Invalid("invalid_status", "Choose contacted, scheduled, done or spam.",
                          {"status": "Unknown status."})
        if status == SCHEDULED and scheduled_for is None:
            raise Invalid("missing_time", "Say when the demo is scheduled.", {"scheduled_for": "Date and time."})
        lead = await self.get(uow, lead_id, for_update=True)
        previous = lead.status
        lead.status = status
        lead.scheduled_for = scheduled_for if status == SCHEDULED else lead.scheduled_for
        lead.status_changed_at, lead.handled_by = uow.clock.now(), staff.id
        audit_service.record(uow, "lead.status_changed", actor_type="staff", actor_id=staff.id,
                             actor_label=staff.email, target=lead, target_label=f"{LABELS[lead.kind]} #{lead.id}",
                             ip=ip, previous=previous, status=status,
                             scheduled_for=scheduled_for.isoformat() if scheduled_for and status == SCHEDULED
                             else None, spam=status == SPAM)
        return lead

    async def add_note(self, uow: UnitOfWork, staff: StaffUser, lead_id: int, text: str, *,
                       ip: str | None = None) -> LeadNote:
        text = text.strip()
        if not text:
            raise Invalid("empty_note", "Write the note first.", {"text": "Required."})
        if len(text) > MAX_NOTE:
            raise Invalid("too_long", f"A note is at most {MAX_NOTE} characters.", {"text": "Too long."})
        lead = await self.get(uow, lead_id)
        note = LeadNote(lead_id=lead.id, staff_id=staff.id, staff_label=staff.name or staff.email, text=text,
                        created_at=uow.clock.now())
        uow.session.add(note)
        audit_service.record(uow, "lead.note_added", actor_type="staff", actor_id=staff.id, actor_label=staff.email,
                             target=lead, target_label=f"{LABELS[lead.kind]} #{lead.id}", ip=ip)
        return note


lead_service = LeadService()
