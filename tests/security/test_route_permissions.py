"""Every route declares who may call it: a `Requires[...]`/`WebRequires[...]` permission, or a place on the
explicit lists below. A new route that declares nothing fails this test."""

from __future__ import annotations

from typing import Any

from fastapi.dependencies.models import Dependant

from softdukan.kit.routes import api_routes

# Routes any valid API key may call (they show only the key's own organization).
ANY_API_KEY = {"/v1/me", "/v1/permissions"}
# Dashboard routes open to any signed-in person, or to nobody signed in (auth flows), or with their own auth.
SIGNED_IN_OR_PUBLIC = {
    "/", "/sign-up", "/sign-in", "/sign-out", "/forgot-password", "/reset-password", "/invitations/accept",
    "/switch-organization", "/no-organization", "/settings/profile", "/settings/password", "/events",
    "/healthz", "/mailbox", "/mailbox/{email_id}",
    "/webhooks/whatsapp",  # Meta's callback: the app secret's signature (POST) or the verify token (GET)
    "/webhooks/razorpay",  # Razorpay's callback: the webhook secret's signature
    # policy documents are public (clause 9); the change notice is the signed-in user's own
    "/legal/refund-policy", "/legal/terms", "/legal/privacy", "/legal/{slug}/versions",
    "/legal/{slug}/versions/{number}", "/legal/notices", "/legal/notices/{slug}/dismiss",
    "/v1/policies", "/v1/policies/{kind}", "/v1/policies/{kind}/versions", "/v1/policies/{kind}/versions/{number}",
    "/demo", "/contact",  # public forms: CSRF-checked, honeypot, per-IP limit
}
# the staff backoffice authenticates staff, not tenant permissions
STAFF_PREFIX = "/backoffice"
# the sandbox Graph API (a local "Meta"): Bearer tokens of its own, Meta's error bodies; control API unauthenticated
SANDBOX_GRAPH_PREFIX = "/sandbox/graph"
# the phone simulator plays the sandbox's customers, like Meta's own test phone: no product sign-in, CSRF-checked
# forms; mounted only when SANDBOX is on (settings.sandbox), never on a production server with a real Graph API
SANDBOX_PHONE_PREFIX = "/sandbox/phone"
# the sandbox Razorpay (a local payment gateway): Basic auth of its own merchants, Razorpay's error bodies; its
# checkout page plays the gateway's hosted page (CSRF-checked form); control API unauthenticated
SANDBOX_RAZORPAY_PREFIX = "/sandbox/razorpay"
# Writes a reader may make on themselves; the service demands the write permission for anyone else.
SELF_SERVICE_WRITES = {"/settings/members/{member_id}/remove"}  # "leave organization"


def declared_permissions(dependant: Dependant) -> set[str]:
    found: set[str] = set()
    for sub in dependant.dependencies:
        permission: Any = getattr(sub.call, "required_permission", None)
        if permission:
            found.add(permission)
        found |= declared_permissions(sub)
    return found


def test_every_route_declares_its_permission(app) -> None:  # type: ignore[no-untyped-def]
    undeclared = []
    for info in api_routes(app):
        if info.path in ANY_API_KEY | SIGNED_IN_OR_PUBLIC or info.path.startswith(
                (STAFF_PREFIX, SANDBOX_GRAPH_PREFIX, SANDBOX_PHONE_PREFIX, SANDBOX_RAZORPAY_PREFIX)):
            continue
        if not declared_permissions(info.route.dependant):
            undeclared.append(f"{sorted(info.methods)} {info.path}")
    assert not undeclared, "routes without a declared permission:\n" + "\n".join(undeclared)


def test_write_routes_need_write_permissions(app) -> None:  # type: ignore[no-untyped-def]
    wrong = []
    for info in api_routes(app):
        permissions = declared_permissions(info.route.dependant)
        if not permissions or not info.methods & {"POST", "PUT", "PATCH", "DELETE"} or info.path in SELF_SERVICE_WRITES:
            continue
        if not any(p.endswith(":write") for p in permissions):
            wrong.append(f"{sorted(info.methods)} {info.path} declares only {sorted(permissions)}")
    assert not wrong, "\n".join(wrong)
