"""Pure parts of the Graph client: response parsing, error mapping of recorded Meta bodies, transport failures and
garbage bodies (httpx.MockTransport, only for what the sandbox cannot produce), local checks before any HTTP.

The wire format of every call is tested against the sandbox over real HTTP in test_client_sandbox.py.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from softdukan.whatsapp.client import (
    GraphClient,
    GraphTransportError,
    MediaInfo,
    MediaValidationError,
    SentMessage,
    TemplateCreated,
    TemplatePage,
    UnexpectedResponseError,
    media_kind,
)
from softdukan.whatsapp.client.http import _decode, path_id
from softdukan.whatsapp.errors import (
    AuthError,
    GraphError,
    InvalidParameterError,
    PairRateLimitError,
    RateLimitError,
    ServerError,
    TemplateError,
    UnknownGraphError,
)
from softdukan.whatsapp.messages import MessageValidationError, TextMessage

BASE = "https://graph.example.test"


def client_with(handler: Callable[[httpx.Request], httpx.Response]) -> GraphClient:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return GraphClient(base_url=BASE, version="v24.0", access_token="tok", http=http)


def no_http(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"no HTTP call expected, got {request.method} {request.url}")


# --- response parsing -----------------------------------------------------------------------------
def test_sent_message_parses_reference_answer() -> None:
    sent = SentMessage.parse({
        "messaging_product": "whatsapp",
        "contacts": [{"input": "+16505551234", "wa_id": "16505551234"}],
        "messages": [{"id": "wamid.HBgLMTY0", "message_status": "accepted"}],
    })
    assert sent == SentMessage("wamid.HBgLMTY0", "16505551234", "+16505551234", "accepted")


def test_sent_message_without_contacts_or_status() -> None:
    assert SentMessage.parse({"messages": [{"id": "wamid.X"}]}) == SentMessage("wamid.X", None, None, None)


@pytest.mark.parametrize(
    "payload",
    [None, [], "ok", {}, {"messages": []}, {"messages": {}}, {"messages": ["wamid"]}, {"messages": [{"id": ""}]},
     {"messages": [{"id": None}]}],
)
def test_sent_message_garbage_raises_unexpected_response(payload: Any) -> None:
    with pytest.raises(UnexpectedResponseError) as exc:
        SentMessage.parse(payload)
    assert exc.value.retryable is False
    assert exc.value.kind == "unexpected_response"


def test_media_info_parses_string_file_size() -> None:
    info = MediaInfo.parse({"messaging_product": "whatsapp", "url": "https://x/y", "mime_type": "image/jpeg",
                            "sha256": "abc", "file_size": "61901", "id": "123"})
    assert info == MediaInfo("123", "https://x/y", "image/jpeg", "abc", 61901)
    assert MediaInfo.parse({"id": 7, "url": "https://x", "file_size": 10}).id == "7"
    assert MediaInfo.parse({"id": "7", "url": "https://x", "file_size": "big"}).file_size is None
    with pytest.raises(UnexpectedResponseError):
        MediaInfo.parse({"id": "7"})


def test_template_created_parses() -> None:
    assert TemplateCreated.parse({"id": "594425479261596", "status": "PENDING", "category": "MARKETING"}) == (
        TemplateCreated("594425479261596", "PENDING", "MARKETING")
    )
    with pytest.raises(UnexpectedResponseError):
        TemplateCreated.parse({"id": "1"})


def test_template_page_follows_next_only() -> None:
    more = {"data": [{"name": "a"}], "paging": {"cursors": {"before": "B", "after": "A1"}, "next": "https://n"}}
    assert TemplatePage.parse(more) == TemplatePage([{"name": "a"}], "A1")
    last = {"data": [{"name": "b"}], "paging": {"cursors": {"before": "B", "after": "A2"}}}
    assert TemplatePage.parse(last) == TemplatePage([{"name": "b"}], None)
    assert TemplatePage.parse({"data": []}) == TemplatePage([], None)
    bad: Any
    for bad in ({}, {"data": "x"}, {"data": [1]}, []):
        with pytest.raises(UnexpectedResponseError):
            TemplatePage.parse(bad)


# --- error mapping of recorded Meta bodies (reference §6.1) ----------------------------------------------
RATE_LIMIT = {"error": {"message": "(#130429) Rate limit hit", "type": "OAuthException", "code": 130429,
                        "error_data": {"messaging_product": "whatsapp",
                                       "details": "Cloud API message throughput has been reached."},
                        "error_subcode": 2494055, "fbtrace_id": "Az8or2yhqkZfEZ-_4Qn_Bam"}}
TEMPLATE_MISSING = {"error": {"message": "(#132001) Template name does not exist in the translation",
                              "type": "OAuthException", "code": 132001,
                              "error_data": {"messaging_product": "whatsapp",
                                             "details": "template name (hello) does not exist in en_US"},
                              "fbtrace_id": "A1"}}
TOKEN_EXPIRED = {"error": {"message": "Error validating access token: Session has expired", "type": "OAuthException",
                           "code": 190, "error_subcode": 463, "fbtrace_id": "A2"}}
PAIR_RATE = {"error": {"message": "(#131056) (Business Account, Consumer Account) pair rate limit hit",
                       "type": "OAuthException", "code": 131056, "fbtrace_id": "A3"}}
BAD_PARAM_STRING_DATA = {"error": {"message": "(#100) Invalid parameter", "type": "OAuthException", "code": 100,
                                   "error_data": "Param to must be a phone number", "fbtrace_id": "A4"}}
TEMPLATE_CREATE = {"error": {"message": "HSM Template creation failed", "code": 200002, "error_subcode": 2388299,
                             "error_user_title": "Variables can't be at the start or end",
                             "error_user_msg": "This message template cannot be created.", "is_transient": False}}


@pytest.mark.parametrize(
    ("status", "body", "cls", "code", "retryable"),
    [
        (400, RATE_LIMIT, RateLimitError, 130429, True),
        (404, TEMPLATE_MISSING, TemplateError, 132001, False),
        (401, TOKEN_EXPIRED, AuthError, 190, False),
        (400, PAIR_RATE, PairRateLimitError, 131056, True),
        (400, BAD_PARAM_STRING_DATA, InvalidParameterError, 100, False),
        (400, TEMPLATE_CREATE, TemplateError, 200002, False),
        (500, {"error": {"message": "weird", "code": 999999}}, ServerError, 999999, True),
        (400, {"error": {"message": "weird", "code": 999999}}, UnknownGraphError, 999999, False),
    ],
)
def test_graph_error_bodies_map_to_typed_errors(
    status: int, body: dict[str, Any], cls: type[GraphError], code: int, retryable: bool
) -> None:
    with pytest.raises(cls) as exc:
        _decode(httpx.Response(status, json=body))
    assert exc.value.code == code
    assert exc.value.retryable is retryable
    assert exc.value.http_status == status


def test_error_details_survive() -> None:
    with pytest.raises(GraphError) as exc:
        _decode(httpx.Response(400, json=BAD_PARAM_STRING_DATA))
    assert exc.value.body.details == "Param to must be a phone number"
    assert exc.value.body.fbtrace_id == "A4"


@pytest.mark.parametrize(
    ("status", "content", "cls", "retryable"),
    [
        (502, b"<html><body>Bad Gateway</body></html>", ServerError, True),
        (503, b"", ServerError, True),
        (429, b"slow down", RateLimitError, True),
        (404, b"Not Found", UnknownGraphError, False),
        (400, b'{"message": "no error key"}', UnknownGraphError, False),
        (400, b'["a list"]', UnknownGraphError, False),
        (400, b"\xff\xfe\x00garbage", UnknownGraphError, False),
    ],
)
def test_non_graph_error_bodies_raise_clear_errors(
    status: int, content: bytes, cls: type[GraphError], retryable: bool
) -> None:
    with pytest.raises(cls) as exc:
        _decode(httpx.Response(status, content=content))
    assert exc.value.retryable is retryable
    assert exc.value.body.malformed
    assert f"HTTP {status} without a Graph error body" in str(exc.value)


@pytest.mark.parametrize("content", [b"", b"<html>ok</html>", b"\xff\xfe", b"{trunc"])
def test_2xx_without_json_is_unexpected_response(content: bytes) -> None:
    with pytest.raises(UnexpectedResponseError) as exc:
        _decode(httpx.Response(200, content=content))
    assert "expected JSON" in str(exc.value)


def test_errors_pickle_for_the_job_queue() -> None:
    for err in (GraphTransportError("boom", timeout=True), UnexpectedResponseError(200, "odd")):
        again = pickle.loads(pickle.dumps(err))
        assert type(again) is type(err)
        assert again.retryable is err.retryable
        assert again.kind == err.kind
        assert str(again) == str(err)


# --- transport failures and garbage over a MockTransport ------------------------------------------------------
async def test_connect_error_is_retryable_transport_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async with client_with(refuse) as client:
        with pytest.raises(GraphTransportError) as exc:
            await client.send("106540352242922", TextMessage("hi"), to="919812345678")
    assert exc.value.retryable is True
    assert exc.value.kind == "transport_error"
    assert exc.value.timeout is False
    assert "ConnectError" in str(exc.value)


async def test_timeout_is_retryable_and_redacts_query() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("read timed out", request=request)

    async with client_with(slow) as client:
        with pytest.raises(GraphTransportError) as exc:
            await client.exchange_code("app", "very-secret", "the-code")
    assert exc.value.retryable and exc.value.timeout and exc.value.kind == "timeout"
    assert "very-secret" not in str(exc.value) and "the-code" not in str(exc.value)


@pytest.mark.parametrize(
    ("status", "content"),
    [(200, b"<html>captive portal</html>"), (200, b'{"messages": []}'), (200, b"[]"), (200, b"")],
)
async def test_garbage_2xx_on_send_is_unexpected_response(status: int, content: bytes) -> None:
    async with client_with(lambda r: httpx.Response(status, content=content)) as client:
        with pytest.raises(UnexpectedResponseError):
            await client.send("106540352242922", TextMessage("hi"), to="919812345678")


async def test_success_false_is_unexpected_response() -> None:
    async with client_with(lambda r: httpx.Response(200, json={"success": False})) as client:
        with pytest.raises(UnexpectedResponseError):
            await client.mark_read("106540352242922", "wamid.X")
        with pytest.raises(UnexpectedResponseError):
            await client.delete_media("123")


async def test_download_stale_url_and_oversize() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/stale":
            return httpx.Response(404, content=b"gone")
        assert request.headers["Authorization"] == "Bearer tok"
        return httpx.Response(200, content=b"x" * 2048)

    async with client_with(handler) as client:
        with pytest.raises(UnknownGraphError) as exc:
            await client.download_media(f"{BASE}/stale")
        assert exc.value.http_status == 404
        assert await client.download_media(f"{BASE}/ok") == b"x" * 2048
        with pytest.raises(UnexpectedResponseError):
            await client.download_media(f"{BASE}/ok", max_bytes=1024)
        with pytest.raises(ValueError):
            await client.download_media("file:///etc/passwd")


async def test_iter_templates_stops_on_a_repeated_cursor() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(200, json={"data": [{"name": f"t{calls}"}],
                                         "paging": {"cursors": {"after": "SAME"}, "next": "https://n"}})

    async with client_with(handler) as client:
        names = [t["name"] async for t in client.iter_templates("1")]
    assert names == ["t1", "t2"] and calls == 2


# --- local checks: nothing goes over the wire --------------------------------------------------------------------
@pytest.mark.parametrize("bad", ["", "../1", "1/messages", "1?x=1", "..", "a b", None, True, "x" * 257])
def test_path_ids_cannot_change_the_path(bad: Any) -> None:
    with pytest.raises(ValueError):
        path_id(bad, "phone_number_id")


async def test_local_checks_happen_before_http() -> None:
    async with client_with(no_http) as client:
        with pytest.raises(MessageValidationError):
            await client.send("1", TextMessage("hi"), to="+91 98123")
        with pytest.raises(MessageValidationError):
            await client.send("1", {"type": "text"}, to="919812345678")  # type: ignore[arg-type]
        with pytest.raises(ValueError):
            await client.send("../other", TextMessage("hi"), to="919812345678")
        with pytest.raises(MessageValidationError):
            await client.mark_read("1", "")
        with pytest.raises(MediaValidationError):
            await client.upload_media("1", b"x" * (5 * 1024 * 1024 + 1), "image/jpeg", "a.jpg")
        with pytest.raises(MediaValidationError):
            await client.upload_media("1", b"GIF89a", "image/gif", "a.gif")
        with pytest.raises(MediaValidationError):
            await client.upload_media("1", b"%PDF", "application/pdf", "../a.pdf")
        with pytest.raises(MediaValidationError):
            await client.upload_media("1", b"%PDF", "application/pdf", "a.pdf", ttl_minutes=0)
        with pytest.raises(ValueError):
            await client.register("1", "12345")
        with pytest.raises(ValueError):
            await client.register("1", "123456", region="US")
        with pytest.raises(ValueError):
            await client.set_two_step_pin("1", "abcdef")
        with pytest.raises(ValueError):
            await client.add_phone_number("1", cc="+91", phone_number="9812345678", verified_name="Shop")
        with pytest.raises(ValueError):
            await client.request_code("1", method="EMAIL")  # type: ignore[arg-type]
        with pytest.raises(ValueError):
            await client.create_template("1", name="a", language="en", category="PROMO", components=[])
        with pytest.raises(ValueError):
            await client.edit_template("1")
        with pytest.raises(ValueError):
            await client.subscribe_app("1", override_callback_uri="https://x/cb")
        with pytest.raises(ValueError):
            await client.request_sync("1", sync_type="everything")  # type: ignore[arg-type]
        with pytest.raises(ValueError):
            await client.list_templates("1", limit=0)


def test_client_configuration_is_checked() -> None:
    with pytest.raises(ValueError):
        GraphClient(base_url="graph.facebook.com", version="v24.0", access_token="t")
    with pytest.raises(ValueError):
        GraphClient(base_url="https://graph.facebook.com", version="24", access_token="t")
    c = GraphClient(base_url="https://graph.facebook.com/", version="v24.0", access_token="t")
    assert c.url("123/messages") == "https://graph.facebook.com/v24.0/123/messages"


# --- §7.6 media limits ---------------------------------------------------------------------------------------------
MB = 1024 * 1024


@pytest.mark.parametrize(
    ("mime", "limit"),
    [
        ("audio/aac", 16 * MB), ("audio/amr", 16 * MB), ("audio/mpeg", 16 * MB), ("audio/mp4", 16 * MB),
        ("audio/ogg; codecs=opus", 16 * MB), ("text/plain", 100 * MB), ("application/pdf", 100 * MB),
        ("application/vnd.ms-excel", 100 * MB), ("application/msword", 100 * MB),
        ("application/vnd.ms-powerpoint", 100 * MB),
        ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", 100 * MB),
        ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", 100 * MB),
        ("application/vnd.openxmlformats-officedocument.presentationml.presentation", 100 * MB),
        ("image/jpeg", 5 * MB), ("IMAGE/PNG", 5 * MB), ("video/mp4", 16 * MB), ("video/3gpp", 16 * MB),
        ("image/webp", 100 * 1024),
    ],
)
def test_media_size_limits(mime: str, limit: int) -> None:
    assert media_kind(mime, b"x" * limit).max_bytes == limit
    with pytest.raises(MediaValidationError) as exc:
        media_kind(mime, b"x" * (limit + 1))
    assert "at most" in str(exc.value)


def test_animated_webp_sticker_allows_500_kb() -> None:
    header = b"RIFF" + b"\x00" * 4 + b"WEBPVP8X" + b"\x00" * 4 + bytes([0x02]) + b"\x00" * 11
    assert media_kind("image/webp", header + b"x" * (300 * 1024)).max_bytes == 500 * 1024
    with pytest.raises(MediaValidationError):
        media_kind("image/webp", header + b"x" * (500 * 1024))


@pytest.mark.parametrize("mime", ["image/gif", "video/quicktime", "application/zip", "", "audio/wav"])
def test_unsupported_media_types(mime: str) -> None:
    with pytest.raises(MediaValidationError):
        media_kind(mime, b"x")


def test_empty_file_rejected() -> None:
    with pytest.raises(MediaValidationError, match="empty"):
        media_kind("image/png", b"")


def test_error_details_are_in_the_message() -> None:
    with pytest.raises(GraphError) as exc:
        _decode(httpx.Response(400, json=BAD_PARAM_STRING_DATA))
    assert str(exc.value).endswith("[Param to must be a phone number]")
    with pytest.raises(GraphError) as plain:
        _decode(httpx.Response(400, json={"error": {"message": "(#100) Invalid parameter", "code": 100}}))
    assert "[" not in str(plain.value)
