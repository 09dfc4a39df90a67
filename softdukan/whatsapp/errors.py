"""Graph API (WhatsApp Cloud API) errors: parse Meta's error object and map its code to a typed exception.

Facts come from the project reference ``/work/shared/reference/whatsapp-cloud-api.md`` sections 6.1–6.3 and 7.
Nothing here raises on odd input: an unreadable payload becomes an ``UnknownGraphError`` (or a ``ServerError`` /
``RateLimitError`` when the HTTP status says so). Unknown values map to unknown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

__all__ = [
    "CODES",
    "AccountError",
    "AuthError",
    "CodeInfo",
    "FlowError",
    "GraphError",
    "GraphErrorBody",
    "InvalidParameterError",
    "MediaError",
    "PairRateLimitError",
    "PermissionDeniedError",
    "RateLimitError",
    "RecipientError",
    "ServerError",
    "TemplateError",
    "UnknownGraphError",
    "error_from_response",
    "error_from_webhook",
    "pair_rate_backoff_seconds",
]

_MESSAGE_CODE = re.compile(r"^\(#(\d{1,9})\)")


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _int_or_none(value: Any) -> int | None:
    """An int from an int or a string of digits; None for anything else (bools included)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


@dataclass(frozen=True, slots=True)
class GraphErrorBody:
    """Meta's error object, from a sync response (``{"error": {...}}``) or a webhook ``errors[]`` item.

    ``malformed`` is True when no usable code could be read; ``code`` is then 0 and ``message`` says what was wrong.
    Code 0 is also a real Meta code (AuthException), so callers must look at ``malformed`` before trusting it.
    """

    code: int = 0
    message: str = ""
    type: str | None = None
    error_subcode: int | None = None
    error_user_title: str | None = None
    error_user_msg: str | None = None
    details: str | None = None
    fbtrace_id: str | None = None
    title: str | None = None  # webhook error objects carry a title
    href: str | None = None
    is_transient: bool | None = None
    malformed: bool = False

    @classmethod
    def parse(cls, payload: Any) -> GraphErrorBody:
        """Parse a sync HTTP error response body (``{"error": {...}}``). Never raises."""
        if not isinstance(payload, dict):
            return cls(message=f"error payload is not an object: {type(payload).__name__}", malformed=True)
        if "error" not in payload:
            return cls(message="error payload has no 'error' key", malformed=True)
        error = payload["error"]
        if not isinstance(error, dict):
            return cls(message=f"'error' is not an object: {type(error).__name__}", malformed=True)
        return cls.from_error_object(error)

    @classmethod
    def from_error_object(cls, error: Any) -> GraphErrorBody:
        """Parse the inner error object (sync ``error`` value or webhook ``errors[]`` item). Never raises."""
        if not isinstance(error, dict):
            return cls(message=f"error object is not an object: {type(error).__name__}", malformed=True)
        message = _str_or_none(error.get("message")) or ""
        code = _int_or_none(error.get("code"))
        if code is None and (match := _MESSAGE_CODE.match(message)):
            code = int(match.group(1))  # 6.1: message has the form "(#<code>) <title>"
        raw_data = error.get("error_data")
        if isinstance(raw_data, dict):
            details = _str_or_none(raw_data.get("details"))
        else:
            details = _str_or_none(raw_data)  # 6.1: error_data can be a string
        transient = error.get("is_transient")
        fields: dict[str, Any] = {
            "type": _str_or_none(error.get("type")),
            "error_subcode": _int_or_none(error.get("error_subcode")),
            "error_user_title": _str_or_none(error.get("error_user_title")),
            "error_user_msg": _str_or_none(error.get("error_user_msg")),
            "details": details,
            "fbtrace_id": _str_or_none(error.get("fbtrace_id")),
            "title": _str_or_none(error.get("title")),
            "href": _str_or_none(error.get("href")),
            "is_transient": transient if isinstance(transient, bool) else None,
        }
        if code is None:
            raw_code = error.get("code", "<missing>")
            note = f"error object has no usable code: {raw_code!r}"[:200]
            return cls(code=0, message=f"{note}; {message}" if message else note, malformed=True, **fields)
        return cls(code=code, message=message, **fields)


class GraphError(Exception):
    """A Graph API error. ``kind`` is a stable snake_case name; ``retryable`` says whether to resend automatically."""

    def __init__(
        self,
        http_status: int | None,
        body: GraphErrorBody,
        *,
        kind: str = "unknown",
        retryable: bool = False,
        retry_after_seconds: float | None = None,
        meaning: str = "",
    ) -> None:
        self.http_status = http_status
        self.body = body
        self.kind = kind
        self.retryable = retryable
        self.retry_after_seconds = retry_after_seconds
        self.meaning = meaning
        status = f"HTTP {http_status}" if http_status is not None else "webhook"
        super().__init__(f"{kind} (code {body.code}, {status}): {body.message or meaning}")

    @property
    def code(self) -> int:
        return self.body.code

    def __reduce__(self) -> tuple[Any, ...]:  # keep keyword-only attributes through pickling (task queues)
        return (
            _rebuild,
            (
                type(self),
                self.http_status,
                self.body,
                self.kind,
                self.retryable,
                self.retry_after_seconds,
                self.meaning,
            ),
        )


def _rebuild(
    cls: type[GraphError],
    http_status: int | None,
    body: GraphErrorBody,
    kind: str,
    retryable: bool,
    retry_after_seconds: float | None,
    meaning: str,
) -> GraphError:
    return cls(
        http_status, body, kind=kind, retryable=retryable, retry_after_seconds=retry_after_seconds, meaning=meaning
    )


class AuthError(GraphError):
    """The access token is invalid or expired."""


class PermissionDeniedError(GraphError):
    """The app or token lacks a permission or capability (not Python's built-in PermissionError)."""


class RateLimitError(GraphError):
    """A rate or volume limit was hit."""


class PairRateLimitError(RateLimitError):
    """Too many messages to the same recipient too fast (131056)."""

    def backoff_seconds(self, attempt: int) -> float:
        return pair_rate_backoff_seconds(attempt)


class InvalidParameterError(GraphError):
    """The request is malformed or a parameter value is not accepted."""


class TemplateError(GraphError):
    """A message template is missing, paused, disabled, or filled or defined wrongly."""


class RecipientError(GraphError):
    """The recipient cannot or will not receive this message."""


class MediaError(GraphError):
    """Media could not be uploaded or downloaded."""


class FlowError(GraphError):
    """A WhatsApp Flow is blocked, throttled, or a Flow management call failed."""


class AccountError(GraphError):
    """The business account or phone number is in a state that blocks the call (policy, payment, registration)."""


class ServerError(GraphError):
    """Meta's side failed or is temporarily unavailable."""


class UnknownGraphError(GraphError):
    """A code we do not know, or a payload we could not read."""


def pair_rate_backoff_seconds(attempt: int) -> float:
    """Reference 7.2: after a pair-rate failure wait 4^X seconds, X = 0, 1, 2, …"""
    return float(4 ** max(0, attempt))


@dataclass(frozen=True, slots=True)
class CodeInfo:
    kind: str
    error_class: type[GraphError]
    retryable: bool
    meaning: str  # one sentence for a business owner
    retry_after_seconds: float | None = None


def _info(
    kind: str, cls: type[GraphError], retryable: bool, meaning: str, retry_after: float | None = None
) -> CodeInfo:
    return CodeInfo(kind, cls, retryable, meaning, retry_after)


_HOUR = 3600.0

CODES: dict[int, CodeInfo] = {
    # 6.2 — general Graph API codes
    0: _info(
        "auth_invalid",
        AuthError,
        False,
        "WhatsApp could not authenticate the app; the access token was expired or invalidated.",
    ),
    1: _info(
        "api_unknown", InvalidParameterError, False, "Meta reported an invalid request or a possible server error."
    ),
    2: _info("service_unavailable", ServerError, True, "The WhatsApp API is temporarily down or overloaded."),
    3: _info(
        "api_method_not_allowed",
        PermissionDeniedError,
        False,
        "The app lacks the capability or permission for this call.",
    ),
    4: _info("app_rate_limited", RateLimitError, True, "The app made too many API calls and hit its rate limit."),
    10: _info("permission_denied", PermissionDeniedError, False, "Permission for this action was denied."),
    33: _info("phone_number_deleted", AccountError, False, "The business phone number used has been deleted."),
    100: _info("invalid_parameter", InvalidParameterError, False, "A request parameter is unsupported or misspelled."),
    190: _info("auth_expired", AuthError, False, "The access token has expired; reconnect the WhatsApp account."),
    **{
        c: _info("api_permission", PermissionDeniedError, False, "The app is missing an API permission for this call.")
        for c in range(200, 300)
    },
    368: _info("policy_blocked", AccountError, False, "The account is temporarily blocked for policy violations."),
    80007: _info("waba_rate_limited", RateLimitError, True, "The WhatsApp Business account hit its API rate limit."),
    80008: _info(
        "waba_call_rate_limited", RateLimitError, True, "Too many calls were made to this WhatsApp Business account."
    ),
    130429: _info("rate_limited", RateLimitError, True, "The phone number's message throughput limit was reached."),
    130472: _info(
        "recipient_in_experiment",
        RecipientError,
        False,
        "The customer's number is part of a Meta marketing-message experiment.",
    ),
    130497: _info(
        "country_restricted", AccountError, False, "The business account may not message users in this country."
    ),
    131000: _info("internal_error", ServerError, True, "Something went wrong on WhatsApp's side."),
    131005: _info("access_denied", PermissionDeniedError, False, "Access to this resource was denied."),
    131008: _info(
        "required_parameter_missing", InvalidParameterError, False, "A required parameter is missing from the request."
    ),
    131009: _info(
        "invalid_parameter_value", InvalidParameterError, False, "A parameter value in the request is not valid."
    ),
    131016: _info("service_unavailable_131016", ServerError, True, "The WhatsApp service is temporarily unavailable."),
    131021: _info("recipient_is_sender", RecipientError, False, "The recipient is the same number as the sender."),
    131026: _info(
        "recipient_not_on_whatsapp",
        RecipientError,
        False,
        "The message could not be delivered: the number is not on WhatsApp or its app is too old.",
    ),
    131030: _info(
        "recipient_not_allowed", RecipientError, False, "The recipient is not in the test number's allowed list."
    ),
    131031: _info(
        "account_locked",
        AccountError,
        False,
        "The business account is locked for policy reasons or wrong two-step PIN data.",
    ),
    131037: _info(
        "display_name_not_approved", AccountError, False, "The number's display name must be approved before sending."
    ),
    131042: _info(
        "payment_issue",
        AccountError,
        False,
        "There is a billing problem with the business account, such as no valid payment method.",
    ),
    131045: _info(
        "incorrect_certificate",
        AccountError,
        False,
        "The phone number's certificate is incorrect and it must be registered again.",
    ),
    131047: _info(
        "re_engagement_window_closed",
        RecipientError,
        False,
        "More than 24 hours have passed since the customer last wrote, so only a template can be sent.",
    ),
    131048: _info(
        "spam_rate_limited",
        RateLimitError,
        False,
        "Too many of the account's messages were blocked or flagged as spam.",
    ),
    131049: _info(
        "ecosystem_engagement_limited",
        RecipientError,
        False,
        "Meta chose not to deliver this marketing message to protect engagement; wait at least 24 hours.",
        24 * _HOUR,
    ),
    131050: _info(
        "recipient_stopped_marketing",
        RecipientError,
        False,
        "The customer has stopped marketing messages from this business.",
    ),
    131051: _info("unsupported_message_type", InvalidParameterError, False, "This message type is not supported."),
    131052: _info("media_download_failed", MediaError, False, "Media sent by the customer could not be downloaded."),
    131053: _info(
        "media_upload_failed",
        MediaError,
        False,
        "The media could not be uploaded, for example because its file type is unsupported.",
    ),
    131055: _info(
        "mm_lite_method_not_allowed",
        InvalidParameterError,
        False,
        "Only marketing templates can be sent through Marketing Messages Lite.",
    ),
    131056: _info(
        "pair_rate_limited",
        PairRateLimitError,
        True,
        "Too many messages were sent to the same customer too quickly.",
        pair_rate_backoff_seconds(0),
    ),
    131057: _info(
        "account_maintenance",
        ServerError,
        True,
        "The business account is in maintenance mode, for example during a throughput upgrade.",
        60.0,
    ),
    131060: _info(
        "companion_device_unsupported",
        RecipientError,
        False,
        "The customer's companion device is not supported for this coexistence number.",
    ),
    131062: _info(
        "bsuid_recipient_unsupported",
        RecipientError,
        False,
        "Sending to this kind of recipient identifier (BSUID) is not supported.",
    ),
    131063: _info(
        "cloud_api_marketing_disabled",
        AccountError,
        False,
        "Marketing templates are disabled for this account on the Cloud API.",
    ),
    131064: _info(
        "template_classification_limited",
        AccountError,
        False,
        "The messaging limit was hit because of template-classification violations.",
    ),
    132000: _info(
        "template_param_count_mismatch",
        TemplateError,
        False,
        "The number of template parameters does not match the template.",
    ),
    132001: _info(
        "template_not_found", TemplateError, False, "The template does not exist in this language or is not approved."
    ),
    132005: _info(
        "template_text_too_long",
        TemplateError,
        False,
        "The template text is too long once the parameters are filled in.",
    ),
    132007: _info(
        "template_format_policy_violated",
        TemplateError,
        False,
        "The template content breaks WhatsApp's formatting-character policy.",
    ),
    132008: _info(
        "template_param_invalid",
        TemplateError,
        False,
        "A template parameter value is invalid or formatted incorrectly.",
    ),
    132012: _info(
        "template_param_format_mismatch",
        TemplateError,
        False,
        "A template parameter does not have the format the template expects.",
    ),
    132015: _info("template_paused", TemplateError, False, "The template is paused because of low quality."),
    132016: _info(
        "template_disabled", TemplateError, False, "The template is disabled because it was paused too many times."
    ),
    132068: _info("flow_blocked", FlowError, False, "The WhatsApp Flow is blocked."),
    132069: _info("flow_throttled", FlowError, True, "The WhatsApp Flow is throttled, so sending it must wait."),
    133000: _info(
        "incomplete_deregistration",
        AccountError,
        False,
        "A previous deregistration of the number did not finish; deregister it again.",
    ),
    133004: _info("server_unavailable", ServerError, True, "The server is temporarily unavailable."),
    133005: _info("two_step_pin_mismatch", AccountError, False, "The two-step verification PIN is incorrect."),
    133006: _info(
        "reverification_required",
        AccountError,
        False,
        "The phone number must be verified again before it can be registered.",
    ),
    133008: _info("too_many_pin_guesses", AccountError, False, "Too many two-step verification PIN guesses were made."),
    133009: _info("pin_guessed_too_fast", AccountError, False, "Two-step verification PIN guesses were made too fast."),
    133010: _info(
        "phone_number_not_registered", AccountError, False, "The phone number is not registered with the Cloud API."
    ),
    133015: _info(
        "number_recently_deleted",
        AccountError,
        True,
        "The number was deleted recently; wait 5 minutes before registering it.",
        300.0,
    ),
    133016: _info(
        "registration_rate_limited",
        RateLimitError,
        False,
        "The number was registered or deregistered too often (10 times in 72 hours).",
    ),
    134011: _info(
        "payments_tos_not_accepted",
        AccountError,
        False,
        "The WhatsApp Payments terms of service have not been accepted.",
    ),
    134100: _info(
        "mm_lite_marketing_only",
        InvalidParameterError,
        False,
        "Marketing Messages Lite accepts only marketing messages.",
    ),
    134101: _info(
        "mm_lite_template_syncing", TemplateError, True, "The template is still syncing to Marketing Messages Lite."
    ),
    134102: _info(
        "mm_lite_template_unavailable",
        TemplateError,
        True,
        "The template is not available for Marketing Messages Lite right now.",
    ),
    135000: _info(
        "generic_user_error", InvalidParameterError, False, "The request failed because of a generic user error."
    ),
    137000: _info(
        "recipient_identity_mismatch",
        RecipientError,
        False,
        "The recipient's identity key hash does not match, so the message was not sent.",
    ),
    139000: _info("flow_integrity_blocked", FlowError, False, "The Flow was blocked by an integrity check."),
    139001: _info("flow_update_failed", FlowError, False, "The Flow could not be updated."),
    139002: _info("flow_publish_failed", FlowError, False, "The Flow could not be published."),
    139003: _info("flow_deprecate_failed", FlowError, False, "The Flow could not be deprecated."),
    139004: _info("flow_delete_failed", FlowError, False, "The Flow could not be deleted."),
    2046: _info(
        "order_status_invalid_transition",
        InvalidParameterError,
        False,
        "The order cannot move to this status from its current one.",
    ),
    2047: _info("order_paid_cannot_cancel", InvalidParameterError, False, "A paid order cannot be cancelled."),
    # 6.3 — template creation
    2388040: _info("template_field_too_long", TemplateError, False, "A template field exceeds its character limit."),
    2388047: _info("template_header_format_invalid", TemplateError, False, "The template header format is incorrect."),
    2388072: _info("template_body_format_invalid", TemplateError, False, "The template body format is incorrect."),
    2388073: _info("template_footer_format_invalid", TemplateError, False, "The template footer format is incorrect."),
    2388293: _info(
        "template_too_many_variables", TemplateError, False, "The template has too many variables for its text length."
    ),
    2388299: _info(
        "template_variable_at_edge", TemplateError, False, "A template may not start or end with a variable."
    ),
    2388019: _info("template_count_limit", TemplateError, False, "The account has reached its template count limit."),
    # 6.3 — phone migration
    2388001: _info(
        "migration_ownership_not_verified",
        AccountError,
        False,
        "Number ownership is not verified, or two-step verification is still on.",
    ),
    2388012: _info("number_already_in_account", AccountError, False, "The phone number is already in your account."),
    2388091: _info(
        "migration_request_code_not_eligible",
        AccountError,
        False,
        "The number cannot request a code because it is not being migrated.",
    ),
    2388093: _info(
        "migration_verify_code_not_eligible",
        AccountError,
        False,
        "The number cannot verify a code because it is not being migrated.",
    ),
    2388103: _info(
        "migration_not_possible",
        AccountError,
        False,
        "The number cannot be migrated, for example because the destination account is not set up.",
    ),
    2494100: _info("number_in_maintenance", AccountError, True, "The phone number is in maintenance mode."),
    # 6.3 — coexistence sync
    2593107: _info(
        "coexistence_sync_repeated", AccountError, False, "The coexistence sync was requested more than once."
    ),
    2593108: _info(
        "coexistence_sync_too_late",
        AccountError,
        False,
        "The coexistence sync was requested more than 24 hours after onboarding.",
    ),
    2593109: _info("coexistence_history_declined", AccountError, False, "The customer declined to share chat history."),
}

# 6.3 family codes that can arrive as error_subcode under a generic code (e.g. code 200002 + subcode 2388109).
_SUBCODE_FAMILIES = frozenset(c for c in CODES if c >= 2_000_000)


def _lookup(body: GraphErrorBody) -> CodeInfo | None:
    if body.malformed:
        return None
    if body.error_subcode in _SUBCODE_FAMILIES:
        return CODES[body.error_subcode]  # type: ignore[index]
    return CODES.get(body.code)


def _build(info: CodeInfo, http_status: int | None, body: GraphErrorBody) -> GraphError:
    return info.error_class(
        http_status,
        body,
        kind=info.kind,
        retryable=info.retryable,
        retry_after_seconds=info.retry_after_seconds,
        meaning=info.meaning,
    )


def error_from_response(http_status: int, payload: Any) -> GraphError:
    """The exception for a non-2xx Graph API response. Never raises."""
    try:
        body = GraphErrorBody.parse(payload)
        info = _lookup(body)
        if info is not None:
            return _build(info, http_status, body)
        status = http_status if isinstance(http_status, int) and not isinstance(http_status, bool) else 0
        if 500 <= status <= 599:
            return ServerError(
                status, body, kind="server_error", retryable=True, meaning="WhatsApp's server returned an error."
            )
        if status == 429:
            return RateLimitError(
                status, body, kind="http_rate_limited", retryable=True, meaning="Too many requests were sent."
            )
        return UnknownGraphError(status, body, kind="unknown", retryable=False, meaning="An unrecognised error.")
    except Exception as exc:  # defensive: mapping must never crash the caller
        return UnknownGraphError(0, GraphErrorBody(message=f"error mapping failed: {exc!r}"[:200], malformed=True))


def error_from_webhook(error_obj: Any) -> GraphError:
    """The exception for one item of a webhook ``errors`` array (e.g. a failed status). Never raises."""
    try:
        body = GraphErrorBody.from_error_object(error_obj)
        info = _lookup(body)
        if info is not None:
            return _build(info, None, body)
        return UnknownGraphError(None, body, kind="unknown", retryable=False, meaning="An unrecognised error.")
    except Exception as exc:  # defensive
        return UnknownGraphError(None, GraphErrorBody(message=f"error mapping failed: {exc!r}"[:200], malformed=True))
