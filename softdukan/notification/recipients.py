"""Who in an organization hears about a matter: its owners and the members whose role grants a permission."""

from __future__ import annotations

from sqlalchemy import select

from softdukan.platform.uow import UnitOfWork


async def emails_with(uow: UnitOfWork, organization_id: int, permission: str) -> list[str]:
    from softdukan.auth.models import Role, User
    from softdukan.organization.models import Membership

    rows = (await uow.session.execute(
        select(User.email, Membership.is_owner, Role.permissions).join(Membership, Membership.user_id == User.id)
        .outerjoin(Role, Role.id == Membership.role_id).where(Membership.organization_id == organization_id))).all()
    return sorted({r.email for r in rows if r.is_owner or permission in (r.permissions or [])})
