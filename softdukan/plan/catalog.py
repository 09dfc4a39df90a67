"""What a plan can grant: the features and limits the product knows, and the catalogue a new installation starts
with (staff edit prices, features and limits in the backoffice; `seed` only fills an empty catalogue).

Prices are yearly, in paise, before GST. A limit of None is unlimited.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

FEATURES: Final[dict[str, str]] = {
    "inbox": "Shared team inbox: reply to customers, send templates",
    "broadcasts": "Broadcasts to segments and imported lists",
    "api_access": "REST API and API keys",
    "chatbot_flows": "Chatbot flows",
    "catalogue": "Product catalogue in WhatsApp",
    "payments": "Payments inside WhatsApp",
    "ads": "Click-to-WhatsApp ads",
    "webhooks": "Outbound webhooks",
}

LIMITS: Final[dict[str, str]] = {
    "agents": "Team members (including the owner and pending invitations)",
    "numbers": "Connected WhatsApp numbers",
    "contacts": "Contacts",
    "flows": "Chatbot flows",
}

LIMIT_NOUNS: Final[dict[str, str]] = {"agents": "team members", "numbers": "WhatsApp numbers",
                                      "contacts": "contacts", "flows": "chatbot flows"}

TRIAL_PLAN: Final = "basic"  # the trial grants Basic …
TRIAL_EXTRA_FEATURES: Final = frozenset({"chatbot_flows"})  # … plus the Chatbot Flows trial (policy clause 1)


@dataclass(frozen=True)
class PlanSeed:
    code: str
    name: str
    yearly_price_paise: int
    features: frozenset[str]
    limits: dict[str, int | None] = field(default_factory=dict)
    description: str = ""


@dataclass(frozen=True)
class ProductSeed:
    code: str
    name: str
    kind: str  # addon | setup_fee | integration
    price_paise: int
    recurring: bool  # yearly with the plan, or once
    grants: dict[str, int] = field(default_factory=dict)  # limit increments per unit (add-ons)


BASIC_FEATURES = frozenset({"inbox", "broadcasts", "api_access", "catalogue"})
PRO_FEATURES = BASIC_FEATURES | {"chatbot_flows", "payments", "ads", "webhooks"}

PLANS: Final[tuple[PlanSeed, ...]] = (
    PlanSeed("basic", "Basic", 9_999_00, BASIC_FEATURES,
             {"agents": 5, "numbers": 1, "contacts": 10_000, "flows": 0},
             "Inbox, broadcasts, API and catalogue for a small team."),
    PlanSeed("pro", "Pro", 24_999_00, PRO_FEATURES,
             {"agents": 15, "numbers": 3, "contacts": 100_000, "flows": 25},
             "Everything in Basic plus chatbot flows, payments, ads and webhooks."),
    PlanSeed("enterprise", "Enterprise", 59_999_00, frozenset(FEATURES),
             {"agents": None, "numbers": 10, "contacts": None, "flows": None},
             "Everything, for large teams, with more numbers and no contact or agent limit."),
)

PRODUCTS: Final[tuple[ProductSeed, ...]] = (
    ProductSeed("extra_agent", "Extra team member", "addon", 1_200_00, True, {"agents": 1}),
    ProductSeed("extra_number", "Extra WhatsApp number", "addon", 3_000_00, True, {"numbers": 1}),
    ProductSeed("setup_assist", "Guided onboarding (one-time setup)", "setup_fee", 4_999_00, False),
    ProductSeed("shopify_sync", "Shopify integration", "integration", 6_000_00, True),
)
