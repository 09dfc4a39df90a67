"""Live events of contacts (published after commit)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from softdukan.platform.events import Event


@dataclass(frozen=True, kw_only=True)
class ContactConsentChanged(Event):
    """A contact opted in or out, or was blocked or unblocked."""

    type: ClassVar[str] = "contact.consent_changed"
    permission: ClassVar[str | None] = "contacts:read"
    contact_id: int
    kind: str  # opted_in | opted_out | blocked | unblocked
    source: str


@dataclass(frozen=True, kw_only=True)
class ContactImportProgressed(Event):
    """A chunk of a contact import was committed (or the import finished or failed)."""

    type: ClassVar[str] = "contact.import_progressed"
    permission: ClassVar[str | None] = "contacts:read"
    import_id: int
    status: str
    rows_done: int
    total_rows: int | None
    error_count: int
