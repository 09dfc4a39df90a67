"""Who a broadcast goes to: the audience (a segment, tags, a pasted list, everyone, or another broadcast's
outcome) as one scoped condition over contacts, its breakdown, and the snapshot into recipient rows.

The snapshot is set-based: `INSERT INTO broadcast_recipients … SELECT … FROM contacts WHERE <audience>` in keyset
batches of contact ids (one transaction each, `Broadcast.snapshot_cursor` records progress, so a killed job
resumes; the unique (broadcast_id, wa_id) key makes a repeated batch a no-op). Who may not receive it is decided in
the same statement: blocked contacts, opted-out contacts for a MARKETING template, and contacts without a value
for a variable that has no fallback are written `skipped` with the reason.

A pasted list is normalised first (E.164 in the organization's country): invalid entries become `skipped` rows
(`invalid_number`, the text as given) and repeats of a number are counted as duplicates; numbers not yet
contacts become contacts (source "broadcast").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, false, func, literal, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from softdukan.broadcast import states as s
from softdukan.broadcast.models import Broadcast, BroadcastRecipient
from softdukan.contact.models import Contact, ContactTag, Tag
from softdukan.contact.phones import PhoneError, normalize_phone
from softdukan.kit.upsert import insert_ignore
from softdukan.platform.errors import Invalid, NotFound
from softdukan.platform.uow import UnitOfWork
from softdukan.segment.models import Segment
from softdukan.segment.service import condition_for
from softdukan.template.sending import TemplateSpec
from softdukan.template.variables import AnyTemplate, template_variables

KINDS = ("segment", "tags", "list", "all", "outcome")
MAX_LIST = 10_000  # numbers pasted into one broadcast; bigger lists go through a contact import and a tag
SNAPSHOT_BATCH = 20_000
CONTACT_SOURCE = "broadcast"


@dataclass
class ListEntries:
    valid: list[str] = field(default_factory=list)  # unique E.164 digits, in the order given
    invalid: list[tuple[str, str]] = field(default_factory=list)  # (as given, why)
    duplicates: int = 0


def parse_list(numbers: Sequence[Any], region: str) -> ListEntries:
    entries, seen = ListEntries(), set()
    for raw in numbers:
        text = str(raw or "").strip()
        if not text:
            continue
        try:
            digits = normalize_phone(text, region)
        except PhoneError as exc:
            entries.invalid.append((text[:64], str(exc)))
            continue
        if digits in seen:
            entries.duplicates += 1
            continue
        seen.add(digits)
        entries.valid.append(digits)
    return entries


def check_audience(raw: Any) -> dict[str, Any]:
    """The audience object's shape (the service checks that segments and tags exist)."""
    if not isinstance(raw, dict) or raw.get("kind") not in KINDS:
        raise Invalid("invalid_audience", "Say who gets the broadcast: a segment, tags, a list of numbers or all "
                                          "contacts.", {"audience.kind": f"One of {', '.join(KINDS[:4])}."})
    kind = raw["kind"]
    if kind == "segment":
        if not isinstance(raw.get("segment_id"), int) or isinstance(raw.get("segment_id"), bool):
            raise Invalid("invalid_audience", "Choose the segment.", {"audience.segment_id": "A segment id."})
        return {"kind": kind, "segment_id": raw["segment_id"]}
    if kind == "tags":
        tags = raw.get("tags")
        if not isinstance(tags, list) or not tags or not all(isinstance(t, str) and t.strip() for t in tags):
            raise Invalid("invalid_audience", "Choose at least one tag.", {"audience.tags": "A list of tag names."})
        match = raw.get("match", "any")
        if match not in ("any", "all"):
            raise Invalid("invalid_audience", "Match any or all of the tags.", {"audience.match": "any or all."})
        return {"kind": kind, "tags": sorted({t.strip()[:60] for t in tags}), "match": match}
    if kind == "list":
        numbers = raw.get("numbers")
        if not isinstance(numbers, list) or not numbers:
            raise Invalid("invalid_audience", "Give the numbers to send to.", {"audience.numbers": "A list."})
        if len(numbers) > MAX_LIST:
            raise Invalid("audience_too_large", f"A pasted list holds at most {MAX_LIST:,} numbers: import bigger "
                                                "lists as contacts with a tag and send to the tag.",
                          {"audience.numbers": f"At most {MAX_LIST:,}."})
        return {"kind": kind, "numbers": [str(n)[:64] for n in numbers if isinstance(n, str | int)]}
    if kind == "outcome":
        return {"kind": kind, "broadcast_id": int(raw["broadcast_id"]), "outcome": str(raw.get("outcome", "failed"))}
    return {"kind": "all"}


async def contact_condition(uow: UnitOfWork, broadcast: Broadcast, region: str) -> ColumnElement[bool]:
    """The audience as a condition on contacts of the broadcast's organization (the caller adds the org scope)."""
    org_id, audience = broadcast.organization_id, broadcast.audience or {}
    kind = audience.get("kind")
    if kind == "segment":
        segment = await uow.session.scalar(select(Segment).where(
            Segment.organization_id == org_id, Segment.id == audience.get("segment_id")))
        if segment is None:
            raise NotFound("segment_not_found", "The broadcast's segment no longer exists.")
        return await condition_for(uow, org_id, segment.definition)
    if kind == "tags":
        keys = [t.casefold() for t in audience.get("tags", [])]
        tagged = (select(ContactTag.contact_id).join(Tag, Tag.id == ContactTag.tag_id)
                  .where(Tag.organization_id == org_id, Tag.name_key.in_(keys)))
        if audience.get("match") == "all":
            tagged = tagged.group_by(ContactTag.contact_id).having(func.count(func.distinct(Tag.id)) == len(keys))
        return Contact.id.in_(tagged)
    if kind == "list":
        valid = parse_list(audience.get("numbers", []), region).valid
        return Contact.wa_id.in_(valid) if valid else false()
    if kind == "outcome":
        picked = select(BroadcastRecipient.contact_id).where(
            BroadcastRecipient.organization_id == org_id,
            BroadcastRecipient.broadcast_id == audience.get("broadcast_id"),
            BroadcastRecipient.state == audience.get("outcome", s.FAILED))
        return Contact.id.in_(picked)
    return true()


def _blank(column: Any) -> ColumnElement[bool]:
    return func.coalesce(column, "") == ""


def missing_variable_condition(template: AnyTemplate, spec: TemplateSpec) -> ColumnElement[bool]:
    """Contacts for whom some variable would have no value (mapped to an empty field or attribute, no fallback)."""
    conditions: list[ColumnElement[bool]] = []
    for variable in template_variables(template):
        if variable.key in spec.values and spec.values[variable.key].strip():
            continue
        source = spec.mapping.get(variable.key)
        if source is None:
            if variable.key not in spec.values:
                conditions.append(true())  # nothing maps it: every contact misses it (the service refuses this)
            continue
        if source.fallback and source.fallback.strip():
            continue
        if source.source == "attribute":
            conditions.append(Contact.attributes[source.value].as_string().is_(None))
        elif source.source == "field" and source.value in ("name", "first_name"):
            conditions.append(and_(_blank(Contact.name), _blank(Contact.profile_name)))
        elif source.source == "field" and source.value == "profile_name":
            conditions.append(_blank(Contact.profile_name))
        elif source.source == "fixed" and not source.value.strip():
            conditions.append(true())
    return or_(*conditions) if conditions else false()


@dataclass(frozen=True)
class Classified:
    state: Any
    reason: Any


def classify(template: AnyTemplate, spec: TemplateSpec) -> Classified:
    """CASE expressions: who is skipped at snapshot time, and why."""
    marketing = template.category == "MARKETING"
    opted_out = Contact.opted_out_at.is_not(None) if marketing else false()
    missing = missing_variable_condition(template, spec)
    whens = [(Contact.blocked_at.is_not(None), s.BLOCKED), (opted_out, s.OPTED_OUT), (missing, s.MISSING_VARIABLE)]
    return Classified(case(*[(w, literal(s.SKIPPED)) for w, _ in whens], else_=literal(s.PENDING)),
                      case(*[(w, literal(r)) for w, r in whens], else_=literal(None)))


async def ensure_list_contacts(uow: UnitOfWork, organization_id: int, numbers: list[str], now: datetime) -> None:
    """Numbers of a pasted list that are not contacts yet become contacts (idempotent by the unique number)."""
    rows = [{"organization_id": organization_id, "wa_id": n, "phone": n, "first_seen_at": now, "source":
             CONTACT_SOURCE, "attributes": {}, "created_at": now, "updated_at": now} for n in numbers]
    for start in range(0, len(rows), 1000):
        await uow.session.execute(insert_ignore(uow.session, Contact, ["organization_id", "wa_id"]),
                                  rows[start:start + 1000])


async def snapshot_batch(session: AsyncSession, broadcast: Broadcast, condition: ColumnElement[bool],
                         classified: Classified, now: datetime, *, batch: int = SNAPSHOT_BATCH) -> int:
    """Writes the next batch of recipients after `broadcast.snapshot_cursor`; returns how many contacts it covered
    (0: the snapshot is complete). Advances the cursor; the caller commits."""
    org_id, after = broadcast.organization_id, broadcast.snapshot_cursor or 0
    scope = and_(Contact.organization_id == org_id, Contact.id > after, condition)
    upper = await session.scalar(select(Contact.id).where(scope).order_by(Contact.id).offset(batch - 1).limit(1))
    window = scope if upper is None else and_(scope, Contact.id <= upper)
    last = upper if upper is not None else await session.scalar(select(func.max(Contact.id)).where(window))
    if last is None:
        return 0
    columns = ["organization_id", "broadcast_id", "contact_id", "wa_id", "state", "reason", "attempts", "deferrals",
               "next_attempt_at", "created_at", "updated_at"]
    source = select(literal(org_id), literal(broadcast.id), Contact.id, Contact.wa_id, classified.state,
                    classified.reason, literal(0), literal(0), literal(now, BroadcastRecipient.next_attempt_at.type),
                    literal(now, BroadcastRecipient.created_at.type),
                    literal(now, BroadcastRecipient.updated_at.type)).where(window)
    statement = insert_ignore(session, BroadcastRecipient, ["broadcast_id", "wa_id"]).from_select(columns, source)
    result = await session.execute(statement)
    broadcast.snapshot_cursor = int(last)
    return max(1, int(result.rowcount or 0))  # type: ignore[attr-defined]


async def write_invalid_entries(session: AsyncSession, broadcast: Broadcast, entries: ListEntries,
                                now: datetime) -> None:
    rows = [{"organization_id": broadcast.organization_id, "broadcast_id": broadcast.id, "contact_id": None,
             "wa_id": text, "state": s.SKIPPED, "reason": s.INVALID, "detail": why[:500], "attempts": 0,
             "deferrals": 0, "created_at": now, "updated_at": now} for text, why in entries.invalid]
    for start in range(0, len(rows), 1000):
        await session.execute(insert_ignore(session, BroadcastRecipient, ["broadcast_id", "wa_id"]),
                              rows[start:start + 1000])


async def snapshot_counts(session: AsyncSession, broadcast: Broadcast) -> dict[str, int]:
    """The frozen audience: total rows, eligible (pending) and skipped by reason."""
    rows = await session.execute(
        select(BroadcastRecipient.state, BroadcastRecipient.reason, func.count(BroadcastRecipient.id))
        .where(BroadcastRecipient.organization_id == broadcast.organization_id,
               BroadcastRecipient.broadcast_id == broadcast.id)
        .group_by(BroadcastRecipient.state, BroadcastRecipient.reason))
    counts: dict[str, int] = {"total": 0, "eligible": 0}
    for state, reason, n in rows:
        counts["total"] += int(n)
        if state == s.SKIPPED:
            counts[reason or "skipped"] = counts.get(reason or "skipped", 0) + int(n)
        else:
            counts["eligible"] += int(n)
    if broadcast.audience.get("kind") == "list":
        counts[s.DUPLICATE] = (broadcast.breakdown or {}).get(s.DUPLICATE, 0)
    return counts
