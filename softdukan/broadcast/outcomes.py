"""What a broadcast does with each answer from WhatsApp, by error code (reference §6.2).

- **Again soon** (the request was refused or never left; nothing was sent): throughput 130429, pair rate 131056,
  Meta's hiccups (1, 2, 131000, 131016, 133004, 131057) and connection failures → the recipient goes back to
  `pending` with backoff, up to MAX_RETRIES, then fails.
- **Another day**: 131049 (Meta held a marketing message back; wait ≥24 h) → due again 24 hours later, up to the
  broadcast's `retry_days_131049`, then fails.
- **Stop the broadcast**: the template paused (132015), disabled (132016) or gone (132001), or the account can't
  send at all (payment 131042, not registered 133010, token 0/190, permissions 10/200, locked 131031, blocked
  368) → the broadcast pauses with a notice; the recipient goes back to `pending` (nothing was sent).
- **Messaging limit** (the code the portfolio's limit answers with; Meta's is undocumented, 131064 nearest) → the
  recipient waits for the next 24-hour window.
- **Everything else** is the recipient's own problem (131026 not on WhatsApp, 131047, 131050 stopped marketing,
  1320xx parameter errors, 131051 …) → failed, with Meta's title and details.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from softdukan.broadcast import states as s

RETRY_CODES = frozenset({130429, 131056, 1, 2, 4, 131000, 131016, 133004, 131057, 80007})
NEXT_DAY_CODES = frozenset({131049})
TEMPLATE_STOP = {132015: s.TEMPLATE_PAUSED, 132016: s.TEMPLATE_DISABLED, 132001: s.TEMPLATE_GONE}
ACCOUNT_STOP = frozenset({131042, 133010, 0, 190, 10, 131031, 368, 131005, 130497, 131037, 131063}
                         | set(range(200, 300)))
LIMIT_CODES = frozenset({131064})
MAX_RETRIES = 8
NEXT_DAY = timedelta(hours=24)
LIMIT_WAIT = timedelta(hours=1)

Action = Literal["retry", "next_day", "pause", "wait_limit", "fail"]


@dataclass(frozen=True)
class Decision:
    action: Action
    pause_reason: str | None = None


def decide(code: int | None, *, never_sent: bool) -> Decision:
    """`never_sent`: the answer proves Meta did not accept the message (a sync error, a refused connection)."""
    if code in TEMPLATE_STOP:
        return Decision("pause", TEMPLATE_STOP[code])
    if code in ACCOUNT_STOP:
        return Decision("pause", s.NUMBER_DISCONNECTED if code == 133010 else "account_blocked")
    if code in RETRY_CODES or (code is None and never_sent):
        return Decision("retry")
    if code in NEXT_DAY_CODES:
        return Decision("next_day")
    if code in LIMIT_CODES:
        return Decision("wait_limit")
    return Decision("fail")


def retry_delay(attempts: int, code: int | None) -> timedelta:
    """Backoff for a retry: pair rate follows Meta's 4^x seconds, the rest doubles from 1 s, capped at 10 min."""
    if code == 131056:
        return timedelta(seconds=min(600, 4 ** max(0, attempts - 1) * 6))
    return timedelta(seconds=min(600.0, 2.0 ** max(0, attempts - 1)))


PAUSE_NOTICES = {
    s.TEMPLATE_PAUSED: "WhatsApp paused the template {template} because of low quality ratings. The broadcast is "
                       "paused; resume it when the template is active again, or cancel it.",
    s.TEMPLATE_DISABLED: "WhatsApp disabled the template {template} (paused too many times). The broadcast can't "
                         "continue with it: cancel it and send the rest with another template.",
    s.TEMPLATE_GONE: "The template {template} is no longer approved on WhatsApp (deleted or not approved in this "
                     "language). The broadcast is paused.",
    s.TEMPLATE_RECATEGORIZED: "WhatsApp re-categorized the template {template} from {old} to {new}, which changes "
                              "its price and who may receive it. The broadcast is paused: check the estimate and "
                              "resume it, or cancel it.",
    s.NUMBER_DISCONNECTED: "The number is not registered on WhatsApp any more, so nothing can be sent. The "
                           "broadcast is paused; reconnect the number and resume it.",
    "account_blocked": "WhatsApp refused to send from this account ({detail}). The broadcast is paused; fix the "
                       "account and resume it.",
    s.BY_USER: "Paused by {who}.",
    s.INSUFFICIENT_CREDITS: "WhatsApp credits ran out: {detail} The broadcast is paused and resumes by itself as "
                            "soon as you add credits (Settings → WhatsApp credits).",
}
