"""Policy tables: one row per posted version of a document (never updated or deleted once posted), and per user
the last version of each kind they acknowledged (for the change notice)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column

from softdukan.kit.db import BigId, Model
from softdukan.platform.errors import Conflict

REFUND_POLICY, TERMS, PRIVACY = "refund_policy", "terms", "privacy"
KINDS = (REFUND_POLICY, TERMS, PRIVACY)


class PolicyVersion(Model):
    """Version `number` of one kind of document, in force from `effective_at` until the next version's. Numbers
    run 1, 2, 3… per kind (the unique key makes two posts racing for one number fail, not both succeed)."""

    __tablename__ = "policy_versions"
    __table_args__ = (
        UniqueConstraint("kind", "number"),
        CheckConstraint("number >= 1", name="number_positive"),
        CheckConstraint("kind IN ('refund_policy', 'terms', 'privacy')", name="kind_known"),
    )

    kind: Mapped[str] = mapped_column(String(20))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)  # Markdown; rendered with raw HTML escaped
    change_summary: Mapped[str] = mapped_column(String(1000), default="")
    effective_at: Mapped[datetime]
    posted_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff_users.id"))  # NULL: the seeded v1


class PolicySeen(Model):
    """The last version of a kind a user acknowledged (dismissed its change notice)."""

    __tablename__ = "policy_seen"
    __table_args__ = (UniqueConstraint("user_id", "kind"),)

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    number: Mapped[int] = mapped_column(Integer)
    seen_at: Mapped[datetime]


@event.listens_for(PolicyVersion, "before_update")
@event.listens_for(PolicyVersion, "before_delete")
def _posted_versions_are_final(_mapper: object, _connection: object, target: PolicyVersion) -> None:
    """A refund decision cites the version in force; changing it afterwards would change what was cited."""
    raise Conflict("policy_version_final", f"Version {target.number} of the {target.kind} was posted and cannot be "
                                           "changed or deleted; post a new version instead.")
