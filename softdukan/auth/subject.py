"""Who is acting: a member (through a session), an API key, or platform staff."""

from __future__ import annotations

from dataclasses import dataclass

from softdukan.platform.errors import Forbidden


@dataclass(frozen=True)
class Subject:
    kind: str  # "user" | "api_key"
    organization_id: int
    permissions: frozenset[str]
    label: str  # e-mail or key prefix, for the audit log
    user_id: int | None = None
    membership_id: int | None = None
    api_key_id: int | None = None
    is_owner: bool = False
    ip: str | None = None
    role: str | None = None  # the member's role name (None for API keys)

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    def require(self, permission: str) -> None:
        if permission not in self.permissions:
            what = "This API key lacks the scope" if self.kind == "api_key" else "Your role lacks the permission"
            raise Forbidden("permission_denied", f"{what} '{permission}'.", {"required": permission})

    @property
    def actor_id(self) -> int | None:
        return self.user_id if self.kind == "user" else self.api_key_id
