"""The behaviour profile: how this sandbox run behaves (latency, ratios, failures, limits, review, webhooks).

Stored as one JSON row (`sandbox_settings` key "profile"); `PUT /_sandbox/profile` merges a partial update.
"""

from __future__ import annotations

import hashlib
from typing import Any

from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import select

from softdukan.platform.uow import UnitOfWork
from softdukan.sandbox.graph.errors import GraphFault
from softdukan.sandbox.models import SandboxSetting

PROFILE_KEY = "profile"


class FailureRule(BaseModel):
    code: int  # 131026, 131049, 130472, 131048, … (delivered as a `failed` webhook)
    recipient: str | None = None  # wa_id; None: any recipient
    ratio: float = Field(default=1.0, ge=0, le=1)  # share of matching messages that fail (deterministic per wamid)
    categories: list[str] | None = None  # e.g. ["MARKETING"]; None: every message


class ReviewRule(BaseModel):
    action: str = "approve"  # approve | reject | recategorize | pause | disable
    name_contains: str | None = None  # None: every template
    reason: str = "INVALID_FORMAT"  # for reject
    category: str | None = None  # for recategorize (the new category)


class Profile(BaseModel):
    sent_after_seconds: float = Field(default=0.3, ge=0, le=3600)
    delivered_after_seconds: float = Field(default=0.8, ge=0, le=86400)
    read_after_seconds: float = Field(default=3.0, ge=0, le=86400)
    delivery_ratio: float = Field(default=1.0, ge=0, le=1)
    read_ratio: float = Field(default=0.6, ge=0, le=1)
    failures: list[FailureRule] = Field(default_factory=list)
    csw_mode: str = Field(default="async", pattern="^(async|sync)$")  # non-template outside the CSW
    messaging_limit_code: int = 131064  # undocumented by Meta: configurable
    enforce_throughput: bool = True
    throughput_mps: int | None = Field(default=None, ge=1, le=100000)  # None: by the number's level
    enforce_pair_rate: bool = True
    enforce_management_rate: bool = True  # 200 (or 5,000) management calls per hour per app per WABA
    template_review_delay_seconds: float = Field(default=5.0, ge=0, le=86400)
    template_review_rules: list[ReviewRule] = Field(default_factory=lambda: [ReviewRule()])
    display_name_review_delay_seconds: float = Field(default=5.0, ge=0, le=86400)
    webhook_version: str = Field(default="v24.0", pattern=r"^v\d{1,2}\.0$")
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    retry_schedule_seconds: list[float] = Field(
        default_factory=lambda: [5.0, 15.0, 60.0, 300.0, 1800.0, 7200.0, 21600.0, 86400.0, 172800.0]
    )
    oauth_code_ttl_seconds: float = Field(default=30.0, gt=0, le=86400)
    # MM Lite (reference §3.13): non-marketing template code (131055 or 134100); "syncing" window after approval
    mm_lite_marketing_only_code: int = Field(default=134100)
    mm_lite_sync_seconds: float = Field(default=600.0, ge=0, le=86400)
    flow_sends_per_hour: int = Field(default=10, ge=1, le=100000)  # more → 132069 (throttled)
    restriction_code: int = 368  # RESTRICTED_*_MESSAGING sends (Meta's code is unverified)
    pin_guess_limit: int = Field(default=10, ge=1, le=1000)  # wrong PINs per window, then 133008
    pin_guess_window_seconds: float = Field(default=86400.0, gt=0, le=30 * 86400)
    pin_guess_min_interval_seconds: float = Field(default=1.0, ge=0, le=3600)  # a wrong PIN sooner → 133009
    throughput_upgrade_seconds: float = Field(default=60.0, ge=0, le=3600)  # 131057 meanwhile
    limit_scale_delay_seconds: float = Field(default=21600.0, ge=0, le=7 * 86400)  # Meta: within 6 h
    history_customers: int = Field(default=3, ge=0, le=100)  # virtual customers seeded for a history sync
    history_messages_per_customer: int = Field(default=4, ge=1, le=100)
    history_delay_seconds: float = Field(default=1.0, ge=0, le=86400)  # between sync request and webhooks
    # Resumable uploads: each POST keeps at most this many bytes, then answers 503 (code 2) as if the connection
    # broke mid-file; the uploader asks GET /upload:<session> for the offset and sends the rest. None: never.
    upload_cut_after_bytes: int | None = Field(default=None, ge=1, le=200 * 1024 * 1024)

    @property
    def webhook_major(self) -> int:
        return int(self.webhook_version[1:].split(".")[0])


async def load_profile(uow: UnitOfWork) -> Profile:
    row = (
        await uow.session.execute(select(SandboxSetting).where(SandboxSetting.key == PROFILE_KEY))
    ).scalar_one_or_none()
    if row is None:
        return Profile()
    try:
        return Profile.model_validate(row.data)
    except ValidationError:
        return Profile()


async def update_profile(uow: UnitOfWork, changes: dict[str, Any], *, replace: bool = False) -> Profile:
    row = (
        await uow.session.execute(select(SandboxSetting).where(SandboxSetting.key == PROFILE_KEY))
    ).scalar_one_or_none()
    current = {} if replace or row is None else dict(row.data)
    current.update(changes)
    try:
        profile = Profile.model_validate(current)
    except ValidationError as exc:
        raise GraphFault(100, "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())) from None
    if row is None:
        row = SandboxSetting(key=PROFILE_KEY, data={})
        uow.session.add(row)
    row.data = profile.model_dump()
    return profile


def chance(seed: str, ratio: float) -> bool:
    """A deterministic coin: the same message always lands the same way for a given ratio."""
    if ratio >= 1:
        return True
    if ratio <= 0:
        return False
    value = int(hashlib.sha256(seed.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return value < ratio
