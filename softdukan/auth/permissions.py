"""Every permission is `resource:action`; roles and API key scopes are sets of these names."""

from __future__ import annotations

from typing import Final

# name → what it allows, shown on the role and API key forms. Later domains add theirs here.
PERMISSIONS: Final[dict[str, str]] = {
    "organization:read": "See the organization's profile",
    "organization:write": "Edit the organization's profile",
    "members:read": "See members and invitations",
    "members:write": "Invite, remove members and change their roles",
    "teams:read": "See teams",
    "teams:write": "Create, edit and delete teams and their members",
    "roles:read": "See roles",
    "roles:write": "Create, edit and delete custom roles",
    "api_keys:read": "See API keys",
    "api_keys:write": "Create and revoke API keys",
    "audit:read": "Read the audit log",
    "numbers:read": "See connected WhatsApp numbers, their status, quality and limits",
    "numbers:write": "Connect, verify, register and refresh WhatsApp numbers",
    "conversations:read": "See conversations and messages with customers",
    "conversations:write": "Reply to customers and manage conversations",
    "contacts:read": "See contacts, their attributes, tags, notes and timeline",
    "contacts:write": "Create, edit, tag, block, opt out and delete contacts; add notes",
    "contact_imports:write": "Import contacts from CSV or Excel files",
    "contact_attributes:write": "Define, edit and delete custom contact attributes",
    "contacts:export": "Export contacts to CSV",
    "consent_settings:write": "Edit opt-out and opt-in keywords, their replies and stop-promotions buttons",
    "templates:read": "See message templates, their review status and quality",
    "templates:write": "Create, submit, sync and delete message templates",
    "segments:read": "See segments (saved contact filters) and who is in them",
    "segments:write": "Create, edit and delete segments",
    "broadcasts:read": "See broadcasts, their audience, progress and per-recipient outcome",
    "broadcasts:write": "Create, schedule, send, pause, resume and cancel broadcasts",
    "billing:read": "See the billing profile and the GST invoices and credit notes issued to the organization",
    "billing:write": "Edit the billing profile: legal name, address, state and GSTIN on invoices",
    "wallet:read": "See the WhatsApp credits balance, holds, recharges and usage",
    "wallet:write": "Add WhatsApp credits and set the low-balance alert",
    "support:read": "See the organization's support tickets and their conversations",
    "support:write": "Open support tickets and reply to support",
    "subscription:read": "See the plan, trial, subscription, renewal and cancellation dates",
    "subscription:write": "Subscribe, change plan and add-ons, cancel or undo a cancellation",
    "refunds:read": "See refund requests and their decisions",
    "refunds:write": "Request refunds",
}

ALL: Final[frozenset[str]] = frozenset(PERMISSIONS)

OWNER, ADMIN, MANAGER, AGENT = "owner", "admin", "manager", "agent"

BUILTIN_ROLES: Final[dict[str, frozenset[str]]] = {
    OWNER: ALL,
    ADMIN: ALL,
    MANAGER: frozenset({"organization:read", "members:read", "teams:read", "teams:write", "roles:read",
                        "audit:read", "numbers:read", "conversations:read",
                        "conversations:write", "contacts:read", "contacts:write", "contact_imports:write",
                        "contact_attributes:write", "contacts:export", "consent_settings:write", "templates:read",
                        "templates:write",
                        "segments:read", "segments:write", "broadcasts:read", "broadcasts:write", "wallet:read",
                        "support:read", "support:write", "subscription:read"}),
    # agents see which numbers exist (the inbox shows which one a chat is on); numbers hold no secrets in reads
    AGENT: frozenset({"organization:read", "members:read", "teams:read", "numbers:read", "conversations:read",
                      "conversations:write", "contacts:read", "contacts:write", "templates:read",
                      "segments:read", "broadcasts:read", "support:read", "support:write"}),
}


def unknown(names: list[str] | set[str] | frozenset[str]) -> list[str]:
    return sorted(set(names) - ALL)
