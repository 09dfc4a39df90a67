"""Imports every model so metadata (Alembic, tests) sees all tables."""

from softdukan.audit.models import AuditEvent
from softdukan.auth.models import ApiKey, PasswordReset, Role, User, UserSession
from softdukan.backoffice.models import StaffSession, StaffUser
from softdukan.billing.models import BillingDocument, BillingDocumentLine, BillingProfile, DocumentSeries
from softdukan.broadcast.models import Broadcast, BroadcastRecipient
from softdukan.contact.consent_models import ConsentSettings, InboundConsentAction, StopButton
from softdukan.contact.importing.models import ContactImport, ContactImportError
from softdukan.contact.models import Contact, ContactAttribute, ContactEvent, ContactNote, ContactTag, Tag
from softdukan.conversation.media.models import MediaFile
from softdukan.conversation.models import Conversation, Message
from softdukan.inbound.models import InboundEvent
from softdukan.kit.db import Base
from softdukan.lead.models import Lead, LeadNote
from softdukan.ledger.models import LedgerAccount, LedgerEntry, LedgerHold, LedgerTransaction
from softdukan.notification.models import OutboundEmail
from softdukan.number.models import PhoneNumber, WhatsAppAccount
from softdukan.organization.models import Invitation, Membership, Organization
from softdukan.payments.models import PaymentEvent
from softdukan.plan.models import Plan, Product
from softdukan.platform.idempotency import IdempotencyRecord
from softdukan.platform.jobs.models import Job
from softdukan.policy.models import PolicySeen, PolicyVersion
from softdukan.refund.models import RefundEvent, RefundRequest
from softdukan.sandbox.models import (
    SandboxApp,
    SandboxBusiness,
    SandboxCustomer,
    SandboxFlow,
    SandboxMedia,
    SandboxMessage,
    SandboxOAuthCode,
    SandboxOrder,
    SandboxPhoneNumber,
    SandboxSetting,
    SandboxSubscription,
    SandboxTemplate,
    SandboxThread,
    SandboxToken,
    SandboxUpload,
    SandboxWaba,
    SandboxWebhookDelivery,
)
from softdukan.sandbox.razorpay.models import (
    SandboxRzpMerchant,
    SandboxRzpOrder,
    SandboxRzpPayment,
    SandboxRzpRefund,
    SandboxRzpWebhookDelivery,
)
from softdukan.segment.models import Segment
from softdukan.subscription.models import PlanOrder, Subscription, SubscriptionEvent, TrialClaim
from softdukan.support.models import SupportTicket, SupportTicketMessage
from softdukan.team.models import Team, TeamMember
from softdukan.template.models import MessageTemplate
from softdukan.wallet.models import (
    MessageCharge,
    RateCard,
    RateMarkup,
    Reconciliation,
    Topup,
    WalletSettings,
)

__all__ = [
    "ApiKey",
    "AuditEvent",
    "Base",
    "BillingDocument",
    "BillingDocumentLine",
    "BillingProfile",
    "Broadcast",
    "BroadcastRecipient",
    "ConsentSettings",
    "Contact",
    "ContactAttribute",
    "ContactEvent",
    "ContactImport",
    "ContactImportError",
    "ContactNote",
    "ContactTag",
    "Conversation",
    "DocumentSeries",
    "IdempotencyRecord",
    "InboundConsentAction",
    "InboundEvent",
    "Invitation",
    "Job",
    "Lead",
    "LeadNote",
    "LedgerAccount",
    "LedgerEntry",
    "LedgerHold",
    "LedgerTransaction",
    "MediaFile",
    "Membership",
    "Message",
    "MessageCharge",
    "MessageTemplate",
    "Organization",
    "OutboundEmail",
    "PasswordReset",
    "PaymentEvent",
    "PhoneNumber",
    "Plan",
    "PlanOrder",
    "PolicySeen",
    "PolicyVersion",
    "Product",
    "RateCard",
    "RateMarkup",
    "Reconciliation",
    "RefundEvent",
    "RefundRequest",
    "Role",
    "SandboxApp",
    "SandboxBusiness",
    "SandboxCustomer",
    "SandboxFlow",
    "SandboxMedia",
    "SandboxMessage",
    "SandboxOAuthCode",
    "SandboxOrder",
    "SandboxPhoneNumber",
    "SandboxRzpMerchant",
    "SandboxRzpOrder",
    "SandboxRzpPayment",
    "SandboxRzpRefund",
    "SandboxRzpWebhookDelivery",
    "SandboxSetting",
    "SandboxSubscription",
    "SandboxTemplate",
    "SandboxThread",
    "SandboxToken",
    "SandboxUpload",
    "SandboxWaba",
    "SandboxWebhookDelivery",
    "Segment",
    "StaffSession",
    "StaffUser",
    "StopButton",
    "Subscription",
    "SubscriptionEvent",
    "SupportTicket",
    "SupportTicketMessage",
    "Tag",
    "Team",
    "TeamMember",
    "Topup",
    "TrialClaim",
    "User",
    "UserSession",
    "WalletSettings",
    "WhatsAppAccount",
]
