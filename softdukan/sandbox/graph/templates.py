"""Template management: create (checks, 100/h, count limits), list paged, get, edit (limits), delete, and the
review job that approves, rejects, recategorizes, pauses or disables after the profile's delay."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from softdukan.platform.uow import UnitOfWork
from softdukan.sandbox.graph.errors import GraphFault, template_fault
from softdukan.sandbox.graph.ids import object_id
from softdukan.sandbox.graph.profile import load_profile
from softdukan.sandbox.graph.state import category_webhook, set_template_status, template_status_webhook
from softdukan.sandbox.graph.template_rules import CATEGORIES, check_template
from softdukan.sandbox.graph.uploads import check_header_samples, with_sample_urls
from softdukan.sandbox.models import SandboxBusiness, SandboxTemplate, SandboxWaba

CREATIONS_PER_HOUR = 100
DEFAULT_FIELDS = ("name", "parameter_format", "components", "language", "status", "category", "id")


async def _count(uow: UnitOfWork, waba: SandboxWaba, *conditions: Any) -> int:
    return int(
        (
            await uow.session.execute(
                select(func.count(SandboxTemplate.id)).where(SandboxTemplate.waba_pk == waba.id, *conditions)
            )
        ).scalar_one()
    )


async def create(uow: UnitOfWork, waba: SandboxWaba, body: dict[str, Any]) -> dict[str, Any]:
    name, language, category, parameter_format, components = check_template(body)
    await check_header_samples(uow, waba, components)
    now = uow.clock.now()
    if await _count(uow, waba, SandboxTemplate.created_at >= now - timedelta(hours=1)) >= CREATIONS_PER_HOUR:
        raise GraphFault(
            80007, "This WhatsApp Business account created 100 templates in the last hour; try again later."
        )
    business = await uow.session.get(SandboxBusiness, waba.business_pk)
    limit = 6000 if business is not None and business.verified else 250
    if await _count(uow, waba, SandboxTemplate.deleted_at.is_(None)) >= limit:
        raise template_fault(
            2388019,
            "Message template limit exceeded",
            f"This WhatsApp Business account already has {limit} message templates.",
        )
    if await _count(
        uow,
        waba,
        SandboxTemplate.name == name,
        SandboxTemplate.language == language,
        SandboxTemplate.deleted_at.is_(None),
    ):
        raise template_fault(
            2388024, "Content in this language already exists", f"A template named {name} already exists in {language}."
        )
    template = SandboxTemplate(
        template_id=object_id(),
        waba_pk=waba.id,
        name=name,
        language=language,
        category=category,
        parameter_format=parameter_format,
        components=components,
        status="PENDING",
        quality_score="UNKNOWN",
        edits=[],
        history=[{"at": now.isoformat(), "status": "PENDING"}],
        status_changed_at=now,
        created_at=now,
    )
    uow.session.add(template)
    await uow.flush()
    await _schedule_review(uow, template)
    return {"id": template.template_id, "status": "PENDING", "category": category}


async def _schedule_review(uow: UnitOfWork, template: SandboxTemplate) -> None:
    profile = await load_profile(uow)
    uow.enqueue(
        "sandbox.review_template",
        run_at=uow.clock.now() + timedelta(seconds=profile.template_review_delay_seconds),
        template_pk=template.id,
    )


async def review(uow: UnitOfWork, template_pk: int) -> None:
    template = await uow.session.get(SandboxTemplate, template_pk)
    if template is None or template.status != "PENDING" or template.deleted_at is not None:
        return
    profile = await load_profile(uow)
    rule = next(
        (r for r in profile.template_review_rules if r.name_contains is None or r.name_contains in template.name), None
    )
    action = rule.action if rule else "approve"
    if action == "reject":
        set_template_status(uow, template, "REJECTED", rule.reason if rule else "INVALID_FORMAT")
        await template_status_webhook(uow, template, "REJECTED", reason=template.rejected_reason)
        return
    if action == "disable":
        set_template_status(uow, template, "DISABLED")
        await template_status_webhook(uow, template, "DISABLED")
        return
    if action == "recategorize" and rule and rule.category and rule.category.upper() in CATEGORIES:
        new = rule.category.upper()
        if new != template.category:
            previous, template.previous_category, template.category = template.category, template.category, new
            await category_webhook(uow, template, previous)
    set_template_status(uow, template, "APPROVED")
    template.quality_score = "GREEN"
    await template_status_webhook(uow, template, "APPROVED")
    if action == "pause":
        set_template_status(uow, template, "PAUSED")
        await template_status_webhook(uow, template, "PAUSED", reason="NONE")


def view(template: SandboxTemplate, fields: list[str] | None = None, *, sample_root: str | None = None
         ) -> dict[str, Any]:
    """`sample_root`: the sandbox's root URL; media header samples are then shown as URLs, as Meta does."""
    full: dict[str, Any] = {
        "name": template.name,
        "parameter_format": template.parameter_format,
        "components": with_sample_urls(template.components, sample_root) if sample_root else template.components,
        "language": template.language,
        "status": template.status,
        "category": template.category,
        "id": template.template_id,
        "previous_category": template.previous_category,
        "rejected_reason": template.rejected_reason or "NONE",
        "quality_score": {"score": template.quality_score},
        "sub_category": None,
    }
    wanted = fields or list(DEFAULT_FIELDS)
    out = {key: full[key] for key in wanted if key in full and full[key] is not None}
    out["id"] = template.template_id
    return out


def fields_of(raw: Any) -> list[str] | None:
    if not raw or not isinstance(raw, str):
        return None
    return [f.strip() for f in raw.split(",") if f.strip()]


def _cursor(pk: int) -> str:
    return base64.urlsafe_b64encode(str(pk).encode()).decode().rstrip("=")


def _uncursor(raw: str) -> int:
    try:
        return int(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode())
    except (ValueError, UnicodeDecodeError):
        raise GraphFault(100, "Param after is not a valid cursor.") from None


async def listing(uow: UnitOfWork, waba: SandboxWaba, query: dict[str, Any], base_url: str) -> dict[str, Any]:
    try:
        limit = max(1, min(int(query.get("limit", 25)), 1000))
    except (TypeError, ValueError):
        raise GraphFault(100, "Param limit must be an integer.") from None
    stmt = select(SandboxTemplate).where(SandboxTemplate.waba_pk == waba.id, SandboxTemplate.deleted_at.is_(None))
    for key, column in (
        ("status", SandboxTemplate.status),
        ("category", SandboxTemplate.category),
        ("language", SandboxTemplate.language),
    ):
        if query.get(key):
            stmt = stmt.where(
                column.in_([v.strip().upper() if key != "language" else v.strip() for v in str(query[key]).split(",")])
            )
    if query.get("name"):
        stmt = stmt.where(SandboxTemplate.name.contains(str(query["name"])))
    if query.get("after"):
        stmt = stmt.where(SandboxTemplate.id > _uncursor(str(query["after"])))
    rows = (await uow.session.execute(stmt.order_by(SandboxTemplate.id).limit(limit + 1))).scalars().all()
    page, more = rows[:limit], len(rows) > limit
    fields = fields_of(query.get("fields"))
    root = base_url.rsplit("/", 1)[0]  # base_url ends with the version
    result: dict[str, Any] = {"data": [view(t, fields, sample_root=root) for t in page]}
    if page:
        cursors = {"before": _cursor(page[0].id), "after": _cursor(page[-1].id)}
        result["paging"] = {"cursors": cursors}
        if more:
            result["paging"]["next"] = (
                f"{base_url}/{waba.waba_id}/message_templates?limit={limit}&after={cursors['after']}"
            )
    else:
        result["paging"] = {"cursors": {"before": "", "after": ""}}
    if query.get("summary"):
        business = await uow.session.get(SandboxBusiness, waba.business_pk)
        total = await _count(uow, waba, SandboxTemplate.deleted_at.is_(None))
        result["summary"] = {
            "total_count": total,
            "message_template_count": total,
            "message_template_limit": 6000 if business and business.verified else 250,
            "are_translations_complete": True,
        }
    return result


def _since(stamps: list[str], now: datetime, delta: timedelta) -> int:
    return sum(1 for s in stamps if datetime.fromisoformat(s) > now - delta)


async def edit(uow: UnitOfWork, template: SandboxTemplate, body: dict[str, Any]) -> dict[str, Any]:
    if template.status in ("PENDING", "DISABLED", "PENDING_DELETION"):
        raise GraphFault(100, f"A template in status {template.status} can't be edited.")
    now = uow.clock.now()
    if template.status in ("APPROVED", "PAUSED"):
        if _since(template.edits, now, timedelta(hours=24)) >= 1:
            raise GraphFault(
                100,
                "An approved template can be edited once in 24 hours.",
                subcode=2388068,
                user_title="Edit limit reached",
                user_msg="An approved template can be edited once in 24 hours.",
            )
        if _since(template.edits, now, timedelta(days=30)) >= 10:
            raise GraphFault(
                100,
                "An approved template can be edited 10 times in 30 days.",
                subcode=2388068,
                user_title="Edit limit reached",
                user_msg="An approved template can be edited 10 times in 30 days.",
            )
    if body.get("components") is None and body.get("category") is None:
        raise GraphFault(100, "Give components or category to edit.")
    candidate = {
        "name": template.name,
        "language": template.language,
        "category": body.get("category") or template.category,
        "parameter_format": body.get("parameter_format") or template.parameter_format,
        "components": body.get("components") if body.get("components") is not None else template.components,
    }
    _, _, category, parameter_format, components = check_template(candidate)
    waba = await uow.session.get(SandboxWaba, template.waba_pk)
    if waba is not None and body.get("components") is not None:
        await check_header_samples(uow, waba, components)
    template.components, template.category, template.parameter_format = components, category, parameter_format
    template.edits = [*template.edits, now.isoformat()]
    set_template_status(uow, template, "PENDING")
    await _schedule_review(uow, template)
    return {"success": True, "id": template.template_id, "category": template.category}


async def delete(uow: UnitOfWork, waba: SandboxWaba, name: str | None, hsm_id: str | None) -> dict[str, Any]:
    if not name:
        raise GraphFault(100, "The parameter name is required.")
    stmt = select(SandboxTemplate).where(
        SandboxTemplate.waba_pk == waba.id, SandboxTemplate.name == name, SandboxTemplate.deleted_at.is_(None)
    )
    if hsm_id:
        stmt = stmt.where(SandboxTemplate.template_id == hsm_id)
    rows = (await uow.session.execute(stmt)).scalars().all()
    if not rows:
        raise template_fault(
            2388042,
            "Message template not found",
            f"No template named {name}{' with id ' + hsm_id if hsm_id else ''} in this account.",
        )
    now = uow.clock.now()
    for template in rows:
        template.deleted_at = now
        set_template_status(uow, template, "DELETED")
    return {"success": True}
