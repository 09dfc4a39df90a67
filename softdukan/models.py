"""Imports every model so metadata (Alembic, tests) sees all tables."""

from softdukan.audit.models import AuditEvent
from softdukan.auth.models import ApiKey, PasswordReset, Role, User, UserSession
from softdukan.backoffice.models import StaffSession, StaffUser
from softdukan.broadcast.models import Broadcast, BroadcastRecipient
from softdukan.contact.consent_models import ConsentSettings, InboundConsentAction, StopButton
from softdukan.contact.importing.models import ContactImport, ContactImportError
from softdukan.contact.models import Contact, ContactAttribute, ContactEvent, ContactNote, ContactTag, Tag
from softdukan.conversation.media.models import MediaFile
from softdukan.conversation.models import Conversation, Message
from softdukan.inbound.models import InboundEvent
from softdukan.kit.db import Base
from softdukan.ledger.models import LedgerAccount, LedgerEntry, LedgerHold, LedgerTransaction
from softdukan.notification.models import OutboundEmail
from softdukan.number.models import PhoneNumber, WhatsAppAccount
from softdukan.organization.models import Invitation, Membership, Organization
from softdukan.platform.idempotency import IdempotencyRecord
from softdukan.platform.jobs.models import Job
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
from softdukan.segment.models import Segment
from softdukan.team.models import Team, TeamMember
from softdukan.template.models import MessageTemplate

__all__ = ["ApiKey", "AuditEvent", "Base", "Broadcast", "BroadcastRecipient",
           "ConsentSettings", "Contact", "ContactAttribute", "ContactEvent",
           "ContactImport", "ContactImportError", "ContactNote", "ContactTag", "Conversation", "IdempotencyRecord",
           "InboundConsentAction", "InboundEvent",
           "Invitation", "Job", "LedgerAccount", "LedgerEntry", "LedgerHold", "LedgerTransaction",
           "MediaFile", "Membership", "Message", "MessageTemplate", "Organization",
           "OutboundEmail", "PasswordReset",
           "PhoneNumber", "Role",
           "SandboxApp", "SandboxBusiness", "SandboxCustomer", "SandboxFlow", "SandboxMedia", "SandboxMessage",
           "SandboxOAuthCode", "SandboxOrder", "SandboxPhoneNumber", "SandboxSetting", "SandboxSubscription",
           "SandboxTemplate", "SandboxThread",
           "SandboxToken", "SandboxUpload", "SandboxWaba",
           "SandboxWebhookDelivery", "Segment", "StaffSession", "StaffUser", "StopButton", "Tag", "Team",
           "TeamMember",
           "User", "UserSession", "WhatsAppAccount"]
