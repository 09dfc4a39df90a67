"""The pace we send at per number (reference §7.1: 80, 1,000 or 20 messages/s).

Meta's bucket allows a full second's burst; ours runs at 98 % of the level with a burst of a tenth of a second, so
requests that bunch up on the way (scheduling, the network) still arrive under Meta's limit and 130429 stays rare.
Single sends and broadcasts share one bucket per number (`wa:throughput:<phone_number_id>`).
"""

from __future__ import annotations

SHARE = 0.98
BURST_SECONDS = 0.1


def budget(mps: int) -> tuple[int, float]:
    """(limit, period) for the GCRA limiter: `limit` units per `period` seconds, burst of `limit`."""
    rate = max(1.0, mps) * SHARE
    limit = max(1, round(rate * BURST_SECONDS))
    return limit, limit / rate
