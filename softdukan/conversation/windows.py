"""The customer service window (reference §7.8) and the free entry point window (§7.9) of a conversation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from softdukan.conversation.models import Conversation

CSW = timedelta(hours=24)  # from the customer's latest message
FEP_REPLY_WITHIN = timedelta(hours=24)  # after a referral (ad / Page CTA) message, a reply within this opens the FEP
FEP = timedelta(hours=72)  # from that reply


@dataclass(frozen=True)
class WindowState:
    csw_open: bool
    csw_expires_at: datetime | None
    fep_open: bool
    fep_expires_at: datetime | None
    fep_reply_by: datetime | None  # set while a reply would open the FEP window

    @property
    def free_form_allowed(self) -> bool:
        """Non-template messages need an open customer service window; outside it only templates (else 131047)."""
        return self.csw_open

    @property
    def free_of_charge(self) -> bool:
        """Inside an FEP window every message is free, templates included (§8.2)."""
        return self.fep_open


def window_state(conversation: Conversation, now: datetime) -> WindowState:
    csw_open = conversation.csw_expires_at is not None and now < conversation.csw_expires_at
    fep_open = (conversation.fep_expires_at is not None and conversation.fep_opened_at is not None
                and conversation.fep_opened_at <= now < conversation.fep_expires_at)
    reply_by = conversation.fep_reply_by
    eligible = (not fep_open and reply_by is not None and now <= reply_by
                and conversation.fep_referral_at is not None and conversation.fep_referral_at <= now)
    return WindowState(csw_open=csw_open, csw_expires_at=conversation.csw_expires_at, fep_open=fep_open,
                       fep_expires_at=conversation.fep_expires_at if fep_open else None,
                       fep_reply_by=reply_by if eligible else None)


def open_fep_on_reply(conversation: Conversation, replied_at: datetime) -> bool:
    """A business message accepted at `replied_at`: opens the 72-hour FEP window if it answers a referral message
    within 24 hours and no window is open yet. Returns True when it opened one."""
    state = window_state(conversation, replied_at)
    if state.fep_open or state.fep_reply_by is None:
        return False
    conversation.fep_opened_at = replied_at
    conversation.fep_expires_at = replied_at + FEP
    conversation.fep_reply_by = None  # the referral is used up; a new one makes the next reply eligible again
    return True
