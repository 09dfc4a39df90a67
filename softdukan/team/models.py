"""Teams: named groups of members (inbox routing and ownership later build on them)."""

from __future__ import annotations

import unicodedata

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from softdukan.kit.db import BigId, TenantModel


def name_key(name: str) -> str:
    """What makes two team names the same: Unicode-normalised and case-folded, identically on every database."""
    return unicodedata.normalize("NFKC", name).casefold()


class Team(TenantModel):
    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("organization_id", "name_key"),)

    name: Mapped[str] = mapped_column(String(80))
    name_key: Mapped[str] = mapped_column(String(320))  # casefold can grow a name up to 3×
    description: Mapped[str | None] = mapped_column(String(300))


class TeamMember(TenantModel):
    __tablename__ = "team_members"
    __table_args__ = (UniqueConstraint("team_id", "membership_id"),)

    team_id: Mapped[int] = mapped_column(BigId, ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    membership_id: Mapped[int] = mapped_column(BigId, ForeignKey("memberships.id", ondelete="CASCADE"),
                                               index=True)
