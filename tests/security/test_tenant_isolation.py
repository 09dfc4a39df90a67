"""Walks EVERY route of /v1 and of the dashboard as organization B, aimed at organization A's ids.

Each route with an id in its path, query or body must answer 404 (or 403), never A's data, and A's
rows must be unchanged afterwards. New routes are picked up automatically; a route whose id
parameter this test doesn't know fails the test until the parameter is added to `victim_ids`.
"""

from __future__ import annotations

import re
import typing
from datetime import datetime
from typing import Any

import pytest
from fastapi import UploadFile
from fastapi.routing import APIRoute
from pydantic import BaseModel
from sqlalchemy import func, select

from softdukan.audit.models import AuditEvent
from softdukan.auth.models import ApiKey, Role
from softdukan.billing.models import BillingDocument, BillingProfile
from softdukan.billing.profile import ProfileInput, billing_profile_service
from softdukan.billing.service import LineIn, billing_service
from softdukan.broadcast.models import Broadcast
from softdukan.broadcast.service import BroadcastInput, broadcast_service
from softdukan.contact.attributes import attribute_service
from softdukan.contact.importing.models import ContactImport
from softdukan.contact.importing.service import import_service
from softdukan.contact.models import Contact, ContactAttribute
from softdukan.contact.service import contact_service
from softdukan.conversation.models import Message
from softdukan.conversation.outbound import record_outbound
from softdukan.kit.routes import RouteInfo, api_routes
from softdukan.main import create_app
from softdukan.notification.models import OutboundEmail
from softdukan.number.models import PhoneNumber
from softdukan.number.provision import provision_sandbox_number
from softdukan.organization.models import Invitation, Membership
from softdukan.organization.service import organization_service
from softdukan.platform.uow import unit_of_work
from softdukan.refund.models import RefundRequest
from softdukan.segment.models import Segment
from softdukan.segment.service import segment_service
from softdukan.subscription.models import PlanOrder
from softdukan.support.models import SupportTicket, SupportTicketMessage
from softdukan.team.models import Team, TeamMember
from softdukan.team.service import team_service
from softdukan.template.models import MessageTemplate
from softdukan.template.sync import apply_listing
from softdukan.wallet.models import Topup
from tests.support.factories import PASSWORD, browser_sign_in, csrf_from, make_org

# Pages that are not tenant pages: staff-only (their own auth) and the public sign-in/sign-up flows.
NOT_TENANT = re.compile(r"^/(backoffice|static|sign-|forgot-password|reset-password|invitations/accept|sandbox"
                        r"|legal/|v1/policies|demo$|contact$)")
SECRET_NAMES = ("Alpha Secret Team", "alpha-secret-role", "Alpha secret order", "alpha_secret_template",
                "Alpha secret segment", "Alpha secret broadcast", "Alpha Secret Billing LLP", "Alpha secret ticket")


async def build_victim(runtime) -> tuple[Any, dict[str, int]]:  # type: ignore[no-untyped-def]
    a = await make_org(runtime, "Alpha Victim Ltd")
    async with unit_of_work(runtime) as uow:
        from softdukan.auth.roles import role_service
        from softdukan.auth.service import auth_service

        role = await role_service.create(uow, a.subject, name=SECRET_NAMES[1], description=None,
                                         permissions=["teams:read"])
        team = await team_service.create(uow, a.subject, name=SECRET_NAMES[0], description=None)
        agent_role = next(r for r in await role_service.list(uow, a.subject) if r.name == "agent")
        invitation = await organization_service.invite(uow, a.subject, email="victim-invitee@example.com",
                                                       role_id=agent_role.id)
        member_user = await auth_service.create_user(uow, email="victim-member@example.com", name="Victim Member",
                                                     password=PASSWORD, mobile=None)
        membership = Membership(organization_id=a.org.id, user_id=member_user.id, role_id=agent_role.id,
                                created_at=uow.clock.now())
        uow.session.add(membership)
        await uow.flush()
        await team_service.add_member(uow, a.subject, team.id, membership.id)
        key = (await uow.session.execute(select(ApiKey).where(ApiKey.organization_id == a.org.id))).scalar_one()
        wa_account, wa_number = await provision_sandbox_number(uow, a.org.id, business_name="Alpha Victim Ltd")
        victim_contact = await contact_service.ensure(uow, a.org.id, "919800011122")
        victim_attribute = await attribute_service.create(uow, a.subject, key="alpha_secret", label="Alpha secret",
                                                          type_="text")
        victim_import = await import_service.upload(uow, a.subject, filename="alpha.csv",
                                                    data=b"phone\n+919800011133\nbad\n")
        [victim_template], _ = apply_listing(uow, wa_account, [], [{
            "id": "778899001122", "name": SECRET_NAMES[3], "language": "en", "status": "APPROVED",
            "category": "UTILITY", "components": [{"type": "BODY", "text": "Your order is ready for pickup today."}]}])
        uow.session.add(victim_template)
        await uow.flush()
        victim_segment = await segment_service.create(uow, a.subject, name=SECRET_NAMES[4], definition={
            "all": [{"field": "tags", "op": "has_any", "value": ["vip"]}]})
        victim_broadcast = await broadcast_service.create(uow, a.subject, BroadcastInput(
            name=SECRET_NAMES[5], template_id=victim_template.id, audience={"kind": "all"}))
        victim_message = await record_outbound(uow, wa_number, victim_contact, type="text",
                                               content={"body": SECRET_NAMES[2]}, preview=SECRET_NAMES[2])
        await billing_profile_service.save(uow, a.subject, ProfileInput(
            legal_name=SECRET_NAMES[6], address_line1="1 Secret Lane", city="Pune", state_code="27",
            pin_code="411001", email="billing@alpha.example", gstin="27AAPFU0939F1ZV"))
        victim_invoice = await billing_service.issue_invoice(uow, a.org.id, lines=[LineIn("Recharge", 10_000)],
                                                             source="wallet_recharge", source_id="victim", paid=True)
        victim_topup = Topup(organization_id=a.org.id, credits_units=1_000_000, taxable_paise=10_000,
                             cgst_paise=900, sgst_paise=900, igst_paise=0, total_paise=11_800, place_of_supply="27",
                             state="paying", razorpay_order_id="order_victim0001", created_at=uow.clock.now())
        uow.session.add(victim_topup)
        await uow.flush()
        from softdukan.support.service import ticket_service

        victim_ticket = await ticket_service.open(uow, a.subject, category="technical", subject_line=SECRET_NAMES[7],
                                                  body="Alpha secret ticket body")
        from softdukan.subscription.purchase import quote

        q = await quote(uow, a.org.id, "pro")
        victim_order = PlanOrder(organization_id=a.org.id, plan_id=q.plan.id, kind=q.kind, lines=[],
                                 taxable_paise=q.taxable_paise, cgst_paise=q.cgst_paise, sgst_paise=q.sgst_paise,
                                 igst_paise=q.igst_paise, total_paise=q.total_paise,
                                 place_of_supply=q.place_of_supply, period_start=q.period_start,
                                 period_end=q.period_end, state="paying", razorpay_order_id="order_victimplan1",
                                 created_at=uow.clock.now())
        uow.session.add(victim_order)
        await uow.flush()
        victim_refund = RefundRequest(organization_id=a.org.id, transaction_ref="pay_victim000001",
                                      source="topup", source_id=victim_topup.id, payment_id="pay_victim000001",
                                      paid_paise=11_800, charge_class="credits", reason="Alpha secret refund reason",
                                      channel="api", state="rejected", clause="3", reasoning="Alpha secret",
                                      policy_version=1, created_at=uow.clock.now())
        uow.session.add(victim_refund)
        await uow.flush()
        email = (await uow.session.execute(select(OutboundEmail).where(
            OutboundEmail.to_address == "victim-invitee@example.com"))).scalar_one()
    ids = {"email_id": email.id, "member_id": membership.id, "membership_id": membership.id, "team_id": team.id,
           "role_id": role.id,
           "key_id": key.id, "invitation_id": invitation.id, "organization_id": a.org.id,
           "number_id": wa_number.id, "account_id": wa_account.id,
           "conversation_id": victim_message.conversation_id, "message_id": victim_message.id,
           "template_id": victim_template.id, "contact_id": victim_contact.id,
           "attribute_id": victim_attribute.id, "import_id": victim_import.id, "segment_id": victim_segment.id,
           "broadcast_id": victim_broadcast.id, "document_id": victim_invoice.id,
           "recharge_id": victim_topup.id, "topup_id": victim_topup.id, "ticket_id": victim_ticket.id,
           "order_id": victim_order.id, "request_id": victim_refund.id}
    return a, ids


async def snapshot(runtime, org_id: int) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    async with runtime.sessionmaker() as session:
        async def rows(model: Any, *columns: Any) -> list[tuple[Any, ...]]:
            result = await session.execute(select(*columns).where(model.organization_id == org_id).order_by(model.id))
            return [tuple(r) for r in result.all()]

        return {
            "memberships": await rows(Membership, Membership.id, Membership.role_id, Membership.is_owner),
            "roles": await rows(Role, Role.id, Role.name, Role.permissions),
            "teams": await rows(Team, Team.id, Team.name, Team.description),
            "team_members": await rows(TeamMember, TeamMember.id, TeamMember.membership_id),
            "numbers": await rows(PhoneNumber, PhoneNumber.id, PhoneNumber.onboarding_step, PhoneNumber.status,
                                  PhoneNumber.is_default, PhoneNumber.refreshed_at),
            "keys": await rows(ApiKey, ApiKey.id, ApiKey.revoked_at, ApiKey.scopes),
            "messages": await rows(Message, Message.id, Message.status, Message.wamid, Message.conversation_id),
            "contacts": await rows(Contact, Contact.id, Contact.wa_id, Contact.name, Contact.attributes,
                                   Contact.opted_out_at, Contact.blocked_at),
            "contact_attributes": await rows(ContactAttribute, ContactAttribute.id, ContactAttribute.label,
                                             ContactAttribute.options),
            "contact_imports": await rows(ContactImport, ContactImport.id, ContactImport.status,
                                          ContactImport.mapping),
            "templates": await rows(MessageTemplate, MessageTemplate.id, MessageTemplate.status,
                                    MessageTemplate.components),
            "segments": await rows(Segment, Segment.id, Segment.name, Segment.definition),
            "broadcasts": await rows(Broadcast, Broadcast.id, Broadcast.name, Broadcast.status, Broadcast.audience,
                                     Broadcast.variables),
            "billing_profiles": await rows(BillingProfile, BillingProfile.id, BillingProfile.legal_name,
                                           BillingProfile.gstin, BillingProfile.updated_at),
            "billing_documents": await rows(BillingDocument, BillingDocument.id, BillingDocument.number,
                                            BillingDocument.status, BillingDocument.total_paise),
            "support_tickets": await rows(SupportTicket, SupportTicket.id, SupportTicket.status,
                                          SupportTicket.closed_at, SupportTicket.last_activity_at),
            "support_ticket_messages": await rows(SupportTicketMessage, SupportTicketMessage.id),
            "plan_orders": await rows(PlanOrder, PlanOrder.id, PlanOrder.state, PlanOrder.razorpay_payment_id),
            "refund_requests": await rows(RefundRequest, RefundRequest.id, RefundRequest.state),
            "invitations": await rows(Invitation, Invitation.id, Invitation.revoked_at, Invitation.accepted_at),
            "audit": (await session.execute(select(func.count()).select_from(AuditEvent)
                                            .where(AuditEvent.organization_id == org_id))).scalar_one(),
        }


def sample_value(name: str, annotation: Any, ids: dict[str, int]) -> Any:
    if name in ids:
        return ids[name]
    origin = typing.get_origin(annotation)
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if origin is typing.Annotated:
        return sample_value(name, args[0], ids)
    if origin is typing.Literal:
        return args[0]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):  # a nested object: well-formed too
        return {n: sample_value(n, f.annotation, ids) for n, f in annotation.model_fields.items()}
    if annotation is datetime or getattr(annotation, "__name__", "") == "AwareDatetime":
        return "2030-01-01T10:00:00+05:30"
    if origin in (list, set, tuple):
        return ["teams:read"]
    if origin is dict:
        return {}
    if origin is typing.Union or str(origin) == "<class 'types.UnionType'>":
        return sample_value(name, args[0], ids) if args else None
    if annotation is int:
        return 1
    if annotation is bool:
        return False
    if "email" in name:
        return "someone-new@example.com"
    if name == "timezone":
        return "Asia/Kolkata"
    return "Isolation Probe"


def body_for(route: APIRoute, ids: dict[str, int]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """A well-formed JSON body or form for the route, with every id field pointing at the victim."""
    json_body: dict[str, Any] | None = None
    form: dict[str, Any] | None = None
    for param in route.dependant.body_params:
        annotation = param.field_info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            json_body = {n: sample_value(n, f.annotation, ids) for n, f in annotation.model_fields.items()}
        else:
            form = form or {}
            form[param.alias] = sample_value(param.alias, annotation, ids)
    return json_body, form


def routes_with_ids(app: Any, ids: dict[str, int]) -> list[tuple[RouteInfo, str]]:
    found = []
    for info in api_routes(app):
        route = info.route
        if NOT_TENANT.match(info.path):
            continue
        path_params = re.findall(r"{(\w+)(?::\w+)?}", info.path)
        unknown = [p for p in path_params if p not in ids]
        assert not unknown, f"{info.path}: add {unknown} to victim_ids so isolation is tested"
        body_names = {p.alias for p in route.dependant.body_params}
        for p in route.dependant.body_params:
            annotation = p.field_info.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                body_names |= set(annotation.model_fields)
        query_names = {p.alias for p in route.dependant.query_params}
        if not path_params and not ((body_names | query_names) & set(ids)):
            continue  # acts only on the caller's own organization
        for method in sorted(info.methods - {"HEAD", "OPTIONS"}):
            found.append((info, method))
    return found


@pytest.fixture
def isolation_app(settings, runtime):  # type: ignore[no-untyped-def]
    # the development mailbox is a global page that exists only without SMTP; production has SMTP
    return create_app(settings.model_copy(update={"mailbox_enabled": False}), runtime=runtime, background=False)


async def test_every_route_denies_another_organizations_ids(isolation_app, runtime) -> None:
    import httpx

    a, ids = await build_victim(runtime)
    b = await make_org(runtime, "Bravo Attacker Co")
    before = await snapshot(runtime, a.org.id)

    transport = httpx.ASGITransport(app=isolation_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as web:
        await browser_sign_in(web, b.owner.email)
        token = csrf_from((await web.get("/")).text)
        walked = routes_with_ids(isolation_app, ids)
        assert any(r.path.startswith("/v1") for r, _ in walked)
        assert any(not r.path.startswith("/v1") for r, _ in walked)
        failures = []
        for info, method in walked:
            route = info.route
            url = re.sub(r"{(\w+)(?::\w+)?}", lambda m: str(ids[m.group(1)]), info.path)
            query = {p.alias: ids[p.alias] for p in route.dependant.query_params if p.alias in ids}
            json_body, form = body_for(route, ids)
            files = {p.alias: ("probe.png", b"\x89PNG\r\n\x1a\n", "image/png") for p in route.dependant.body_params
                     if p.field_info.annotation is UploadFile}  # multipart /v1 routes: a file plus form fields
            if info.path.startswith("/v1") and files:
                fields = {k: str(v) for k, v in (form or {}).items() if k not in files}
                response = await web.request(method, url, params=query, data=fields, files=files, headers=b.auth)
            elif info.path.startswith("/v1"):
                response = await web.request(method, url, params=query, json=json_body, headers=b.auth)
            else:
                data = {**(form or {}), "csrf_token": token} if method != "GET" else None
                response = await web.request(method, url, params=query, data=data)
            leaked = [name for name in SECRET_NAMES if name in response.text]
            if response.status_code not in (403, 404) or leaked:
                failures.append(f"{method} {info.path} -> {response.status_code} {leaked} {response.text[:200]}")
        assert not failures, "\n".join(failures)

    assert await snapshot(runtime, a.org.id) == before, "organization A's rows changed"
