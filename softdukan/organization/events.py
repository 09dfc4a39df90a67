"""Live events of the organization domain."""

from __future__ import annotations

from dataclasses import dataclass

from softdukan.platform.events import Event


@dataclass(frozen=True, kw_only=True)
class MemberJoined(Event):
    type = "member.joined"
    permission = "members:read"
    membership_id: int
    name: str


@dataclass(frozen=True, kw_only=True)
class MemberRemoved(Event):
    type = "member.removed"
    permission = "members:read"
    membership_id: int


@dataclass(frozen=True, kw_only=True)
class MemberRoleChanged(Event):
    type = "member.role_changed"
    permission = "members:read"
    membership_id: int
    role: str
