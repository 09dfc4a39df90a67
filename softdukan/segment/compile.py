"""A checked segment definition (segment/definition.py) → one SQL condition over `contacts`, scoped to the
organization. Built from SQLAlchemy expressions only (never strings), so it runs on SQLite and PostgreSQL alike.

Attribute values are read from the JSON column with SQLAlchemy's JSON element access (`json_extract` on SQLite,
`->>` on PostgreSQL; see contact/models.py). Dates are stored as "YYYY-MM-DD", so they compare as text. Conditions
on windows, ads and unread chats are EXISTS subqueries on the organization's conversations; broadcast outcomes are
EXISTS subqueries on the organization's `broadcast_recipients`, joined to the sent message for delivered and read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, exists, false, func, not_, or_, select, true

from softdukan.broadcast.models import BroadcastRecipient
from softdukan.broadcast.states import FAILED, SENT, SKIPPED
from softdukan.contact.models import BOOLEAN, CHOICE, DATE, NUMBER, TEXT, Contact, ContactTag, Tag
from softdukan.contact.repository import tag_key
from softdukan.conversation.models import Conversation, Message
from softdukan.conversation.status import FAILED as MESSAGE_FAILED
from softdukan.segment.definition import Condition, Group


@dataclass(frozen=True)
class Context:
    """What a condition is evaluated against: whose contacts, and when (one instant for a whole snapshot)."""

    organization_id: int
    now: datetime  # UTC
    timezone: str = "Asia/Kolkata"

    @property
    def today(self) -> date:
        return self.now.astimezone(ZoneInfo(self.timezone)).date()

    def day_start(self, day: date) -> datetime:
        """Midnight of `day` in the organization's time zone."""
        return datetime.combine(day, time(), tzinfo=ZoneInfo(self.timezone))


def compile_definition(group: Group, ctx: Context) -> ColumnElement[bool]:
    """The WHERE condition of the segment; callers add `Contact.organization_id == ctx.organization_id`."""
    return _group(group, ctx)


def _group(group: Group, ctx: Context) -> ColumnElement[bool]:
    parts = [_group(c, ctx) if isinstance(c, Group) else _condition(c, ctx) for c in group.children]
    if not parts:
        return true()
    return and_(*parts) if group.mode == "all" else or_(*parts)


def _conversations(ctx: Context, *conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    return exists(select(Conversation.id).where(Conversation.organization_id == ctx.organization_id,
                                                Conversation.contact_id == Contact.id, *conditions))


def _has_tag(ctx: Context, keys: list[str]) -> ColumnElement[bool]:
    return exists(select(ContactTag.id).join(Tag, Tag.id == ContactTag.tag_id).where(
        ContactTag.organization_id == ctx.organization_id, ContactTag.contact_id == Contact.id,
        Tag.organization_id == ctx.organization_id, Tag.name_key.in_(keys)))


def _condition(c: Condition, ctx: Context) -> ColumnElement[bool]:
    if c.field == "tags":
        keys = [tag_key(name) for name in c.value]
        if c.op == "has_all":
            return and_(*[_has_tag(ctx, [k]) for k in keys])
        found = _has_tag(ctx, keys)
        return found if c.op == "has_any" else not_(found)
    if c.field == "attribute":
        return _attribute(c, ctx)
    if c.field == "consent":
        state = _consent(c.value)
        return state if c.op == "is" else not_(state)
    if c.field == "last_inbound":
        return _last_inbound(c, ctx)
    if c.field == "window":
        open_now = _conversations(ctx, Conversation.csw_expires_at > ctx.now)
        return open_now if c.value == "open" else not_(open_now)
    if c.field == "source":
        sources = [s for s in c.value if s != "ad"]
        parts: list[ColumnElement[bool]] = [Contact.source.in_(sources)] if sources else []
        if "ad" in c.value:
            parts.append(_conversations(ctx, Conversation.fep_referral_at.is_not(None)))
        matched = or_(*parts)
        return matched if c.op == "in" else not_(matched)
    if c.field == "conversation":
        if c.value == "unread":
            return _conversations(ctx, Conversation.unread_count > 0)
        any_chat = _conversations(ctx)
        return any_chat if c.value == "has_conversation" else not_(any_chat)
    if c.field == "broadcast":
        found = _outcome(ctx, c.value["broadcast_id"], c.value["outcome"])
        return found if c.op == "outcome" else not_(found)
    raise AssertionError(f"unchecked field {c.field}")  # parse_definition admits only the fields above


def _outcome(ctx: Context, broadcast_id: int, outcome: str) -> ColumnElement[bool]:
    """The contact was a recipient of the broadcast and this happened to it. A send Meta accepted but whose status
    webhook later said failed counts as failed, not sent."""
    r, m = BroadcastRecipient, Message
    failed_later = and_(r.state == SENT, m.status == MESSAGE_FAILED)
    sent = and_(r.state == SENT, or_(m.id.is_(None), m.status != MESSAGE_FAILED))
    wanted: ColumnElement[bool] = {
        "sent": sent,
        "delivered": and_(sent, m.delivered_at.is_not(None)),
        "not_delivered": and_(sent, m.delivered_at.is_(None)),
        "read": and_(sent, m.read_at.is_not(None)),
        "not_read": and_(sent, m.read_at.is_(None)),
        "replied": r.replied_at.is_not(None),
        "not_replied": and_(sent, r.replied_at.is_(None)),
        "failed": or_(r.state == FAILED, failed_later),
        "skipped": r.state == SKIPPED,
    }[outcome]
    return exists(select(r.id).outerjoin(m, and_(m.id == r.message_id, m.organization_id == ctx.organization_id))
                  .where(r.organization_id == ctx.organization_id, r.broadcast_id == broadcast_id,
                         r.contact_id == Contact.id, wanted))


def _consent(state: str) -> ColumnElement[bool]:
    if state == "opted_in":
        return and_(Contact.opted_in_at.is_not(None), Contact.opted_out_at.is_(None))
    if state == "opted_out":
        return Contact.opted_out_at.is_not(None)
    if state == "blocked":
        return Contact.blocked_at.is_not(None)
    return and_(Contact.opted_in_at.is_(None), Contact.opted_out_at.is_(None))  # never_asked


def _last_inbound(c: Condition, ctx: Context) -> ColumnElement[bool]:
    at = Contact.last_inbound_at
    if c.op == "never":
        return at.is_(None)
    if c.op == "ever":
        return at.is_not(None)
    if c.op == "within_days":
        return at >= ctx.now - timedelta(days=c.value)
    if c.op == "not_within_days":  # wrote, but not lately (combine with "never" to include the silent ones)
        return at < ctx.now - timedelta(days=c.value)
    day = date.fromisoformat(c.value)
    if c.op == "before":
        return at < ctx.day_start(day)
    return at >= ctx.day_start(day + timedelta(days=1))  # after: from the next day on


def _attribute(c: Condition, ctx: Context) -> ColumnElement[bool]:
    assert c.key is not None
    element = Contact.attributes[c.key]
    held = element.as_string().is_not(None)  # any type of value: json_extract / ->> is NULL when absent
    if c.op == "empty":
        return not_(held)
    if c.op == "not_empty":
        return held
    if c.type == NUMBER:
        return _compare(element.as_float(), c.op, c.value, float)
    if c.type == DATE:
        if c.op == "within_last_days":
            return element.as_string().between((ctx.today - timedelta(days=c.value)).isoformat(),
                                               ctx.today.isoformat())
        return _compare(element.as_string(), c.op, c.value, str)
    if c.type == BOOLEAN:
        return element.as_boolean() == bool(c.value)
    if c.type == CHOICE:
        chosen = element.as_string().in_(list(c.value))
        return chosen if c.op == "in" else or_(not_(held), not_(chosen))
    if c.type == TEXT:
        text = func.lower(element.as_string())
        if c.op == "contains":
            return text.contains(str(c.value).lower(), autoescape=True)
        if c.op == "not_equals":
            return or_(not_(held), text != str(c.value).lower())
        return text == str(c.value).lower()
    return false()  # a type added later that segments don't know yet matches nothing rather than everything


def _compare(column: Any, op: str, value: Any, cast: type) -> ColumnElement[bool]:
    if op == "between":
        return and_(column >= cast(value[0]), column <= cast(value[1]))
    operand = cast(value)
    return {"equals": column == operand, "gt": column > operand, "gte": column >= operand,
            "lt": column < operand, "before": column < operand, "lte": column <= operand,
            "after": column > operand}[op]
