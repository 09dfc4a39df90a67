"""Graph API error mapping (reference sections 6.1–6.3, 7.2)."""

from __future__ import annotations

import pickle
import re
from typing import Any

import pytest

from softdukan.whatsapp.errors import (
    CODES,
    AccountError,
    AuthError,
    CodeInfo,
    FlowError,
    GraphError,
    GraphErrorBody,
    InvalidParameterError,
    MediaError,
    PairRateLimitError,
    PermissionDeniedError,
    RateLimitError,
    RecipientError,
    ServerError,
    TemplateError,
    UnknownGraphError,
    error_from_response,
    error_from_webhook,
    pair_rate_backoff_seconds,
)

# Every code listed in the reference's 6.2 table and 6.3 families, typed out independently of CODES.
REFERENCE_CODES: set[int] = {
    0, 1, 2, 3, 4, 10, 33, 100, 190, *range(200, 300), 368, 80007, 80008,
    130429, 130472, 130497, 131000, 131005, 131008, 131009, 131016, 131021, 131026, 131030, 131031, 131037,
    131042, 131045, 131047, 131048, 131049, 131050, 131051, 131052, 131053, 131055, 131056, 131057, 131060,
    131062, 131063, 131064, 132000, 132001, 132005, 132007, 132008, 132012, 132015, 132016, 132068, 132069,
    133000, 133004, 133005, 133006, 133008, 133009, 133010, 133015, 133016, 134011, 134100, 134101, 134102,
    135000, 137000, 139000, 139001, 139002, 139003, 139004, 2046, 2047,
    2388040, 2388047, 2388072, 2388073, 2388293, 2388299, 2388019,
    2388001, 2388012, 2388091, 2388093, 2388103, 2494100,
    2593107, 2593108, 2593109,
}  # fmt: skip

REFERENCE_RATE_LIMIT = {
    "error": {
        "message": "(#130429) Rate limit hit",
        "type": "OAuthException",
        "code": 130429,
        "error_data": {"messaging_product": "whatsapp", "details": "Cloud API message throughput has been reached."},
        "error_subcode": 2494055,
        "fbtrace_id": "Az8or2yhqkZfEZ-_4Qn_Bam",
    }
}

REFERENCE_FAILED_STATUS_ERROR = {
    "code": 131049,
    "title": "This message was not delivered to maintain healthy ecosystem engagement.",
    "message": "This message was not delivered to maintain healthy ecosystem engagement.",
    "error_data": {
        "details": "In order to maintain a healthy ecosystem engagement, the message failed to be delivered."
    },
    "href": "/documentation/business-messaging/whatsapp/support/error-codes",
}

REFERENCE_TEMPLATE_WRAPPER = {
    "message": "HSM Template creation failed",
    "code": 200002,
    "error_subcode": 2388109,
    "error_user_title": "Message Cannot Be Submitted",
    "error_user_msg": "This message template cannot be created.",
    "is_transient": False,
}


def test_codes_cover_exactly_the_reference() -> None:
    assert set(CODES) == REFERENCE_CODES
    assert len(CODES) == 189


@pytest.mark.parametrize("code", sorted(CODES))
def test_every_code_maps_to_its_entry(code: int) -> None:
    info = CODES[code]
    err = error_from_response(400, {"error": {"message": f"(#{code}) x", "type": "OAuthException", "code": code}})
    assert type(err) is info.error_class
    assert err.kind == info.kind
    assert err.retryable is info.retryable
    assert err.retry_after_seconds == info.retry_after_seconds
    assert err.code == code and err.http_status == 400
    # The same code from a webhook errors[] item maps the same way.
    hook = error_from_webhook({"code": code, "title": "t", "message": "m"})
    assert type(hook) is info.error_class and hook.kind == info.kind and hook.http_status is None
    # A 5xx status never overrides a known code's mapping.
    assert type(error_from_response(500, {"error": {"code": code}})) is info.error_class


@pytest.mark.parametrize("code", sorted(CODES))
def test_entry_is_well_formed(code: int) -> None:
    info = CODES[code]
    assert isinstance(info, CodeInfo)
    assert re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", info.kind)
    assert issubclass(info.error_class, GraphError) and info.error_class is not UnknownGraphError
    assert info.meaning.endswith(".") and info.meaning[0].isupper()
    assert info.meaning.count(". ") == 0  # one sentence
    assert info.retry_after_seconds is None or (info.retryable or info.retry_after_seconds >= 3600)


def test_kinds_unique_except_permission_range() -> None:
    kinds = [info.kind for code, info in CODES.items() if not 200 <= code <= 299]
    assert len(kinds) == len(set(kinds))
    assert {CODES[c].kind for c in range(200, 300)} == {"api_permission"}


@pytest.mark.parametrize(
    ("code", "cls", "kind", "retryable"),
    [
        (0, AuthError, "auth_invalid", False),
        (190, AuthError, "auth_expired", False),
        (4, RateLimitError, "app_rate_limited", True),
        (80007, RateLimitError, "waba_rate_limited", True),
        (130429, RateLimitError, "rate_limited", True),
        (131056, PairRateLimitError, "pair_rate_limited", True),
        (131047, RecipientError, "re_engagement_window_closed", False),
        (131026, RecipientError, "recipient_not_on_whatsapp", False),
        (131050, RecipientError, "recipient_stopped_marketing", False),
        (132015, TemplateError, "template_paused", False),
        (132016, TemplateError, "template_disabled", False),
        (132001, TemplateError, "template_not_found", False),
        (100, InvalidParameterError, "invalid_parameter", False),
        (10, PermissionDeniedError, "permission_denied", False),
        (250, PermissionDeniedError, "api_permission", False),
        (131053, MediaError, "media_upload_failed", False),
        (132068, FlowError, "flow_blocked", False),
        (131042, AccountError, "payment_issue", False),
        (2, ServerError, "service_unavailable", True),
        (131000, ServerError, "internal_error", True),
        (133004, ServerError, "server_unavailable", True),
        (131057, ServerError, "account_maintenance", True),
    ],
)
def test_semantics_from_reference(code: int, cls: type[GraphError], kind: str, retryable: bool) -> None:
    err = error_from_response(400, {"error": {"code": code, "message": "m"}})
    assert type(err) is cls and err.kind == kind and err.retryable is retryable


def test_pair_rate_is_a_rate_limit_with_4_pow_x_backoff() -> None:
    err = error_from_response(400, {"error": {"code": 131056}})
    assert isinstance(err, PairRateLimitError) and isinstance(err, RateLimitError)
    assert err.retry_after_seconds == 1.0
    assert [err.backoff_seconds(x) for x in range(4)] == [1.0, 4.0, 16.0, 64.0]
    assert pair_rate_backoff_seconds(-3) == 1.0


@pytest.mark.parametrize(("code", "seconds"), [(131049, 86400.0), (131057, 60.0), (133015, 300.0)])
def test_retry_after_guidance(code: int, seconds: float) -> None:
    assert error_from_response(400, {"error": {"code": code}}).retry_after_seconds == seconds


def test_rate_limit_without_guidance_has_no_retry_after() -> None:
    assert error_from_response(400, REFERENCE_RATE_LIMIT).retry_after_seconds is None


def test_reference_sync_body_parsed_exactly() -> None:
    body = GraphErrorBody.parse(REFERENCE_RATE_LIMIT)
    assert body == GraphErrorBody(
        code=130429,
        message="(#130429) Rate limit hit",
        type="OAuthException",
        error_subcode=2494055,
        details="Cloud API message throughput has been reached.",
        fbtrace_id="Az8or2yhqkZfEZ-_4Qn_Bam",
    )
    err = error_from_response(400, REFERENCE_RATE_LIMIT)
    assert type(err) is RateLimitError and err.body == body and err.retryable is True
    assert "rate_limited" in str(err) and "130429" in str(err)


def test_reference_webhook_error_parsed_exactly() -> None:
    err = error_from_webhook(REFERENCE_FAILED_STATUS_ERROR)
    assert type(err) is RecipientError and err.kind == "ecosystem_engagement_limited" and err.retryable is False
    assert err.http_status is None
    assert err.body == GraphErrorBody(
        code=131049,
        message="This message was not delivered to maintain healthy ecosystem engagement.",
        title="This message was not delivered to maintain healthy ecosystem engagement.",
        details="In order to maintain a healthy ecosystem engagement, the message failed to be delivered.",
        href="/documentation/business-messaging/whatsapp/support/error-codes",
    )


def test_reference_template_wrapper_unknown_code_and_subcode() -> None:
    body = GraphErrorBody.parse({"error": REFERENCE_TEMPLATE_WRAPPER})
    assert body.code == 200002 and body.error_subcode == 2388109 and body.is_transient is False
    assert body.error_user_title == "Message Cannot Be Submitted"
    assert body.error_user_msg == "This message template cannot be created."
    err = error_from_response(400, {"error": REFERENCE_TEMPLATE_WRAPPER})
    assert type(err) is UnknownGraphError and err.kind == "unknown" and err.retryable is False


def test_known_family_subcode_wins_over_generic_code() -> None:
    err = error_from_response(400, {"error": {"code": 200002, "error_subcode": 2388293, "message": "x"}})
    assert type(err) is TemplateError and err.kind == "template_too_many_variables"
    # A subcode outside the 6.3 families does not override the code (130429 example carries 2494055).
    err = error_from_response(400, {"error": {"code": 131056, "error_subcode": 100}})
    assert type(err) is PairRateLimitError


def test_error_data_as_string() -> None:
    assert GraphErrorBody.parse({"error": {"code": 100, "error_data": "bad field"}}).details == "bad field"


def test_code_recovered_from_message_when_missing() -> None:
    err = error_from_response(400, {"error": {"message": "(#131047) Re-engagement message"}})
    assert err.kind == "re_engagement_window_closed" and err.code == 131047


def test_digit_string_code_accepted() -> None:
    assert error_from_response(400, {"error": {"code": "132015"}}).kind == "template_paused"


def test_unknown_code() -> None:
    err = error_from_response(400, {"error": {"code": 987654, "message": "(#987654) Something new"}})
    assert type(err) is UnknownGraphError and err.kind == "unknown" and err.retryable is False
    assert err.code == 987654 and err.body.message == "(#987654) Something new"
    hook = error_from_webhook({"code": 987654})
    assert type(hook) is UnknownGraphError and hook.retryable is False


GARBAGE: list[Any] = [
    None,
    "text",
    [],
    {},
    {"error": "x"},
    {"error": {"code": "abc"}},
    {"error": {"code": None}},
    {"error": {"code": True}},
    {"error": {"code": 1.5, "message": 7}},
    {"error": {}},
    {"error": {"code": 100, "error_data": 5, "error_subcode": "zz", "fbtrace_id": 1}},
    42,
    b"\xff",
    {"error": [1, 2]},
]


@pytest.mark.parametrize("payload", GARBAGE)
def test_garbage_never_raises(payload: Any) -> None:
    body = GraphErrorBody.parse(payload)
    assert isinstance(body, GraphErrorBody)
    err = error_from_response(400, payload)
    assert isinstance(err, GraphError)
    hook = error_from_webhook(payload)
    assert isinstance(hook, GraphError)


@pytest.mark.parametrize(
    "payload", [None, "text", [], {"error": "x"}, {"error": {"code": "abc"}}, {"error": {"code": True}}]
)
def test_garbage_is_malformed_unknown_not_auth(payload: Any) -> None:
    body = GraphErrorBody.parse(payload)
    assert body.malformed is True and body.code == 0 and body.message
    err = error_from_response(400, payload)
    # code 0 is AuthException in the reference: a garbage payload must not be mistaken for it.
    assert type(err) is UnknownGraphError and err.retryable is False


def test_garbage_message_describes_problem() -> None:
    assert "abc" in GraphErrorBody.parse({"error": {"code": "abc"}}).message
    assert "str" in GraphErrorBody.parse("text").message
    assert "'error'" in GraphErrorBody.parse({"foo": 1}).message


def test_partial_fields_tolerated() -> None:
    body = GraphErrorBody.parse({"error": {"code": 100, "fbtrace_id": 5, "error_data": {"details": 3}, "extra": 1}})
    assert body.code == 100 and body.fbtrace_id is None and body.details is None and body.malformed is False


@pytest.mark.parametrize("status", [500, 502, 503, 599])
@pytest.mark.parametrize("payload", [None, "<html>Bad Gateway</html>", {"error": {"code": 987654}}])
def test_5xx_fallback_is_retryable_server_error(status: int, payload: Any) -> None:
    err = error_from_response(status, payload)
    assert type(err) is ServerError and err.retryable is True and err.kind == "server_error"
    assert err.http_status == status


@pytest.mark.parametrize("payload", [None, {"error": {"code": 987654}}])
def test_429_fallback_is_rate_limit(payload: Any) -> None:
    err = error_from_response(429, payload)
    assert type(err) is RateLimitError and err.retryable is True and err.kind == "http_rate_limited"


@pytest.mark.parametrize("status", [400, 401, 404, 0, -1, 600])
def test_other_status_unknown_not_retryable(status: int) -> None:
    err = error_from_response(status, {"error": {"code": 987654}})
    assert type(err) is UnknownGraphError and err.retryable is False


def test_known_code_not_overridden_by_http_status() -> None:
    err = error_from_response(429, {"error": {"code": 132015}})
    assert type(err) is TemplateError and err.retryable is False


def test_exception_pickles_with_attributes() -> None:
    err = error_from_response(400, REFERENCE_RATE_LIMIT)
    clone = pickle.loads(pickle.dumps(err))
    assert type(clone) is RateLimitError
    assert (clone.kind, clone.retryable, clone.http_status, clone.body) == ("rate_limited", True, 400, err.body)


def test_raisable_and_catchable_by_family() -> None:
    with pytest.raises(RateLimitError) as caught:
        raise error_from_response(400, {"error": {"code": 131056}})
    assert caught.value.kind == "pair_rate_limited"
