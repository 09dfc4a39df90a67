"""Backoffice queries for one organization's page: its owners, subscription, plan orders, wallet top-ups, support
tickets and refund requests. Staff read across organizations, so each query takes the organization's id;
nothing outside softdukan.backoffice may use them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from softdukan.auth.models import User
from softdukan.billing.models import BillingDocument
from softdukan.kit.repository import Repository
from softdukan.organization.models import Membership, Organization
from softdukan.plan.models import Plan, Product
from softdukan.refund.models import RefundRequest
from softdukan.subscription.models import PlanOrder, Subscription
from softdukan.support.models import SupportTicket
from softdukan.wallet.models import Topup

LIMIT = 100  # rows per table on the page: the newest first


@dataclass(frozen=True)
class OrderRow:
    order: PlanOrder
    plan_name: str
    invoice_number: str | None


@dataclass(frozen=True)
class TopupRow:
    topup: Topup
    invoice_number: str | None


@dataclass(frozen=True)
class AddonRow:
    code: str
    name: str
    quantity: Any  # as stored in the subscription's JSON


class StaffOrganizationDetailRepository(Repository[Organization]):
    model = Organization

    async def owner_emails(self, organization_id: int) -> list[str]:
        rows = await self.session.execute(
            select(User.email).join(Membership, Membership.user_id == User.id)
            .where(Membership.organization_id == organization_id, Membership.is_owner.is_(True))
            .order_by(Membership.id))
        return list(rows.scalars())

    async def subscription(self, organization_id: int) -> tuple[Subscription, str] | None:
        row = (await self.session.execute(
            select(Subscription, Plan.name).join(Plan, Plan.id == Subscription.plan_id)
            .where(Subscription.organization_id == organization_id))).first()
        return (row[0], row[1]) if row else None

    async def addons(self, quantities: dict[str, Any]) -> list[AddonRow]:
        if not quantities:
            return []
        names = dict((await self.session.execute(
            select(Product.code, Product.name).where(Product.code.in_(list(quantities))))).all())
        return [AddonRow(code, names.get(code, code), quantity) for code, quantity in sorted(quantities.items())]

    async def plan_orders(self, organization_id: int) -> list[OrderRow]:
        rows = await self.session.execute(
            select(PlanOrder, Plan.name, BillingDocument.number).join(Plan, Plan.id == PlanOrder.plan_id)
            .outerjoin(BillingDocument, BillingDocument.id == PlanOrder.invoice_id)
            .where(PlanOrder.organization_id == organization_id).order_by(PlanOrder.id.desc()).limit(LIMIT))
        return [OrderRow(order, plan, number) for order, plan, number in rows.all()]

    async def topups(self, organization_id: int) -> list[TopupRow]:
        rows = await self.session.execute(
            select(Topup, BillingDocument.number).outerjoin(BillingDocument, BillingDocument.id == Topup.invoice_id)
            .where(Topup.organization_id == organization_id).order_by(Topup.id.desc()).limit(LIMIT))
        return [TopupRow(topup, number) for topup, number in rows.all()]

    async def ticket_count(self, organization_id: int) -> int:
        return int(await self.session.scalar(select(func.count(SupportTicket.id))
                                             .where(SupportTicket.organization_id == organization_id)) or 0)

    async def refund_requests(self, organization_id: int) -> list[RefundRequest]:
        rows = await self.session.execute(select(RefundRequest).where(RefundRequest.organization_id == organization_id)
                                          .order_by(RefundRequest.id.desc()).limit(LIMIT))
        return list(rows.scalars())
