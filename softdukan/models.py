"""Imports every model so metadata (Alembic, tests) sees all tables."""

from softdukan.audit.models import AuditEvent
from softdukan.auth.models import ApiKey, PasswordReset, Role, User, UserSession
from softdukan.backoffice.models import StaffSession, StaffUser
from softdukan.kit.db import Base
from softdukan.notification.models import OutboundEmail
from softdukan.number.models import PhoneNumber, WhatsAppAccount
from softdukan.organization.models import Invitation, Membership, Organization
from softdukan.platform.idempotency import IdempotencyRecord
from softdukan.platform.jobs.models import Job
from softdukan.team.models import Team, TeamMember

__all__ = ["ApiKey", "AuditEvent", "Base", "IdempotencyRecord", "Invitation", "Job", "Membership", "Organization",
           "OutboundEmail", "PasswordReset", "PhoneNumber", "Role", "StaffSession", "StaffUser", "Team", "TeamMember",
           "User", "UserSession", "WhatsAppAccount"]
