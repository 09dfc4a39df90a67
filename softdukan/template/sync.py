"""Upserting the templates Meta lists for an account (`GET /{waba}/message_templates`, reference §9.1).

Matched by Meta's id, else by name and language (a template we submitted whose answer was lost). A template
we know by Meta's id that the complete listing no longer has was deleted at Meta (in WhatsApp Manager): it is
marked DELETED here, never removed, so what referred to it still can.
"""

from __future__ import annotations

from typing import Any

from softdukan.number.models import WhatsAppAccount
from softdukan.platform.uow import UnitOfWork
from softdukan.template.models import (
    CATEGORIES,
    DELETED,
    NAMED,
    POSITIONAL,
    QUALITIES,
    STATUSES,
    SUBMITTING,
    MessageTemplate,
)
from softdukan.template.rules import LANGUAGE, NAME


def _text(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value.strip() if isinstance(value, str) and value.strip() else None


def _quality(value: Any) -> str:
    score = value.get("score") if isinstance(value, dict) else value
    score = _text(score)
    return score.upper() if score and score.upper() in QUALITIES else "UNKNOWN"


def _status(value: Any) -> str:
    status = (_text(value) or "").upper()
    return status if status in STATUSES else "UNKNOWN"


def apply_listing(uow: UnitOfWork, account: WhatsAppAccount, existing: list[MessageTemplate],
                  items: list[dict[str, Any]]) -> tuple[list[MessageTemplate], tuple[int, int, int]]:
    """Apply Meta's complete listing to the account's rows; returns the rows touched and (created, updated,
    removed). Items without a usable id, name or language are skipped (never a crash on Meta's data)."""
    now = uow.clock.now()
    by_meta = {t.meta_template_id: t for t in existing if t.meta_template_id}
    by_name = {(t.name, t.language): t for t in existing}
    changed: list[MessageTemplate] = []
    created = updated = 0
    seen: set[str] = set()
    for item in items:
        meta_id, name, language = _text(item.get("id")), _text(item.get("name")), _text(item.get("language"))
        if not meta_id or not name or not language or not NAME.fullmatch(name) or len(name) > 512 \
                or not LANGUAGE.fullmatch(language):
            continue
        seen.add(meta_id)
        template = by_meta.get(meta_id) or by_name.get((name, language))
        if template is None:
            template = MessageTemplate(organization_id=account.organization_id, account_id=account.id, name=name,
                                       language=language, created_at=now)
            by_name[(name, language)] = template
            created += 1
        else:
            updated += 1
        category = (_text(item.get("category")) or "").upper()
        previous = (_text(item.get("previous_category")) or "").upper()
        components = item.get("components")
        reason = (_text(item.get("rejected_reason")) or "").upper()
        template.meta_template_id = meta_id
        template.category = category if category in CATEGORIES else (template.category or "UTILITY")
        template.previous_category = previous if previous in CATEGORIES else template.previous_category
        template.parameter_format = NAMED if (_text(item.get("parameter_format")) or "").upper() == "NAMED" \
            else POSITIONAL
        if isinstance(components, list):
            template.components = [c for c in components if isinstance(c, dict)]
        template.status = _status(item.get("status"))
        template.rejected_reason = reason[:40] if reason and reason != "NONE" else None
        if "quality_score" in item:
            template.quality = _quality(item.get("quality_score"))
        elif template.quality is None:
            template.quality = "UNKNOWN"
        template.status_event_at = max(filter(None, [template.status_event_at, now]))
        template.synced_at = template.updated_at = now
        changed.append(template)
    removed = 0
    for template in existing:
        if template.meta_template_id and template.meta_template_id not in seen \
                and template.status not in (DELETED, SUBMITTING):
            template.status, template.updated_at, template.synced_at = DELETED, now, now
            changed.append(template)
            removed += 1
    return changed, (created, updated, removed)
