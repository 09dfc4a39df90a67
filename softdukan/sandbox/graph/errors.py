"""Meta's error bodies: the sync Graph error object (reference §6.1) and the webhook error object.

`GraphFault` is raised anywhere in the sandbox; the handler installed by `softdukan.sandbox.mount` renders
it exactly as Graph does: `{"error": {"message": "(#code) title", "type": "OAuthException", "code",
"error_data": {"messaging_product": "whatsapp", "details"}, "fbtrace_id"}}` with the HTTP status of §6.2.
"""

from __future__ import annotations

import secrets
import string
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

# code → (title, HTTP status), reference §6.2 (titles as Meta's error-code page words them)
CODES: dict[int, tuple[str, int]] = {
    0: ("AuthException", 401),
    1: ("API Unknown", 400),
    2: ("API Service", 503),
    3: ("API Method", 500),
    4: ("API Too Many Calls", 400),
    10: ("Permission Denied", 403),
    33: ("Parameter value is not valid", 400),
    100: ("Invalid parameter", 400),
    190: ("Access token has expired", 401),
    200: ("Permissions error", 403),
    368: ("Temporarily blocked for policies violations", 403),
    80007: ("Rate limit issues", 400),
    130429: ("Rate limit hit", 400),
    130472: ("User's number is part of an experiment", 400),
    131000: ("Something went wrong", 500),
    131005: ("Access denied", 403),
    131008: ("Required parameter is missing", 400),
    131009: ("Parameter value is not valid", 400),
    131016: ("Service unavailable", 500),
    131021: ("Recipient cannot be sender", 400),
    131026: ("Message undeliverable", 400),
    131030: ("Recipient phone number not in allowed list", 400),
    131031: ("Account has been locked", 403),
    131037: ("WhatsApp provided number needs display name approval before message can be sent", 400),
    131042: ("Business eligibility payment issue", 400),
    131045: ("Incorrect certificate", 500),
    131047: ("Re-engagement message", 400),
    131048: ("Spam rate limit hit", 400),
    131049: ("This message was not delivered to maintain healthy ecosystem engagement.", 400),
    131050: ("User has stopped marketing messages", 400),
    131051: ("Unsupported message type", 400),
    131052: ("Media download error", 400),
    131053: ("Media upload error", 400),
    131055: ("Method not allowed", 400),
    131056: ("(Business Account, Consumer Account) pair rate limit hit", 400),
    131057: ("Account in maintenance mode", 500),
    131064: ("Messaging limit reached", 400),
    132000: ("Number of parameters does not match the expected number of params", 400),
    132001: ("Template name does not exist in the translation", 404),
    132005: ("Translated text too long", 400),
    132007: ("Template Format Character Policy Violated", 400),
    132008: ("Template parameter value is not valid", 400),
    132012: ("Parameter format does not match format in the created template", 400),
    132015: ("Template is Paused", 400),
    132016: ("Template is Disabled", 400),
    132068: ("Flow is in blocked state", 400),
    132069: ("Flow is in throttled state", 400),
    133000: ("Incomplete deregistration", 500),
    133004: ("Server temporarily unavailable", 503),
    133005: ("Two step verification PIN Mismatch", 400),
    133006: ("Phone number re-verification needed", 400),
    133008: ("Too Many two step verification PIN Guesses", 400),
    133009: ("Two step verification PIN Guessed Too Fast", 400),
    133010: ("Phone number Not Registered", 400),
    133015: ("Please wait a few minutes before attempting to register this phone number", 400),
    133016: ("Account register deregister rate limit exceeded", 400),
    134011: ("WhatsApp Payments terms of service not accepted", 400),
    134100: ("Only marketing messages are supported", 400),
    134101: ("Template is syncing", 400),
    134102: ("Template is unavailable", 500),
    135000: ("Generic user error", 400),
    136025: ("Verify code error", 400),
    2046: ("Invalid status transition", 400),
    2047: ("Cannot cancel order", 400),
    2200: ("Callback verification failed", 400),
    2500: ("Unknown path components", 400),
}

# webhook `errors[]` details per code, when the caller gives none
DETAILS: dict[int, str] = {
    131026: "Message Undeliverable.",
    131047: "Message failed to send because more than 24 hours have passed since the customer last replied to "
    "this number.",
    131048: "Message failed to send because there are restrictions on how many messages can be sent from this "
    "phone number. This may be because too many previous messages were blocked or flagged as spam.",
    131049: "In order to maintain a healthy ecosystem engagement, the message failed to be delivered.",
    131050: "The recipient has chosen to stop receiving marketing messages on WhatsApp from your business.",
    130472: "Failed to send message because this user's phone number is part of an experiment.",
    131052: "Media file size too big. Max file size we currently support: 100MB. Please communicate with your "
    "customer to send a media file that is smaller than 100MB.",
    131053: "Media upload error.",
    131064: "The business portfolio reached its messaging limit: the number of unique customers it can message "
    "outside a customer service window in a rolling 24 hours.",
}

HREF = "/documentation/business-messaging/whatsapp/support/error-codes"


def title_of(code: int) -> str:
    if 200 <= code < 300:
        return CODES[200][0]
    return CODES.get(code, ("Unknown error", 400))[0]


def status_of(code: int) -> int:
    if 200 <= code < 300:
        return 403
    return CODES.get(code, ("", 400))[1]


def fbtrace_id() -> str:
    alphabet = string.ascii_letters + string.digits + "-_"
    return "A" + "".join(secrets.choice(alphabet) for _ in range(22))


class GraphFault(Exception):
    """A Graph API error answered synchronously. `subcode` is for the 2388xxx template/migration families,
    which Graph reports as code 100 with `error_subcode`."""

    def __init__(
        self,
        code: int,
        details: str = "",
        *,
        status: int | None = None,
        subcode: int | None = None,
        user_title: str | None = None,
        user_msg: str | None = None,
        message: str | None = None,
    ) -> None:
        self.code = code
        self.details = details or title_of(code)
        self.status = status or status_of(code)
        self.subcode = subcode
        self.user_title = user_title
        self.user_msg = user_msg
        self.message = message or f"(#{code}) {title_of(code)}"
        super().__init__(self.message + ": " + self.details)

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {
            "message": self.message,
            "type": "OAuthException",
            "code": self.code,
            "error_data": {"messaging_product": "whatsapp", "details": self.details},
        }
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
            error["is_transient"] = False
        if self.user_title:
            error["error_user_title"] = self.user_title
        if self.user_msg:
            error["error_user_msg"] = self.user_msg
        error["fbtrace_id"] = fbtrace_id()
        return {"error": error}


def missing(field: str) -> GraphFault:
    return GraphFault(131008, f"The parameter {field} is required.")


def invalid(details: str) -> GraphFault:
    return GraphFault(131009, details)


def unknown_object(node_id: str, method: str = "get") -> GraphFault:
    return GraphFault(
        100,
        f"Unsupported {method} request. Object with ID '{node_id}' does not exist, cannot be "
        "loaded due to missing permissions, or does not support this operation.",
        message=f"Unsupported {method} request. Object with ID '{node_id}' does not exist, cannot be "
        "loaded due to missing permissions, or does not support this operation. Please read "
        "the Graph API documentation at https://developers.facebook.com/docs/graph-api",
        subcode=33,
    )


def template_fault(subcode: int, user_title: str, user_msg: str) -> GraphFault:
    """Template creation and migration errors: code 100 with a 2388xxx subcode (reference §6.3)."""
    return GraphFault(100, user_msg, subcode=subcode, user_title=user_title, user_msg=user_msg)


def webhook_error(code: int, details: str | None = None) -> dict[str, Any]:
    """The error object inside status webhooks (`statuses[].errors[]`) and `messages[].errors[]`."""
    title = title_of(code)
    return {
        "code": code,
        "title": title,
        "message": title,
        "error_data": {"details": details or DETAILS.get(code, title)},
        "href": HREF,
    }


async def graph_fault_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, GraphFault)
    from softdukan.sandbox.graph import counters

    if counters.is_send(request.url.path) and "/_sandbox/" not in request.url.path:
        counters.refused(exc.code)
    headers = {"WWW-Authenticate": 'OAuth "Facebook Platform" "invalid_token"'} if exc.status == 401 else None
    return JSONResponse(exc.body(), status_code=exc.status, headers=headers)
