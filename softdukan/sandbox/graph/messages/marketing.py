"""Marketing Messages Lite: `POST /{phone-number-id}/marketing_messages` (reference §3.13).

Same body as /messages; on top of the template checks: `type` must be template (**100** "Message must be a
template message."), the template must be MARKETING (**134100**, or 131055 via `profile.mm_lite_marketing_only_code`),
approved at least `profile.mm_lite_sync_seconds` ago (Meta: up to 10 min of syncing → **134101**) and available
to MM Lite (control API `mm_lite_available: false` → **134102**, HTTP 500). `message_activity_sharing` is an
optional boolean. Accepted sends price as category `marketing_lite` in their status webhooks.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from softdukan.platform.uow import UnitOfWork
from softdukan.sandbox.graph.errors import GraphFault
from softdukan.sandbox.graph.profile import Profile
from softdukan.sandbox.models import SandboxTemplate


def check_lite_body(body: dict[str, Any]) -> None:
    if str(body.get("type", "")).lower() != "template":
        raise GraphFault(
            100, "Message must be a template message.", message="(#100) Message must be a template message."
        )
    sharing = body.get("message_activity_sharing")
    if sharing is not None and not isinstance(sharing, bool):
        raise GraphFault(131009, "Param message_activity_sharing must be a boolean.")


def check_lite_template(uow: UnitOfWork, template: SandboxTemplate, profile: Profile) -> None:
    if template.category.upper() != "MARKETING":
        code = profile.mm_lite_marketing_only_code
        raise GraphFault(code, "Only marketing templates can be sent with the Marketing Messages Lite API.")
    if not template.mm_lite_available:
        raise GraphFault(134102, f"Template {template.name} is unavailable for Marketing Messages Lite.")
    synced_at = template.status_changed_at + timedelta(seconds=profile.mm_lite_sync_seconds)
    if uow.clock.now() < synced_at:
        raise GraphFault(
            134101,
            f"Template {template.name} is still syncing to Marketing Messages Lite; try again in a few minutes.",
        )
