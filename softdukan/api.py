"""The public JSON API, mounted at /v1."""

from fastapi import APIRouter

from softdukan.audit.api import router as audit_router
from softdukan.auth.api import router as auth_router
from softdukan.billing.api import router as billing_router
from softdukan.broadcast.api import router as broadcast_router
from softdukan.contact.api import router as contact_router
from softdukan.contact.consent_api import router as consent_router
from softdukan.conversation.api import router as conversation_router
from softdukan.number.api import router as number_router
from softdukan.organization.api import router as organization_router
from softdukan.policy.api import router as policy_router
from softdukan.refund.api import router as refund_router
from softdukan.segment.api import router as segment_router
from softdukan.subscription.api import router as subscription_router
from softdukan.subscription.purchase_api import router as plan_order_router
from softdukan.support.api import router as support_router
from softdukan.team.api import router as team_router
from softdukan.template.api import router as template_router
from softdukan.wallet.api import router as wallet_router

router = APIRouter(prefix="/v1")
for domain_router in (auth_router, organization_router, team_router, audit_router, number_router,
                      conversation_router, template_router, contact_router, consent_router, segment_router,
                      broadcast_router, billing_router, wallet_router, subscription_router, support_router,
                      policy_router, plan_order_router, refund_router):
    router.include_router(domain_router)
