"""Imports every model so metadata (Alembic, tests) sees all tables."""

from softdukan.audit.models import AuditEvent
from softdukan.auth.models import ApiKey, PasswordReset, Role, User, UserSession
from softdukan.backoffice.models import StaffSession, StaffUser
from softdukan.contact.models import Contact
from softdukan.conversation.media.models import MediaFile
from softdukan.conversation.models import Conversation, Message
from softdukan.inbound.models import InboundEvent
from softdukan.kit.db import Base
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
    SandboxWaba,
    SandboxWebhookDelivery,
)
from softdukan.team.models import Team, TeamMember

__all__ = ["ApiKey", "AuditEvent", "Base", "Contact", "Conversation", "IdempotencyRecord", "InboundEvent",
           "Invitation", "Job", "MediaFile", "Membership", "Message", "Organization", "OutboundEmail", "PasswordReset",
           "PhoneNumber", "Role",
           "SandboxApp", "SandboxBusiness", "SandboxCustomer", "SandboxFlow", "SandboxMedia", "SandboxMessage",
           "SandboxOAuthCode", "SandboxOrder", "SandboxPhoneNumber", "SandboxSetting", "SandboxSubscription",
           "SandboxTemplate", "SandboxThread",
           "SandboxToken", "SandboxWaba", "SandboxWebhookDelivery", "StaffSession", "StaffUser", "Team", "TeamMember",
           "User", "UserSession", "WhatsAppAccount"]
