"""Organizations, membership, invitations and ownership."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from markupsafe import escape

from softdukan.audit.service import audit_service
from softdukan.auth.models import Role, User
from softdukan.auth.permissions import ADMIN, BUILTIN_ROLES, OWNER
from softdukan.auth.repository import RoleRepository, UserRepository
from softdukan.auth.service import auth_service, clean_email, clean_name
from softdukan.auth.subject import Subject
from softdukan.kit.crypto import new_token, token_hash
from softdukan.notification.service import mail_service
from softdukan.organization.events import MemberJoined, MemberRemoved, MemberRoleChanged
from softdukan.organization.models import Invitation, Membership, Organization
from softdukan.organization.repository import (
    InvitationRepository,
    MembershipRepository,
    OrganizationRepository,
)
from softdukan.platform.errors import Conflict, Forbidden, Gone, Invalid, NotFound
from softdukan.platform.uow import UnitOfWork

INVITE_TTL = timedelta(days=7)


@dataclass(frozen=True)
class MemberView:
    membership: Membership
    user: User
    role: Role


class OrganizationService:
    async def create(self, uow: UnitOfWork, *, name: str, owner: User) -> Organization:
        org = Organization(name=clean_name(name, "business_name", "Business name"), created_at=uow.clock.now())
        uow.session.add(org)
        await uow.flush()
        roles = {}
        for role_name, permissions in BUILTIN_ROLES.items():
            roles[role_name] = Role(organization_id=org.id, name=role_name, permissions=sorted(permissions),
                                    is_builtin=True, created_at=uow.clock.now())
            uow.session.add(roles[role_name])
        await uow.flush()
        uow.session.add(Membership(organization_id=org.id, user_id=owner.id, role_id=roles[OWNER].id,
                                   is_owner=True, created_at=uow.clock.now()))
        await uow.flush()
        return org

    async def sign_up(self, uow: UnitOfWork, *, business_name: str, name: str, email: str, mobile: str,
                      password: str, ip: str | None) -> tuple[User, Organization]:
        clean_name(business_name, "business_name", "Business name")
        if not mobile.strip():
            raise Invalid("missing_field", "Mobile number is required.", {"mobile": "Mobile number is required."})
        user = await auth_service.create_user(uow, email=email, name=name, password=password, mobile=mobile)
        org = await self.create(uow, name=business_name, owner=user)
        audit_service.record(uow, "auth.signed_up", organization_id=org.id, actor_type="user",
                             actor_id=user.id, actor_label=user.email, ip=ip, target=org, target_label=org.name)
        from softdukan.subscription.service import start_trial

        await start_trial(uow, org.id, user.email)  # no payment method; once per business (policy clause 1)
        if uow.settings.signup_credit_units > 0:  # the welcome credit: promotional, untaxed, once per organization
            from softdukan.wallet.service import grant

            await grant(uow, org.id, units=uow.settings.signup_credit_units, key=f"signup:{org.id}",
                        reason="Welcome credit")
        return user, org

    async def subject_for(self, uow: UnitOfWork, user: User, organization_id: int,
                          ip: str | None = None) -> Subject | None:
        """The member's subject in one organization, or None when not a member or the organization is suspended."""
        membership = await MembershipRepository(uow.session).of_user_in_org(user.id, organization_id)
        org = await OrganizationRepository(uow.session).by_id(organization_id)
        if membership is None or org is None or org.suspended_at is not None:
            return None
        role = await RoleRepository(uow.session).by_id_in_org(organization_id, membership.role_id)
        permissions = frozenset(role.permissions if role else ())
        return Subject(kind="user", organization_id=organization_id, permissions=permissions, label=user.email,
                       user_id=user.id, membership_id=membership.id, is_owner=membership.is_owner, ip=ip,
                       role=role.name if role else None)

    async def get(self, uow: UnitOfWork, subject: Subject) -> Organization:
        org = await OrganizationRepository(uow.session).by_id(subject.organization_id)
        assert org is not None  # a subject exists only for an existing organization
        return org

    async def update(self, uow: UnitOfWork, subject: Subject, *, name: str, timezone: str) -> Organization:
        subject.require("organization:write")
        from zoneinfo import available_timezones

        org = await self.get(uow, subject)
        if timezone not in available_timezones():
            raise Invalid("invalid_timezone", f"Unknown time zone '{timezone}'.", {"timezone": "Unknown time zone."})
        org.name = clean_name(name, "name", "Business name")
        org.timezone = timezone
        audit_service.record(uow, "organization.updated", subject=subject, target=org, target_label=org.name)
        return org

    async def organizations_of(self, uow: UnitOfWork, user: User) -> list[tuple[Organization, Membership]]:
        return await OrganizationRepository(uow.session).of_user(user.id)

    # -- members --------------------------------------------------------------------------------

    async def members(self, uow: UnitOfWork, subject: Subject) -> list[MemberView]:
        subject.require("members:read")
        return [MemberView(m, u, r) for m, u, r in await MembershipRepository(uow.session).with_users(subject)]

    async def member(self, uow: UnitOfWork, subject: Subject, membership_id: int) -> MemberView:
        subject.require("members:read")
        for view in await self.members(uow, subject):
            if view.membership.id == membership_id:
                return view
        raise NotFound("member_not_found", "No such member in this organization.")

    async def _role(self, uow: UnitOfWork, subject: Subject, role_id: int) -> Role:
        role = await RoleRepository(uow.session).get(subject, role_id)
        if role is None:
            raise NotFound("role_not_found", "No such role in this organization.", {"role_id": "Unknown role."})
        if role.name == OWNER and role.is_builtin:
            raise Invalid("owner_role_not_assignable",
                          "The owner role can't be given directly; transfer ownership instead.",
                          {"role_id": "Use 'Transfer ownership'."})
        if not subject.is_owner and not set(role.permissions) <= subject.permissions:
            raise Forbidden("role_exceeds_yours", "You can't give a role with permissions you don't have.")
        return role

    async def change_role(self, uow: UnitOfWork, subject: Subject, membership_id: int, role_id: int) -> MemberView:
        subject.require("members:write")
        view = await self.member(uow, subject, membership_id)
        if view.membership.is_owner:
            raise Forbidden("owner_role_fixed", "The owner's role can't be changed; transfer ownership first.")
        role = await self._role(uow, subject, role_id)
        old = view.role.name
        view.membership.role_id = role.id
        audit_service.record(uow, "member.role_changed", subject=subject, target=view.membership,
                             target_label=view.user.email, old_role=old, new_role=role.name)
        uow.emit(MemberRoleChanged(organization_id=subject.organization_id, membership_id=membership_id,
                                   role=role.name))
        return MemberView(view.membership, view.user, role)

    async def remove_member(self, uow: UnitOfWork, subject: Subject, membership_id: int) -> None:
        view = await self.member(uow, subject, membership_id)
        if view.membership.user_id != subject.user_id:  # anyone may leave; removing others needs the right
            subject.require("members:write")
        if view.membership.is_owner:
            raise Forbidden("owner_cannot_be_removed", "The owner can't be removed; transfer ownership first.")
        await MembershipRepository(uow.session).delete(view.membership)
        audit_service.record(uow, "member.removed", subject=subject, target=view.membership,
                             target_label=view.user.email)
        uow.emit(MemberRemoved(organization_id=subject.organization_id, membership_id=membership_id))

    async def transfer_ownership(self, uow: UnitOfWork, subject: Subject, membership_id: int) -> MemberView:
        if not subject.is_owner:
            raise Forbidden("owner_only", "Only the owner can transfer ownership.")
        view = await self.member(uow, subject, membership_id)
        if view.membership.id == subject.membership_id:
            raise Invalid("already_owner", "You already own this organization.")
        roles = RoleRepository(uow.session)
        owner_role = await roles.by_name(subject.organization_id, OWNER)
        admin_role = await roles.by_name(subject.organization_id, ADMIN)
        assert owner_role and admin_role  # built-in roles exist from creation and can't be deleted
        current = await MembershipRepository(uow.session).get(subject, subject.membership_id or 0)
        assert current is not None
        current.is_owner, current.role_id = False, admin_role.id
        await uow.flush()  # one owner at a time, even mid-transaction
        view.membership.is_owner, view.membership.role_id = True, owner_role.id
        audit_service.record(uow, "organization.ownership_transferred", subject=subject, target=view.membership,
                             target_label=view.user.email)
        return MemberView(view.membership, view.user, owner_role)

    # -- invitations ----------------------------------------------------------------------------

    async def invitations(self, uow: UnitOfWork, subject: Subject) -> list[Invitation]:
        subject.require("members:read")
        return await InvitationRepository(uow.session).pending(subject)

    async def invite(self, uow: UnitOfWork, subject: Subject, *, email: str, role_id: int) -> Invitation:
        subject.require("members:write")
        email = clean_email(email)
        role = await self._role(uow, subject, role_id)
        existing_user = await UserRepository(uow.session).by_email(email)
        if existing_user and await MembershipRepository(uow.session).of_user_in_org(
                existing_user.id, subject.organization_id):
            raise Conflict("already_member", f"{email} is already a member.", {"email": "Already a member."})
        for pending in await InvitationRepository(uow.session).pending(subject):
            if pending.email == email and pending.expires_at > uow.clock.now():
                raise Conflict("already_invited", f"{email} already has a pending invitation.",
                               {"email": "Already invited; revoke it to send a new one."})
        from softdukan.subscription import entitlements

        async def seats_taken() -> int:  # members and unexpired invitations
            members = len(await MembershipRepository(uow.session).with_users(subject))
            return members + sum(1 for p in await InvitationRepository(uow.session).pending(subject)
                                 if p.expires_at > uow.clock.now())

        await entitlements.require_room(uow, subject.organization_id, "agents", seats_taken)
        token = new_token()
        invitation = Invitation(organization_id=subject.organization_id, email=email, role_id=role.id,
                                token_hash=token_hash(uow.settings.softdukan_secret_key, token),
                                invited_by_user_id=subject.user_id, expires_at=uow.clock.now() + INVITE_TTL,
                                created_at=uow.clock.now())
        uow.session.add(invitation)
        await uow.flush()
        org = await self.get(uow, subject)
        link = f"{uow.settings.base_url}/invitations/accept?token={token}"
        await mail_service.send(
            uow, to=email, subject=f"You're invited to {org.name} on SoftDukan",
            text=f"{subject.label} invited you to join {org.name} on SoftDukan as {role.name}.\n\n"
                 f"Accept within 7 days:\n\n{link}\n",
            html=f"<p>{escape(subject.label)} invited you to join <b>{escape(org.name)}</b> on SoftDukan as "
                 f"{escape(role.name)}.</p>"
                 f'<p><a href="{link}">Accept the invitation</a> (valid for 7 days).</p>')
        audit_service.record(uow, "member.invited", subject=subject, target=invitation, target_label=email,
                             role=role.name)
        return invitation

    async def revoke_invitation(self, uow: UnitOfWork, subject: Subject, invitation_id: int) -> Invitation:
        subject.require("members:write")
        invitation = await InvitationRepository(uow.session).get(subject, invitation_id)
        if invitation is None:
            raise NotFound("invitation_not_found", "No such invitation.")
        if invitation.accepted_at or invitation.revoked_at:
            raise Conflict("invitation_closed", "This invitation was already accepted or revoked.")
        invitation.revoked_at = uow.clock.now()
        audit_service.record(uow, "member.invitation_revoked", subject=subject, target=invitation,
                             target_label=invitation.email)
        return invitation

    async def open_invitation(self, uow: UnitOfWork, token: str) -> tuple[Invitation, Organization, Role]:
        invitation = await InvitationRepository(uow.session).by_token_hash(
            token_hash(uow.settings.softdukan_secret_key, token))
        if invitation is None or invitation.revoked_at is not None:
            raise Gone("invitation_invalid", "This invitation link is not valid. Ask for a new invitation.")
        if invitation.accepted_at is not None:
            raise Gone("invitation_used", "This invitation was already accepted. Sign in to continue.")
        if invitation.expires_at <= uow.clock.now():
            raise Gone("invitation_expired", "This invitation has expired. Ask for a new one.")
        org = await OrganizationRepository(uow.session).by_id(invitation.organization_id)
        role = await RoleRepository(uow.session).by_id_in_org(invitation.organization_id, invitation.role_id)
        assert org is not None and role is not None
        if org.suspended_at is not None:
            raise Gone("organization_suspended", "This organization is suspended.")
        return invitation, org, role

    async def accept_invitation(self, uow: UnitOfWork, *, token: str, user: User,
                                ip: str | None) -> Organization:
        invitation, org, role = await self.open_invitation(uow, token)
        if user.email != invitation.email:
            raise Forbidden("invitation_for_another_email",
                            f"This invitation was sent to {invitation.email}. Sign in with that address.")
        memberships = MembershipRepository(uow.session)
        if await memberships.of_user_in_org(user.id, org.id) is None:
            membership = Membership(organization_id=org.id, user_id=user.id, role_id=role.id,
                                    created_at=uow.clock.now())
            uow.session.add(membership)
            await uow.flush()
            uow.emit(MemberJoined(organization_id=org.id, membership_id=membership.id, name=user.name))
            audit_service.record(uow, "member.joined", organization_id=org.id, actor_type="user",
                                 actor_id=user.id, actor_label=user.email, ip=ip, target=membership,
                                 target_label=user.email, role=role.name)
        invitation.accepted_at = uow.clock.now()
        return org

    async def accept_as_new_user(self, uow: UnitOfWork, *, token: str, name: str, mobile: str | None,
                                 password: str, ip: str | None) -> tuple[User, Organization]:
        invitation, _, _ = await self.open_invitation(uow, token)
        user = await auth_service.create_user(uow, email=invitation.email, name=name, password=password,
                                              mobile=mobile or None)
        org = await self.accept_invitation(uow, token=token, user=user, ip=ip)
        return user, org


organization_service = OrganizationService()
