"""What this sandbox process answered to sends (`/messages` and `/marketing_messages`): accepted messages and
refusals by error code, since start or the last reset. Read on the control API (`GET /_sandbox/counters`), e.g.
by the broadcast benchmark to count 130429 (throughput) refusals: the sandbox is the judge of its own limits.

In memory, per process (the standalone sandbox is one process)."""

from __future__ import annotations

from typing import Any

_accepted = 0
_refused: dict[int, int] = {}
_batches = [0, 0]  # group commits of the fast path, sends written by them


def accepted(count: int = 1) -> None:
    global _accepted
    _accepted += count


def refused(code: int) -> None:
    _refused[code] = _refused.get(code, 0) + 1


def batch(size: int) -> None:
    _batches[0] += 1
    _batches[1] += size


def is_send(path: str) -> bool:
    return path.endswith("/messages") or path.endswith("/marketing_messages")


def snapshot() -> dict[str, Any]:
    return {"accepted": _accepted, "refused": {str(code): n for code, n in sorted(_refused.items())},
            "fast_path": {"batches": _batches[0], "sends": _batches[1]}}


def reset() -> None:
    global _accepted
    _accepted = 0
    _refused.clear()
    _batches[:] = [0, 0]
