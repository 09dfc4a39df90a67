"""/v1: the organization, its members and invitations."""

from __future__ import annotations

from fastapi import APIRouter, Response

from softdukan.auth.schemas import OrganizationOut
from softdukan.kit.ids import PathId
from softdukan.organization.models import Invitation, Organization
from softdukan.organization.schemas import InvitationIn, InvitationOut, MemberOut, MemberRoleIn, OrganizationIn
from softdukan.organization.service import MemberView, organization_service
from softdukan.platform.deps import Requires, UoW
from softdukan.platform.http import error_responses

router = APIRouter(tags=["organization"])


def member_out(view: MemberView) -> MemberOut:
    return MemberOut(id=view.membership.id, user_id=view.user.id, name=view.user.name, email=view.user.email,
                     role_id=view.role.id, role=view.role.name, is_owner=view.membership.is_owner,
                     joined_at=view.membership.created_at)


@router.get("/organization", response_model=OrganizationOut, responses=error_responses())
async def get_organization(uow: UoW, subject: Requires["organization:read"]) -> Organization:
    return await organization_service.get(uow, subject)


@router.put("/organization", response_model=OrganizationOut, responses=error_responses())
async def update_organization(body: OrganizationIn, uow: UoW,
                              subject: Requires["organization:write"]) -> Organization:
    return await organization_service.update(uow, subject, name=body.name, timezone=body.timezone)


@router.get("/members", response_model=list[MemberOut], responses=error_responses())
async def list_members(uow: UoW, subject: Requires["members:read"]) -> list[MemberOut]:
    return [member_out(v) for v in await organization_service.members(uow, subject)]


@router.get("/members/{member_id}", response_model=MemberOut, responses=error_responses(404))
async def get_member(member_id: PathId, uow: UoW, subject: Requires["members:read"]) -> MemberOut:
    return member_out(await organization_service.member(uow, subject, member_id))


@router.put("/members/{member_id}/role", response_model=MemberOut, responses=error_responses(404))
async def change_member_role(member_id: PathId, body: MemberRoleIn, uow: UoW,
                             subject: Requires["members:write"]) -> MemberOut:
    return member_out(await organization_service.change_role(uow, subject, member_id, body.role_id))


@router.delete("/members/{member_id}", status_code=204, responses=error_responses(404))
async def remove_member(member_id: PathId, uow: UoW, subject: Requires["members:write"]) -> Response:
    await organization_service.remove_member(uow, subject, member_id)
    return Response(status_code=204)


@router.get("/invitations", response_model=list[InvitationOut], responses=error_responses())
async def list_invitations(uow: UoW, subject: Requires["members:read"]) -> list[Invitation]:
    return await organization_service.invitations(uow, subject)


@router.post("/invitations", response_model=InvitationOut, status_code=201, responses=error_responses(404, 409))
async def invite(body: InvitationIn, uow: UoW, subject: Requires["members:write"]) -> Invitation:
    return await organization_service.invite(uow, subject, email=body.email, role_id=body.role_id)


@router.delete("/invitations/{invitation_id}", response_model=InvitationOut, responses=error_responses(404, 409))
async def revoke_invitation(invitation_id: PathId, uow: UoW, subject: Requires["members:write"]) -> Invitation:
    return await organization_service.revoke_invitation(uow, subject, invitation_id)
