"""Template webhooks (reference §5.8) applied to MessageTemplate: review status and reason, category changes and
quality. Called by inbound routing (softdukan/inbound/changes.py) for the webhook's own account.

Status events carry Meta's time: one older than the last applied (deliveries retried out of order) is ignored.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from softdukan.platform.uow import UnitOfWork
from softdukan.template.models import APPROVED, CATEGORIES, QUALITIES, MessageTemplate
from softdukan.template.repository import TemplateRepository
from softdukan.template.service import emit_template
from softdukan.whatsapp.webhook import parse_template_update

STATUS_FIELD, CATEGORY_FIELD, QUALITY_FIELD = (
    "message_template_status_update", "template_category_update", "message_template_quality_update")
# events that mean "approved again" for sending
APPROVED_AGAIN = frozenset({"REINSTATED", "UNARCHIVED", "UNLOCKED"})


def event_time(raw: Any, fallback: datetime) -> datetime:
    """`entry.time` (unix seconds) as stored with the change, else when we received it."""
    try:
        return datetime.fromtimestamp(int(str(raw)), UTC) if raw not in (None, "") else fallback
    except (ValueError, OverflowError, OSError):
        return fallback


def _detail(value: dict[str, Any]) -> str | None:
    parts: list[str] = []
    for key, inner in (("rejection_info", ("reason", "recommendation")), ("other_info", ("title", "description")),
                       ("disable_info", ("disable_date",))):
        info = value.get(key)
        if isinstance(info, dict):
            parts += [str(info[k])[:500] for k in inner if isinstance(info.get(k), str | int) and info.get(k)]
    return " ".join(parts)[:2000] or None


async def apply_template_change(uow: UnitOfWork, *, account_id: int, field: str, value: dict[str, Any],
                                at: datetime) -> str:
    """Apply one template webhook; returns a one-line note of what happened."""
    update = parse_template_update(field, value)
    template = await TemplateRepository(uow.session).for_webhook(account_id, update.template_id, update.name,
                                                                 update.language)
    label = update.name or update.template_id or "?"
    if template is None:
        return f"template {label}: {update.event} for a template not stored here; recorded only"[:300]
    if update.template_id and not template.meta_template_id:
        template.meta_template_id = update.template_id
    if field == STATUS_FIELD:
        note = _status(template, update.event, update.reason, value, at)
    elif field == CATEGORY_FIELD:
        note = _category(template, value)
    elif field == QUALITY_FIELD:
        note = _quality(template, value)
    else:
        note = f"{field} recorded"
    if not note.startswith("ignored"):
        template.updated_at = uow.clock.now()
        emit_template(uow, template)
        if field in (STATUS_FIELD, CATEGORY_FIELD):
            from softdukan.broadcast.hooks import on_template_change  # broadcasts import templates

            await uow.flush()
            await on_template_change(uow, template)
    return f"template {template.name} ({template.language}): {note}"[:300]


def _status(template: MessageTemplate, event: str, reason: str | None, value: dict[str, Any], at: datetime) -> str:
    if event == "unknown":
        return f"ignored: unknown status event {str(value.get('event'))[:40]!r}"
    if template.status_event_at is not None and at < template.status_event_at:
        return f"ignored: {event} is older than the status already applied"
    template.status = APPROVED if event in APPROVED_AGAIN else event
    template.status_event_at = at
    template.rejected_reason = reason if reason and reason not in ("NONE", "unknown") else None
    template.status_detail = _detail(value)
    category = str(value.get("message_template_category") or "").upper()
    if category in CATEGORIES and category != template.category:
        template.previous_category, template.category = template.category, category
    return f"status {template.status}" + (f" ({template.rejected_reason})" if template.rejected_reason else "")


def _category(template: MessageTemplate, value: dict[str, Any]) -> str:
    new = str(value.get("new_category") or "").upper()
    correct = str(value.get("correct_category") or "").upper()
    if new in CATEGORIES and new != template.category:
        previous = str(value.get("previous_category") or "").upper()
        template.previous_category = previous if previous in CATEGORIES else template.category
        template.category = new
        return f"category {template.previous_category} → {new}"
    if correct in CATEGORIES and correct != template.category:
        template.status_detail = f"Meta will change the category to {correct} within 24 hours."
        return f"category will become {correct}"
    return f"ignored: category unchanged ({template.category})"


def _quality(template: MessageTemplate, value: dict[str, Any]) -> str:
    score = str(value.get("new_quality_score") or "").upper()
    if score not in QUALITIES:
        return f"ignored: unknown quality {str(value.get('new_quality_score'))[:20]!r}"
    template.quality = score
    return f"quality {score}"
