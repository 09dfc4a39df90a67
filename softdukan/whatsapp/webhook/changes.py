"""Non-message webhook fields: template updates (§5.8), phone number quality (§5.9), account updates (§5.10)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from softdukan.whatsapp.webhook.common import as_dict, as_list, enum, integer, text

TEMPLATE_EVENTS = frozenset({"APPROVED", "REJECTED", "PENDING", "PAUSED", "DISABLED", "FLAGGED", "IN_APPEAL",
                             "REINSTATED", "PENDING_DELETION", "DELETED", "LIMIT_EXCEEDED", "ARCHIVED", "UNARCHIVED",
                             "LOCKED", "UNLOCKED"})
TEMPLATE_REASONS = frozenset({"NONE", "PROMOTIONAL", "ABUSIVE_CONTENT", "INCORRECT_CATEGORY", "INVALID_FORMAT",
                              "TAG_CONTENT_MISMATCH", "SCAM"})
QUALITY_EVENTS = frozenset({"ONBOARDING", "THROUGHPUT_UPGRADE", "FLAGGED", "UNFLAGGED", "UPGRADE", "DOWNGRADE"})
TIERS = frozenset({"TIER_50", "TIER_250", "TIER_1K", "TIER_2K", "TIER_10K", "TIER_100K", "TIER_UNLIMITED",
                   "TIER_NOT_SET"})
QUALITY_RATINGS = frozenset({"GREEN", "YELLOW", "RED", "UNKNOWN"})
ACCOUNT_EVENTS = frozenset({
    "ACCOUNT_DELETED", "ACCOUNT_RESTRICTION", "ACCOUNT_VIOLATION", "DISABLED_UPDATE", "PARTNER_ADDED",
    "PARTNER_REMOVED", "PARTNER_APP_INSTALLED", "PARTNER_APP_UNINSTALLED", "AD_ACCOUNT_LINKED",
    "AUTH_INTL_PRICE_ELIGIBILITY_UPDATE", "MM_LITE_TERMS_SIGNED", "BUSINESS_PRIMARY_LOCATION_COUNTRY_UPDATE",
    "PARTNER_CLIENT_CERTIFICATION_STATUS_UPDATE", "ACCOUNT_OFFBOARDED", "ACCOUNT_RECONNECTED",
    "VOLUME_BASED_PRICING_TIER_UPDATE", "ACCOUNT_UPDATE"})


def _upper(value: Any, known: frozenset[str]) -> str:
    raw = text(value)
    return raw.upper() if raw and raw.upper() in known else "unknown"


@dataclass(frozen=True, slots=True)
class TemplateStatusUpdate:
    """`message_template_status_update`; also `template_category_update` / `message_template_quality_update`."""

    field: str
    event: str  # TEMPLATE_EVENTS or "unknown" (category/quality updates: "unknown")
    template_id: str | None
    name: str | None
    language: str | None
    reason: str | None
    category: str | None
    new_category: str | None
    new_quality_score: str | None
    rejection_info: dict[str, Any] | None


def parse_template_update(field: str, value: dict[str, Any]) -> TemplateStatusUpdate:
    reason = text(value.get("reason"))
    return TemplateStatusUpdate(
        field=field, event=_upper(value.get("event"), TEMPLATE_EVENTS),
        template_id=text(value.get("message_template_id")), name=text(value.get("message_template_name")),
        language=text(value.get("message_template_language")),
        reason=_upper(reason, TEMPLATE_REASONS) if reason else None,
        category=text(value.get("message_template_category")), new_category=text(value.get("new_category")),
        new_quality_score=text(value.get("new_quality_score")),
        rejection_info=value.get("rejection_info") if isinstance(value.get("rejection_info"), dict) else None)


@dataclass(frozen=True, slots=True)
class QualityUpdate:
    """`phone_number_quality_update` (per number) or `business_capability_update` (per portfolio)."""

    field: str
    event: str  # QUALITY_EVENTS or "unknown"
    display_phone_number: str | None
    messaging_limit_tier: str | None  # from max_daily_conversations_per_business (or the removed current_limit)
    quality_rating: str | None  # only when the payload says it outright
    max_phone_numbers: int | None = None


def parse_quality_update(field: str, value: dict[str, Any]) -> QualityUpdate:
    tier = (value.get("max_daily_conversations_per_business") or value.get("max_daily_conversation_per_phone")
            or value.get("current_limit"))
    rating = text(value.get("quality_rating")) or text(value.get("new_quality_rating"))
    return QualityUpdate(field=field, event=_upper(value.get("event"), QUALITY_EVENTS),
                         display_phone_number=text(value.get("display_phone_number")),
                         messaging_limit_tier=_upper(tier, TIERS) if tier else None,
                         quality_rating=_upper(rating, QUALITY_RATINGS) if rating else None,
                         max_phone_numbers=integer(value.get("max_phone_numbers_per_business")))


@dataclass(frozen=True, slots=True)
class AccountUpdate:
    event: str  # ACCOUNT_EVENTS or "unknown"
    raw_event: str | None
    phone_number: str | None  # coexistence disconnect names the number
    restriction_info: list[dict[str, Any]]
    ban_state: str | None
    value: dict[str, Any]


def parse_account_update(value: dict[str, Any]) -> AccountUpdate:
    return AccountUpdate(event=_upper(value.get("event"), ACCOUNT_EVENTS), raw_event=text(value.get("event")),
                         phone_number=text(value.get("phone_number")),
                         restriction_info=[r for r in as_list(value.get("restriction_info")) if isinstance(r, dict)],
                         ban_state=text(as_dict(value.get("ban_info")).get("waba_ban_state")), value=value)


__all__ = ["AccountUpdate", "QualityUpdate", "TemplateStatusUpdate", "enum", "parse_account_update",
           "parse_quality_update", "parse_template_update"]
