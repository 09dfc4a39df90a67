"""Broadcasts for the dashboard and the API: drafts, the audience breakdown and estimate, per-contact preview,
launch (now or scheduled in the organization's timezone), pause, resume, cancel, resend to failed, the funnel.

    data = BroadcastInput(name="Diwali sale", template_id=7, audience={"kind": "segment", "segment_id": 3},
                          variables={"mapping": {"body.1": {"source": "field", "value": "first_name",
                                                            "fallback": "there"}}})
    broadcast = await broadcast_service.create(uow, subject, data)
    await broadcast_service.launch(uow, subject, broadcast.id, scheduled_at=None)   # now
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from softdukan.auth.subject import Subject
from softdukan.broadcast import audience as aud
from softdukan.broadcast import states as s
from softdukan.broadcast.dispatch import enqueue_dispatch
from softdukan.broadcast.estimate import PREFIX_DIGITS, estimate_units
from softdukan.broadcast.events import progressed
from softdukan.broadcast.funnel import Funnel, RecipientRow, build_funnel
from softdukan.broadcast.models import Broadcast, BroadcastRecipient
from softdukan.broadcast.pausing import notice_for, pause_broadcast
from softdukan.broadcast.repository import BroadcastRepository
from softdukan.broadcast.tier import allowance
from softdukan.contact.models import Contact
from softdukan.number.models import CONNECTED, PhoneNumber, WhatsAppAccount
from softdukan.number.service import sending_number
from softdukan.organization.models import Organization
from softdukan.platform.errors import Conflict, Invalid, NotFound
from softdukan.platform.uow import UnitOfWork
from softdukan.segment.models import Segment
from softdukan.template.models import MessageTemplate
from softdukan.template.repository import TemplateRepository
from softdukan.template.sending import TemplateSpec, check_sendable, filled, message_for_contact, parse_spec
from softdukan.template.variables import template_variables

START_TASK = "broadcast.start"
NAME_MAX = 120


@dataclass
class BroadcastInput:
    name: str
    template_id: int
    audience: dict[str, Any]
    phone_number_id: int | None = None
    variables: dict[str, Any] = field(default_factory=dict)  # {"values": {...}, "mapping": {...}}
    retry_days_131049: int = 2


@dataclass
class Breakdown:
    total: int = 0
    eligible: int = 0
    opted_out: int = 0
    blocked: int = 0
    invalid_number: int = 0
    duplicate: int = 0
    missing_variable: int = 0
    over_tier: int = 0
    tier: str = ""
    remaining_allowance: int | None = None
    estimate_units: int = 0
    frozen: bool = False  # counted at the snapshot (launched) rather than now

    @property
    def estimate_rupees(self) -> str:
        from softdukan.kit.money import credits_to_paisa as rupees

        return rupees(self.estimate_units)


@dataclass
class RecipientPreview:
    contact: Contact | None
    header: str | None = None
    body: str | None = None
    error: str | None = None


class BroadcastService:
    # --- drafts ---------------------------------------------------------------------------------------------------

    async def create(self, uow: UnitOfWork, subject: Subject, data: BroadcastInput) -> Broadcast:
        subject.require("broadcasts:write")
        broadcast = Broadcast(organization_id=subject.organization_id, status=s.DRAFT,
                              created_by_membership_id=subject.membership_id,
                              created_by_label=(getattr(subject, "label", None) or "")[:254],
                              created_at=uow.clock.now(), updated_at=uow.clock.now())
        await self._fill(uow, subject, broadcast, data)
        uow.session.add(broadcast)
        await uow.flush()
        return broadcast

    async def update(self, uow: UnitOfWork, subject: Subject, broadcast_id: int, data: BroadcastInput) -> Broadcast:
        subject.require("broadcasts:write")
        broadcast = await self.get(uow, subject, broadcast_id)
        if broadcast.status != s.DRAFT:
            raise Conflict("broadcast_not_draft", "Only a draft can be edited; this broadcast was already "
                                                  f"{broadcast.status}.")
        await self._fill(uow, subject, broadcast, data)
        broadcast.updated_at = uow.clock.now()
        return broadcast

    async def _fill(self, uow: UnitOfWork, subject: Subject, broadcast: Broadcast, data: BroadcastInput) -> None:
        name = " ".join((data.name or "").split())
        if not name or len(name) > NAME_MAX:
            raise Invalid("invalid_name", f"Give the broadcast a name of 1 to {NAME_MAX} characters.",
                          {"name": "Required." if not name else f"At most {NAME_MAX} characters."})
        if not 0 <= data.retry_days_131049 <= 7:
            raise Invalid("invalid_retry_days", "Retry days for messages WhatsApp held back must be 0 to 7.",
                          {"retry_days_131049": "0 to 7."})
        phone = await sending_number(uow, subject, data.phone_number_id, purpose="creating a broadcast")
        template = await TemplateRepository(uow.session).get(subject, data.template_id)
        if template is None:
            raise NotFound("template_not_found", "No such template in this organization.")
        if template.account_id != phone.account_id:
            check_sendable(template, phone)  # says it belongs to another account
        spec = _spec(template, data.variables)
        _check_covered(template, spec)
        audience = aud.check_audience(data.audience)
        await self._check_audience_refs(uow, subject, audience)
        broadcast.name, broadcast.phone_number_id, broadcast.template_id = name, phone.id, template.id
        broadcast.template_name, broadcast.template_language = template.name, template.language
        broadcast.template_category = template.category
        broadcast.variables = {"values": dict(spec.values), "mapping": {
            k: {"source": v.source, "value": v.value, "fallback": v.fallback} for k, v in spec.mapping.items()}}
        broadcast.audience, broadcast.retry_days_131049 = audience, data.retry_days_131049

    async def _check_audience_refs(self, uow: UnitOfWork, subject: Subject, audience: dict[str, Any]) -> None:
        if audience["kind"] == "segment":
            found = await uow.session.scalar(select(Segment.id).where(
                Segment.organization_id == subject.organization_id, Segment.id == audience["segment_id"]))
            if found is None:
                raise NotFound("segment_not_found", "No such segment in this organization.")
        elif audience["kind"] == "tags":
            from softdukan.contact.models import Tag

            known = set((await uow.session.execute(select(Tag.name_key).where(
                Tag.organization_id == subject.organization_id,
                Tag.name_key.in_([t.casefold() for t in audience["tags"]])))).scalars())
            missing = [t for t in audience["tags"] if t.casefold() not in known]
            if missing:
                raise Invalid("unknown_tags", f"No contact has the tag(s): {', '.join(missing)[:200]}.",
                              {"audience.tags": "Unknown: " + ", ".join(missing)[:200]})
        elif audience["kind"] == "outcome":
            source = await BroadcastRepository(uow.session).get(subject, audience["broadcast_id"])
            if source is None:
                raise NotFound("broadcast_not_found", "No such broadcast in this organization.")

    async def get(self, uow: UnitOfWork, subject: Subject, broadcast_id: int) -> Broadcast:
        subject.require("broadcasts:read")
        broadcast = await BroadcastRepository(uow.session).get(subject, broadcast_id)
        if broadcast is None:
            raise NotFound("broadcast_not_found", "No such broadcast in this organization.")
        return broadcast

    async def list(self, uow: UnitOfWork, subject: Subject, *, after: int | None = None, limit: int = 50
                   ) -> list[Broadcast]:
        subject.require("broadcasts:read")
        return await BroadcastRepository(uow.session).page(subject, after_id=after, limit=max(1, min(limit, 200)))

    async def delete(self, uow: UnitOfWork, subject: Subject, broadcast_id: int) -> None:
        subject.require("broadcasts:write")
        broadcast = await self.get(uow, subject, broadcast_id)
        if broadcast.status != s.DRAFT:
            raise Conflict("broadcast_not_draft", "Only drafts can be deleted; cancel a broadcast instead.")
        await uow.session.delete(broadcast)

    # --- before sending -------------------------------------------------------------------------------------------

    async def _parts(self, uow: UnitOfWork, broadcast: Broadcast) -> tuple[PhoneNumber, WhatsAppAccount,
                                                                             MessageTemplate, str]:
        phone = await uow.session.get(PhoneNumber, broadcast.phone_number_id)
        account = await uow.session.get(WhatsAppAccount, phone.account_id) if phone else None
        template = await uow.session.get(MessageTemplate, broadcast.template_id) if broadcast.template_id else None
        if phone is None or account is None:
            raise Conflict("number_not_connected", "The broadcast's number is gone; choose another one.")
        if template is None:
            raise Conflict("template_not_found", "The broadcast's template was deleted; choose another one.")
        org = await uow.session.get(Organization, broadcast.organization_id)
        return phone, account, template, (org.country_code if org else None) or "IN"

    async def breakdown(self, uow: UnitOfWork, subject: Subject, broadcast: Broadcast) -> Breakdown:
        subject.require("broadcasts:read")
        _, account, template, region = await self._parts(uow, broadcast)
        left = await allowance(uow.session, account, uow.clock.now())
        if broadcast.snapshot_at is not None:
            frozen = dict(broadcast.breakdown or {})
            known = {k: v for k, v in frozen.items() if k in Breakdown.__dataclass_fields__}
            result = Breakdown(**known, tier=left.tier, remaining_allowance=left.remaining, frozen=True)
            result.estimate_units = broadcast.estimate_units
            return result
        spec = _spec(template, broadcast.variables)
        classified = aud.classify(template, spec)
        condition = await aud.contact_condition(uow, broadcast, region)
        prefix = func.substr(Contact.wa_id, 1, PREFIX_DIGITS)
        rows = await uow.session.execute(select(classified.reason, prefix, func.count(Contact.id)).where(
            Contact.organization_id == broadcast.organization_id, condition).group_by(classified.reason, prefix))
        result = Breakdown(tier=left.tier, remaining_allowance=left.remaining)
        eligible_by_prefix: Counter[str] = Counter()
        for reason, digits, n in rows:
            result.total += int(n)
            if reason is None:
                result.eligible += int(n)
                eligible_by_prefix[str(digits or "")] += int(n)
            else:
                setattr(result, reason, getattr(result, reason) + int(n))
        if broadcast.audience.get("kind") == "list":
            entries = aud.parse_list(broadcast.audience.get("numbers", []), region)
            new = len(entries.valid) - result.total  # numbers that become contacts at launch
            result.eligible += max(0, new)
            if new > 0:  # numbers not yet contacts: priced at the list's most common country
                common = Counter(number[:PREFIX_DIGITS] for number in entries.valid).most_common(1)
                eligible_by_prefix[common[0][0] if common else ""] += new
            result.invalid_number, result.duplicate = len(entries.invalid), entries.duplicates
            result.total = len(entries.valid) + len(entries.invalid) + entries.duplicates
        if left.remaining is not None:
            result.over_tier = max(0, result.eligible - left.remaining)
        result.estimate_units = await estimate_units(uow, broadcast.organization_id, template.category,
                                                     eligible_by_prefix)
        return result

    async def preview(self, uow: UnitOfWork, subject: Subject, broadcast: Broadcast, contact_id: int | None = None
                      ) -> RecipientPreview:
        """The message as one contact of the audience will get it (the first one when no contact is given)."""
        subject.require("broadcasts:read")
        _, _, template, region = await self._parts(uow, broadcast)
        statement = select(Contact).where(Contact.organization_id == broadcast.organization_id)
        if contact_id is not None:
            statement = statement.where(Contact.id == contact_id)
        else:
            statement = statement.where(await aud.contact_condition(uow, broadcast, region)).order_by(Contact.id)
        contact = (await uow.session.execute(statement.limit(1))).scalars().first()
        if contact is None:
            if contact_id is not None:
                raise NotFound("contact_not_found", "No such contact in this organization.")
            return RecipientPreview(None, error="The audience has no contacts yet.")
        try:
            message = message_for_contact(template, _spec(template, broadcast.variables), contact)
        except Invalid as exc:
            return RecipientPreview(contact, error=exc.message)
        header, body = filled(template, message)
        return RecipientPreview(contact, header, body)

    # --- sending --------------------------------------------------------------------------------------------------

    async def launch(self, uow: UnitOfWork, subject: Subject, broadcast_id: int, *,
                     scheduled_at: datetime | None = None) -> Broadcast:
        subject.require("broadcasts:write")
        broadcast = await self.get(uow, subject, broadcast_id)
        if broadcast.status not in (s.DRAFT, s.SCHEDULED):
            raise Conflict("broadcast_already_launched", f"This broadcast is already {broadcast.status}.")
        from softdukan.subscription import entitlements

        await entitlements.require(uow, subject.organization_id, "broadcasts")
        phone, _, template, _ = await self._parts(uow, broadcast)
        if phone.status != CONNECTED:
            raise Conflict("number_not_connected", f"The number {phone.display_phone_number} is not connected.")
        check_sendable(template, phone)
        now = uow.clock.now()
        if scheduled_at is not None:
            if scheduled_at.tzinfo is None:
                raise Invalid("invalid_schedule", "Give the time with its timezone.", {"scheduled_at": "Aware."})
            if scheduled_at <= now:
                raise Invalid("schedule_in_past", "The scheduled time has already passed; pick a time in the future "
                                                  "or send now.", {"scheduled_at": "In the future."})
        counts = await self.breakdown(uow, subject, broadcast)
        if counts.eligible == 0:
            raise Invalid("empty_audience", "Nobody in this audience can receive the broadcast "
                                            f"({_why_empty(counts)}).", {"audience": "No eligible contact."})
        broadcast.template_category = template.category
        broadcast.estimate_units = counts.estimate_units
        org = await uow.session.get(Organization, broadcast.organization_id)
        broadcast.timezone = (org.timezone if org else None) or "Asia/Kolkata"
        broadcast.pause_reason = broadcast.notice = None
        if scheduled_at is not None:
            broadcast.status, broadcast.scheduled_at = s.SCHEDULED, scheduled_at
            uow.enqueue(START_TASK, run_at=scheduled_at, organization_id=broadcast.organization_id,
                        org_id=broadcast.organization_id, broadcast_id=broadcast.id)
        else:
            broadcast.status, broadcast.launched_at, broadcast.scheduled_at = s.SENDING, now, None
            enqueue_dispatch(uow, broadcast)
        progressed(uow, broadcast.organization_id, broadcast.id, broadcast.status, force=True)
        return broadcast

    async def pause(self, uow: UnitOfWork, subject: Subject, broadcast_id: int) -> Broadcast:
        subject.require("broadcasts:write")
        broadcast = await self.get(uow, subject, broadcast_id)
        if broadcast.status not in (s.SENDING, s.SCHEDULED):
            raise Conflict("broadcast_not_running", f"Only a sending or scheduled broadcast can be paused; this one "
                                                    f"is {broadcast.status}.")
        who = getattr(subject, "label", None) or "a member"
        await pause_broadcast(uow, broadcast, s.BY_USER, None, notice=notice_for(broadcast, s.BY_USER, who=who))
        return broadcast

    async def resume(self, uow: UnitOfWork, subject: Subject, broadcast_id: int) -> Broadcast:
        subject.require("broadcasts:write")
        broadcast = await self.get(uow, subject, broadcast_id)
        if broadcast.status != s.PAUSED:
            raise Conflict("broadcast_not_paused", f"Only a paused broadcast can be resumed; this one is "
                                                   f"{broadcast.status}.")
        phone, _, template, _ = await self._parts(uow, broadcast)
        check_sendable(template, phone)  # a template still paused by WhatsApp can't go on
        broadcast.template_category = template.category  # resuming accepts a re-categorization
        now = uow.clock.now()
        broadcast.pause_reason, broadcast.notice, broadcast.paused_at = None, None, None
        if broadcast.launched_at is None and broadcast.scheduled_at is not None and broadcast.scheduled_at > now:
            broadcast.status = s.SCHEDULED
            uow.enqueue(START_TASK, run_at=broadcast.scheduled_at, organization_id=broadcast.organization_id,
                        org_id=broadcast.organization_id, broadcast_id=broadcast.id)
        else:
            broadcast.status = s.SENDING
            broadcast.launched_at = broadcast.launched_at or now
            enqueue_dispatch(uow, broadcast)
        progressed(uow, broadcast.organization_id, broadcast.id, broadcast.status, force=True)
        return broadcast

    async def cancel(self, uow: UnitOfWork, subject: Subject, broadcast_id: int) -> Broadcast:
        subject.require("broadcasts:write")
        broadcast = await self.get(uow, subject, broadcast_id)
        if broadcast.status not in s.ACTIVE:
            raise Conflict("broadcast_not_running", f"This broadcast is {broadcast.status}: nothing to cancel.")
        now = uow.clock.now()
        broadcast.status, broadcast.finished_at = s.CANCELLED, now
        broadcast.notice = f"Cancelled by {getattr(subject, 'label', None) or 'a member'}."
        await uow.session.execute(
            update(BroadcastRecipient).where(BroadcastRecipient.organization_id == broadcast.organization_id,
                                             BroadcastRecipient.broadcast_id == broadcast.id,
                                             BroadcastRecipient.state.in_([s.PENDING, s.WAITING]))
            .values(state=s.CANCELLED_R, updated_at=now).execution_options(synchronize_session=False))
        progressed(uow, broadcast.organization_id, broadcast.id, broadcast.status, force=True)
        return broadcast

    async def resend_failed(self, uow: UnitOfWork, subject: Subject, broadcast_id: int) -> Broadcast:
        """A new draft with the same template and mapping for this broadcast's failed recipients."""
        subject.require("broadcasts:write")
        source = await self.get(uow, subject, broadcast_id)
        failed = await uow.session.scalar(select(func.count(BroadcastRecipient.id)).where(
            BroadcastRecipient.organization_id == source.organization_id,
            BroadcastRecipient.broadcast_id == source.id, BroadcastRecipient.state == s.FAILED,
            BroadcastRecipient.contact_id.is_not(None)))
        if not failed:
            raise Conflict("nothing_failed", "No recipient of this broadcast failed: there is nothing to resend.")
        if source.template_id is None:
            raise Conflict("template_not_found", "The broadcast's template was deleted.")
        data = BroadcastInput(name=f"{source.name} — resend to failed"[:NAME_MAX], template_id=source.template_id,
                              audience={"kind": "outcome", "broadcast_id": source.id, "outcome": s.FAILED},
                              phone_number_id=source.phone_number_id, variables=dict(source.variables or {}),
                              retry_days_131049=source.retry_days_131049)
        return await self.create(uow, subject, data)

    # --- progress -------------------------------------------------------------------------------------------------

    async def funnel(self, uow: UnitOfWork, subject: Subject, broadcast: Broadcast) -> Funnel:
        subject.require("broadcasts:read")
        return await build_funnel(BroadcastRepository(uow.session), broadcast)

    async def recipients(self, uow: UnitOfWork, subject: Subject, broadcast: Broadcast, *, state: str | None = None,
                         after: int | None = None, limit: int = 50) -> list[RecipientRow]:
        subject.require("broadcasts:read")
        if state is not None and state not in {s.PENDING, s.WAITING, s.SENDING_R, s.SENT, s.FAILED, s.SKIPPED,
                                               s.CANCELLED_R}:
            raise Invalid("invalid_state", "Unknown recipient state.", {"state": "pending, waiting, sending, sent, "
                                                                                 "failed, skipped or cancelled."})
        rows = await BroadcastRepository(uow.session).recipients(broadcast, state=state, after_id=after,
                                                                 limit=max(1, min(limit, 500)))
        return [RecipientRow.of(r, name, status) for r, name, status in rows]


def _spec(template: MessageTemplate, variables: dict[str, Any] | None) -> TemplateSpec:
    raw = variables or {}
    if not isinstance(raw, dict) or set(raw) - {"values", "mapping"}:
        raise Invalid("invalid_variables", "Variables are given as 'values' and 'mapping'.",
                      {"variables": "{'values': {...}, 'mapping': {...}}"})
    return parse_spec({"id": template.id, "values": raw.get("values") or None, "mapping": raw.get("mapping") or None})


def _check_covered(template: MessageTemplate, spec: TemplateSpec) -> None:
    known = {v.key for v in template_variables(template)}
    for key in [*spec.values, *spec.mapping]:
        if key not in known:
            raise Invalid("unknown_template_variable", f"Template {template.name} has no variable {key[:60]!r}; its "
                                                       f"variables are: {', '.join(sorted(known)) or 'none'}.",
                          {f"variables.{key[:60]}": "Unknown."})
    missing = [k for k in sorted(known) if k not in spec.mapping and not (spec.values.get(k) or "").strip()]
    if missing:
        raise Invalid("template_variable_unmapped", "Say where each variable's value comes from: "
                                                    f"{', '.join(missing)} has no value or mapping.",
                      {f"variables.{k}": "Map it to a contact field, an attribute or a fixed text." for k in missing})


def _why_empty(counts: Breakdown) -> str:
    parts = [f"{n} {label}" for label, n in (("opted out", counts.opted_out), ("blocked", counts.blocked),
                                             ("missing a variable", counts.missing_variable),
                                             ("invalid", counts.invalid_number)) if n]
    return ", ".join(parts) if parts else "it has no contacts"


broadcast_service = BroadcastService()
