"""The error policy by code (reference §6.2) and the pace per throughput level (§7.1)."""

from __future__ import annotations

import pytest

from softdukan.broadcast.outcomes import decide, retry_delay
from softdukan.number.throughput import budget


@pytest.mark.parametrize(("code", "action", "reason"), [
    (130429, "retry", None), (131056, "retry", None), (131000, "retry", None), (131057, "retry", None),
    (131049, "next_day", None),
    (131026, "fail", None), (131047, "fail", None), (131050, "fail", None), (131051, "fail", None),
    (132000, "fail", None), (132005, "fail", None), (132012, "fail", None), (132008, "fail", None),
    (132015, "pause", "template_paused"), (132016, "pause", "template_disabled"),
    (132001, "pause", "template_unavailable"), (131042, "pause", "account_blocked"),
    (133010, "pause", "number_disconnected"), (131064, "wait_limit", None),
])
def test_each_code_has_its_action(code: int, action: str, reason: str | None) -> None:
    decision = decide(code, never_sent=True)
    assert (decision.action, decision.pause_reason) == (action, reason)


def test_a_refused_connection_is_retried_but_an_unknown_code_after_acceptance_fails() -> None:
    assert decide(None, never_sent=True).action == "retry"
    assert decide(None, never_sent=False).action == "fail"


def test_pair_rate_backs_off_as_meta_says_and_the_rest_doubles() -> None:
    assert [retry_delay(n, 131056).total_seconds() for n in (1, 2, 3)] == [6, 24, 96]
    assert [retry_delay(n, 130429).total_seconds() for n in (1, 2, 3, 20)] == [1, 2, 4, 600]


@pytest.mark.parametrize(("mps", "rate"), [(80, 78.4), (1000, 980.0), (20, 19.6)])
def test_the_pace_is_just_under_each_throughput_level_with_a_tenth_of_a_second_burst(mps: int, rate: float
                                                                                      ) -> None:
    limit, period = budget(mps)
    assert limit / period == pytest.approx(rate)
    assert period == pytest.approx(0.1, rel=0.2)
