"""What a refusal or an outage of Meta's Graph API becomes for the dashboard and /v1: a clear domain error.

A Graph error that Meta returned on purpose (bad code, wrong PIN, number already taken, …) is a 422 that
names Meta's code and message; Meta being down or unreachable is a 502. Neither is ever a 500.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import structlog

from softdukan.platform.errors import DomainError, Invalid
from softdukan.whatsapp.errors import GraphError, ServerError

log = structlog.get_logger(__name__)


class MetaRejected(DomainError):
    """Meta refused the call; `details` carries its code, kind and message."""

    status = 422
    default_code = "whatsapp_rejected"


class MetaUnavailable(DomainError):
    """Meta (or the sandbox standing in for it) could not be reached or failed on its side."""

    status = 502
    default_code = "whatsapp_unavailable"


def _details(error: GraphError) -> dict[str, Any]:
    body = error.body
    return {"meta_code": body.code, "meta_subcode": body.error_subcode, "meta_kind": error.kind,
            "meta_message": body.message,
            "meta_details": body.details, "fbtrace_id": body.fbtrace_id}


def domain_error_for(error: Exception, action: str) -> DomainError | None:
    """The domain error for an exception raised by a call to Meta while doing `action` (e.g. "verify the code");
    None when the exception is not about Meta at all (a bug: let it surface)."""
    if isinstance(error, GraphError) and not _is_transport(error):
        body = error.body
        said = body.error_user_msg or body.details or body.message or error.meaning
        if isinstance(error, ServerError) or error.kind == "unexpected_response":
            return MetaUnavailable("whatsapp_unavailable",
                                   f"WhatsApp could not {action} right now (Meta error {body.code}: {said}). "
                                   "Try again in a moment.", _details(error))
        meaning = f"{error.meaning} " if error.meaning else ""
        code = f"whatsapp_{error.kind}" if error.kind and error.kind != "unknown" else "whatsapp_rejected"
        number = f"{body.code}/{body.error_subcode}" if body.error_subcode else str(body.code)
        return MetaRejected(code, f"WhatsApp refused to {action}: {meaning}(Meta error {number}: {said})",
                            _details(error))
    if isinstance(error, ValueError):  # the client refused an argument before sending anything
        return Invalid("invalid_input", f"Can't {action}: {error}")
    if _is_transport(error):
        return MetaUnavailable("whatsapp_unavailable", f"WhatsApp could not be reached to {action}. "
                               "Try again in a moment.", {"reason": type(error).__name__})
    return None


def _is_transport(error: Exception) -> bool:
    """Network failures and timeouts, whatever class the client wraps them in."""
    if isinstance(error, (httpx.HTTPError, OSError, TimeoutError)):
        return True
    name = type(error).__name__.lower()
    if "transport" in name or "timeout" in name or "connection" in name:
        return True
    return isinstance(error, GraphError) and error.body.malformed and not error.http_status


@asynccontextmanager
async def meta_call(action: str) -> AsyncIterator[None]:
    """`async with meta_call("register the number"):` — Graph and network failures become domain errors."""
    try:
        yield
    except DomainError:
        raise
    except Exception as exc:
        translated = domain_error_for(exc, action)
        if translated is None:
            raise
        log.info("meta_call_failed", action=action, code=translated.code, error=str(exc)[:300])
        raise translated from exc
