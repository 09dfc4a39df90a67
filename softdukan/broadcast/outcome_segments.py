""""New segment from outcome": a saved segment of a broadcast's recipients with one outcome (read, replied,
not_replied, failed …), for retargeting. It is an ordinary segment whose condition names the outcome
(segment/definition.py, field "broadcast"), so it stays live: someone who replies later joins a "replied" segment.
"""

from __future__ import annotations

from typing import Any

from softdukan.auth.subject import Subject
from softdukan.broadcast.service import broadcast_service
from softdukan.broadcast.states import DRAFT
from softdukan.platform.errors import Conflict, Invalid
from softdukan.platform.uow import UnitOfWork
from softdukan.segment.definition import OUTCOMES
from softdukan.segment.models import Segment
from softdukan.segment.service import segment_service


def outcome_definition(broadcast_id: int, outcome: str) -> dict[str, Any]:
    return {"all": [{"field": "broadcast", "op": "outcome", "value": {"broadcast_id": broadcast_id,
                                                                      "outcome": outcome}}]}


async def segment_from_outcome(uow: UnitOfWork, subject: Subject, broadcast_id: int, *, outcome: str, name: str
                               ) -> Segment:
    """404 for another organization's broadcast, 409 for a draft (nobody has an outcome yet), 409 for a taken name."""
    subject.require("segments:write")
    broadcast = await broadcast_service.get(uow, subject, broadcast_id)
    if outcome not in OUTCOMES:
        raise Invalid("invalid_outcome", f"Choose an outcome: {', '.join(OUTCOMES)}.", {"outcome": "Unknown."})
    if broadcast.status == DRAFT:
        raise Conflict("broadcast_not_launched", "This broadcast has not been sent yet, so nobody has an outcome.")
    return await segment_service.create(uow, subject, name=name, definition=outcome_definition(broadcast.id, outcome))
