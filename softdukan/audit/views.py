"""The audit log page: who did what, filtered and paged, in the organization's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from softdukan.audit.service import ACTIONS, audit_service
from softdukan.auth.settings_views import MAX_ID
from softdukan.dashboard.context import WebRequires
from softdukan.dashboard.render import render
from softdukan.platform.deps import UoW

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
GROUP_LABELS = {"auth": "Sign-in and passwords", "member": "Members", "organization": "Organization",
                "team": "Teams", "role": "Roles", "api_key": "API keys", "job": "Background jobs"}


def action_groups() -> list[tuple[str, str, list[str]]]:
    """[(label, prefix, actions)] for the action filter, built from the audit service's list of actions."""
    groups: dict[str, list[str]] = {}
    for action in ACTIONS:
        groups.setdefault(action.split(".", 1)[0], []).append(action)
    return [(GROUP_LABELS.get(name, name.replace("_", " ").capitalize()), f"{name}.", sorted(actions))
            for name, actions in groups.items()]


def _day(raw: str, field: str, errors: dict[str, str]) -> date | None:
    if not raw.strip():
        return None
    try:
        day = date.fromisoformat(raw.strip())
    except ValueError:
        errors[field] = "Use a date like 2025-01-31."
        return None
    if not 1970 <= day.year <= 9000:  # far-off years overflow when shifted to UTC
        errors[field] = "Choose a year between 1970 and 9000."
        return None
    return day


def _start_of(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


@router.get("/settings/audit", response_class=HTMLResponse)
async def audit_page(request: Request, uow: UoW, web: WebRequires["audit:read"], action: str = "", actor: str = "",
                     since: str = Query("", alias="from"), until: str = Query("", alias="to"),
                     before_id: str = "") -> Response:
    assert web.subject is not None and web.organization is not None
    zone = ZoneInfo(web.organization.timezone)
    groups = action_groups()
    filters = {"action": action, "actor": actor.strip(), "from": since, "to": until}
    errors: dict[str, str] = {}
    if action and action not in ACTIONS and action not in {prefix for _, prefix, _ in groups}:
        errors["action"] = "Choose an action from the list."
    if len(filters["actor"]) > 254:
        errors["actor"] = "Type part of an e-mail address or an API key prefix."
    first, last = _day(since, "from", errors), _day(until, "to", errors)
    if first and last and first > last:
        errors["to"] = "The end date is before the start date."
    cursor = None
    if before_id.strip():
        if before_id.strip().isdecimal() and 1 <= int(before_id) <= MAX_ID:
            cursor = int(before_id)
        else:
            errors["before_id"] = "That page link is not valid; start again from the newest events."

    page: dict[str, Any] = {"filters": filters, "groups": groups, "errors": errors, "events": [], "older": None,
                            "paged": cursor is not None}
    if errors:
        return render(request, "audit/audit.html", page | {"error": "Some filters are not valid."}, status_code=422)

    events = await audit_service.search(
        uow, web.subject, action=action or None, actor=filters["actor"] or None,
        since=_start_of(first, zone) if first else None,
        until=_start_of(last + timedelta(days=1), zone) if last else None,  # the whole "to" day is included
        before_id=cursor, limit=PAGE_SIZE + 1)
    page["events"] = events[:PAGE_SIZE]
    if len(events) > PAGE_SIZE:
        kept = {k: v for k, v in filters.items() if v}
        page["older"] = "/settings/audit?" + urlencode({**kept, "before_id": events[PAGE_SIZE - 1].id})
    page["newest"] = "/settings/audit?" + urlencode({k: v for k, v in filters.items() if v})
    return render(request, "audit/audit.html", page)
