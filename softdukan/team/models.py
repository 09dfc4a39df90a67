"""Teams: named groups of members (inbox routing and ownership later build on them)."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from softdukan.kit.db import BigId, TenantModel


class Team(TenantModel):
    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str | None] = mapped_column(String(300))


class TeamMember(TenantModel):
    __tablename__ = "team_members"
    __table_args__ = (UniqueConstraint("team_id", "membership_id"),)

    team_id: Mapped[int] = mapped_column(BigId, ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    membership_id: Mapped[int] = mapped_column(BigId, ForeignKey("memberships.id", ondelete="CASCADE"),
                                               index=True)
