"""The fast path of `POST /{phone-number-id}/messages` for the send a broadcast makes: a template message, no
media, no payments, from a connected number whose WABA has no active restriction.

`send.send_message` is the reference; this path decides the same things without a query per check:

- Before the throughput bucket, everything is checked on cached rows (fast_cache.py). Any check that would
  fail, and any send outside the shape above, returns None: the route then runs `send_message`, which answers
  with the exact error in Meta's order (nothing was consumed or written here yet).
- Then the number's throughput bucket (130429) and the pair rate (131056), exactly as `send_message` takes them.
- Then the rest — thread, customer, the asynchronous failure decided at send time, the messaging limit, the free
  entry point window, the stored SandboxMessage and its first status job — is decided and written by a group
  commit with every send queued meanwhile (fast_write.py), and the response goes out after that commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.requests import Request

from softdukan.kit.crypto import token_hash
from softdukan.platform.runtime import Runtime
from softdukan.sandbox.graph import counters
from softdukan.sandbox.graph.access import Caller, bearer
from softdukan.sandbox.graph.errors import GraphFault
from softdukan.sandbox.graph.ids import wamid
from softdukan.sandbox.graph.messages import fast_cache
from softdukan.sandbox.graph.messages.rules import active_restrictions
from softdukan.sandbox.graph.messages.send import (
    accepted_body,
    check_sender,
    take_pair_rate,
    take_throughput,
    throughput_fault,
)
from softdukan.sandbox.graph.messages.template_send import check_parameters
from softdukan.sandbox.graph.messages.validate import Outbound, check_envelope
from softdukan.sandbox.graph.profile import Profile
from softdukan.sandbox.models import SandboxBusiness, SandboxPhoneNumber


@dataclass
class Send:
    """One accepted-so-far send, queued for the group commit."""

    phone: SandboxPhoneNumber
    business: SandboxBusiness
    profile: Profile
    out: Outbound
    category: str
    wamid: str
    now: datetime


async def _checked(runtime: Runtime, request: Request, phone_number_id: str, body: dict[str, Any]
                   ) -> tuple[SandboxPhoneNumber, SandboxBusiness, Profile, Outbound, str] | None:
    """Everything `send_message` checks before the bucket, on cached rows; None when the slow path must answer."""
    raw = bearer(request)
    if not raw or "status" in body or str(body.get("type", "")).lower() != "template":
        return None
    found = await fast_cache.token(runtime, token_hash(runtime.settings.softdukan_secret_key, "sandbox-graph:" + raw))
    if found is None or found[0].revoked:
        return None
    owner = await fast_cache.phone(runtime, phone_number_id)
    if owner is None:
        return None
    phone, waba, business = owner
    if phone.deleted_at is not None or not Caller(*found).may_use_waba(waba) or phone.upgrade_ends_at is not None:
        return None
    now = runtime.clock.now()
    if active_restrictions(waba, int(now.timestamp())):
        return None
    try:
        out = check_envelope(body)
        if out.type != "template" or out.media_ids or out.needs_payments:
            return None
        check_sender(phone, waba, out)
        candidates = await fast_cache.templates(runtime, waba.id, out.content["name"],
                                                out.content["language"]["code"])
        if len(candidates) != 1 or candidates[0].status != "APPROVED":
            return None
        check_parameters(candidates[0], out.content.get("components", []))
    except GraphFault:
        return None
    return phone, business, await fast_cache.profile(runtime), out, candidates[0].category


async def fast_send(runtime: Runtime, request: Request, phone_number_id: str,
                    body: dict[str, Any]) -> dict[str, Any] | None:
    """The response body of an accepted send, a GraphFault for 130429/131056, or None (use `send_message`)."""
    checked = await _checked(runtime, request, phone_number_id, body)
    if checked is None:
        return None
    phone, business, profile, out, category = checked
    if profile.enforce_throughput and not await take_throughput(runtime.limiter, phone, profile):
        raise throughput_fault()
    if profile.enforce_pair_rate:
        await take_pair_rate(runtime.limiter, phone, out.wa_id)
    from softdukan.sandbox.graph.messages.fast_write import submit

    send = Send(phone, business, profile, out, category, wamid(out.wa_id), runtime.clock.now())
    await submit(runtime, send)
    counters.accepted()
    return accepted_body(out, send.wamid)
