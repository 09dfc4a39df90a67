"""What other domains do with Razorpay events: a tiny registry of handlers per event type.

```python
@on_razorpay("payment.captured")
async def credit_wallet(uow: UnitOfWork, event: RazorpayEvent) -> None: ...
```

A handler runs inside the processing job's transaction (it never commits) and must be safe to run twice
(the same fact can arrive as `payment.captured` and `order.paid`, and a failed job runs every handler again):
enforce that with unique keys, e.g. `rzp:pay:{id}:captured`. It must ignore events that are not its own
(an order it did not create). Raising makes the job retry; events without handlers are simply marked processed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from softdukan.payments.entities import RazorpayEvent
from softdukan.platform.uow import UnitOfWork

Handler = Callable[[UnitOfWork, RazorpayEvent], Awaitable[None]]
_HANDLERS: dict[str, list[Handler]] = {}


def on_razorpay(event_type: str) -> Callable[[Handler], Handler]:
    """Register `handler` for one event type (`payment.captured`, `order.paid`, `refund.processed`, …)."""

    def register(handler: Handler) -> Handler:
        handlers = _HANDLERS.setdefault(event_type, [])
        if handler not in handlers:  # re-importing a module registers nothing twice
            handlers.append(handler)
        return handler

    return register


def handlers_for(event_type: str) -> list[Handler]:
    return list(_HANDLERS.get(event_type, ()))


def remove_handler(event_type: str, handler: Handler) -> None:
    """Undo `on_razorpay` (tests)."""
    handlers = _HANDLERS.get(event_type, [])
    if handler in handlers:
        handlers.remove(handler)
