"""Wire shapes of /v1/broadcasts. The audience and the variables are typed here, at the edge, so a malformed body is
a 422 naming the field before the service sees it; the service checks what needs the database (the segment exists,
the template is approved on the number's account, every variable has a value)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from softdukan.kit.ids import BodyId
from softdukan.segment.definition import OUTCOMES

NAME_MAX = 120
VALUE_MAX = 1024
TAG_MAX = 60
LIST_MAX = 10_000
Value = Annotated[str, Field(max_length=VALUE_MAX)]
VariableKey = Annotated[str, Field(max_length=80)]
Outcome = Literal["sent", "delivered", "not_delivered", "read", "not_read", "replied", "not_replied", "failed",
                  "skipped"]
assert set(Outcome.__args__) == set(OUTCOMES)  # type: ignore[attr-defined]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SegmentAudience(_Strict):
    kind: Literal["segment"]
    segment_id: BodyId


class TagsAudience(_Strict):
    kind: Literal["tags"]
    tags: list[Annotated[str, Field(min_length=1, max_length=TAG_MAX)]] = Field(min_length=1, max_length=50)
    match: Literal["any", "all"] = "any"


class ListAudience(_Strict):
    kind: Literal["list"]
    numbers: list[Annotated[str, Field(max_length=64)]] = Field(min_length=1, max_length=LIST_MAX, description=(
        "WhatsApp numbers, E.164 or national in the organization's country; new numbers become contacts"))


class AllAudience(_Strict):
    kind: Literal["all"]


Audience = Annotated[SegmentAudience | TagsAudience | ListAudience | AllAudience, Field(discriminator="kind")]


class VariableSourceIn(_Strict):
    source: Literal["field", "attribute", "fixed"]
    value: Value
    fallback: Value | None = None


class VariablesIn(_Strict):
    values: dict[VariableKey, Value] = Field(default_factory=dict, max_length=60, description=(
        'variable → the same value for everyone, e.g. {"body.2": "20%"}'))
    mapping: dict[VariableKey, VariableSourceIn] = Field(default_factory=dict, max_length=60, description=(
        'variable → {"source": "field"|"attribute"|"fixed", "value", "fallback"}, filled per contact'))


class LaunchAt(_Strict):
    at: AwareDatetime | None = Field(default=None, description="when to send (with its UTC offset); null: now")


class BroadcastIn(_Strict):
    name: str = Field(min_length=1, max_length=NAME_MAX)
    phone_number_id: BodyId | None = Field(default=None, description="our number id; default: the default number")
    template_id: BodyId
    variables: VariablesIn = Field(default_factory=VariablesIn)
    audience: Audience
    retry_days_131049: int = Field(default=2, ge=0, le=7, description=(
        "when Meta holds a marketing message back (131049), try again on this many following days"))
    launch: LaunchAt | None = Field(default=None, description="launch at once (send now or schedule); absent: draft")


class BroadcastPatch(_Strict):
    name: str | None = Field(default=None, min_length=1, max_length=NAME_MAX)
    phone_number_id: BodyId | None = None
    template_id: BodyId | None = None
    variables: VariablesIn | None = None
    audience: Audience | None = None
    retry_days_131049: int | None = Field(default=None, ge=0, le=7)


class LaunchIn(_Strict):
    scheduled_at: AwareDatetime | None = Field(default=None, description="with its UTC offset; null or absent: now")


class PreviewIn(_Strict):
    contact_id: BodyId | None = Field(default=None, description="a contact of the audience; default: the first")


class OutcomeSegmentIn(_Strict):
    outcome: Outcome
    name: str = Field(min_length=1, max_length=100)


class BreakdownOut(BaseModel):
    total: int
    eligible: int
    opted_out: int
    blocked: int
    invalid_number: int
    duplicate: int
    missing_variable: int
    over_tier: int = Field(description="beyond the messaging-limit tier's remaining allowance: they wait")
    tier: str | None = None
    remaining_allowance: int | None = None
    estimate_units: int = Field(description="credit estimate in 1/10,000 rupee")
    estimate_rupees: str


class FunnelOut(BaseModel):
    total: int
    queued: int
    waiting: int
    sending: int
    sent: int
    delivered: int
    read: int
    replied: int
    failed: int
    skipped: int
    cancelled: int
    failed_by_reason: dict[str, int]
    skipped_by_reason: dict[str, int]


class BroadcastSummary(BaseModel):
    id: int
    name: str
    status: str
    phone_number_id: int
    template_id: int | None
    template_name: str
    template_language: str
    audience: dict[str, Any]
    scheduled_at: datetime | None
    launched_at: datetime | None
    finished_at: datetime | None
    created_by: str
    created_at: datetime
    updated_at: datetime


class BroadcastOut(BroadcastSummary):
    template_category: str
    variables: dict[str, Any]
    timezone: str
    paused_at: datetime | None
    pause_reason: str | None
    notice: str | None
    retry_days_131049: int
    breakdown: BreakdownOut | None = Field(description="who gets it, who is left out and why, and the estimate")
    funnel: FunnelOut | None = Field(description="progress once launched")
    cost: CostOut | None = Field(default=None, description="WhatsApp credits charged and still held, once launched")


class CostOut(BaseModel):
    charged_units: int = Field(description="charged for delivered messages, in ₹0.0001")
    held_units: int = Field(description="held for messages not settled yet")
    charged_messages: int
    charged: str
    held: str


class BroadcastPage(BaseModel):
    data: list[BroadcastSummary]
    next_cursor: str | None


class PreviewContactOut(BaseModel):
    id: int
    name: str | None
    wa_id: str


class PreviewOut(BaseModel):
    contact: PreviewContactOut | None
    header: str | None = None
    body: str | None = None
    missing: str | None = Field(default=None, description="why this contact can't get it (a variable is empty), "
                                                          "or that the audience is empty")


class RecipientOut(BaseModel):
    id: int
    contact_id: int | None
    wa_id: str
    name: str | None
    state: str = Field(description="pending, waiting, sending, sent, failed, skipped or cancelled")
    reason: str | None
    reason_label: str | None = Field(description="why it failed, was skipped or waits, in words")
    detail: str | None
    error_code: int | None
    message_status: str | None = Field(description="the sent message's status: accepted, sent, delivered, read …")
    attempts: int
    next_attempt_at: datetime | None
    sent_at: datetime | None
    replied_at: datetime | None


class RecipientPage(BaseModel):
    data: list[RecipientOut]
    next_cursor: str | None


# --- converters (the service's objects → wire shapes) --------------------------------------------------------------


def _fields(obj: Any) -> dict[str, Any]:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    return dict(vars(obj))


def breakdown_out(breakdown: Any) -> BreakdownOut:
    return BreakdownOut.model_validate({**_fields(breakdown), "estimate_rupees": breakdown.estimate_rupees})


def funnel_out(funnel: Any) -> FunnelOut:
    return FunnelOut.model_validate(_fields(funnel))


def summary(b: Any) -> BroadcastSummary:
    return BroadcastSummary(
        id=b.id, name=b.name, status=b.status, phone_number_id=b.phone_number_id, template_id=b.template_id,
        template_name=b.template_name, template_language=b.template_language, audience=dict(b.audience or {}),
        scheduled_at=b.scheduled_at, launched_at=b.launched_at, finished_at=b.finished_at,
        created_by=b.created_by_label, created_at=b.created_at, updated_at=b.updated_at)


def broadcast_out(b: Any, breakdown: Any | None, funnel: Any | None,
                  cost: tuple[int, int, int] | None = None) -> BroadcastOut:
    from softdukan.kit.money import credits as rupees

    return BroadcastOut(
        cost=CostOut(charged_units=cost[0], held_units=cost[1], charged_messages=cost[2], charged=rupees(cost[0]),
                     held=rupees(cost[1])) if cost is not None else None,
        **summary(b).model_dump(), template_category=b.template_category, variables=dict(b.variables or {}),
        timezone=b.timezone, paused_at=b.paused_at, pause_reason=b.pause_reason, notice=b.notice,
        retry_days_131049=b.retry_days_131049, breakdown=breakdown_out(breakdown) if breakdown is not None else None,
        funnel=funnel_out(funnel) if funnel is not None else None)


def preview_out(found: Any) -> PreviewOut:
    """The service's RecipientPreview: the contact, the filled header and body, or why it can't be filled."""
    contact = found.contact
    return PreviewOut(
        contact=PreviewContactOut(id=contact.id, name=contact.name or contact.profile_name, wa_id=contact.wa_id)
        if contact is not None else None, header=found.header, body=found.body, missing=found.error)


def recipient_out(row: Any) -> RecipientOut:
    return RecipientOut.model_validate({k: v for k, v in _fields(row).items() if k in RecipientOut.model_fields})


def audience_dict(audience: Any) -> dict[str, Any]:
    return audience.model_dump() if isinstance(audience, BaseModel) else dict(audience or {})


def variables_dict(variables: VariablesIn) -> dict[str, Any]:
    return {"values": dict(variables.values),
            "mapping": {k: v.model_dump() for k, v in variables.mapping.items()}}
