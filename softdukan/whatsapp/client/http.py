"""Transport of the Graph API client: URLs, Bearer auth, JSON decoding and error mapping. No retries: the caller
(usually a job) decides, using ``GraphError.retryable``.

Every failure raises a :class:`~softdukan.whatsapp.errors.GraphError`:
* a Graph error body (any non-2xx) → the typed error of ``error_from_response`` (reference §6);
* a network failure or timeout → :class:`GraphTransportError` (retryable);
* a 2xx body that is not the JSON we expect → :class:`UnexpectedResponseError` (not retryable).
"""

from __future__ import annotations

import functools
import re
import ssl
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self

import httpx

from softdukan.whatsapp.errors import GraphError, GraphErrorBody, error_from_response

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
_SAFE_ID = re.compile(r"[A-Za-z0-9_.\-]{1,256}")
_VERSION = re.compile(r"v\d{1,3}\.\d{1,3}")
_BODY_EXCERPT = 200


class GraphTransportError(GraphError):
    """The request never got a Graph answer: connection refused, DNS, TLS, timeout. Safe to retry later."""

    def __init__(self, message: str, *, timeout: bool = False) -> None:
        super().__init__(
            None,
            GraphErrorBody(message=message, malformed=True),
            kind="timeout" if timeout else "transport_error",
            retryable=True,
            meaning="WhatsApp could not be reached; the request will be tried again.",
        )
        self.timeout = timeout

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_transport, (self.body.message, self.timeout))


def _rebuild_transport(message: str, timeout: bool) -> GraphTransportError:
    return GraphTransportError(message, timeout=timeout)


class UnexpectedResponseError(GraphError):
    """Graph answered 2xx, but not with the JSON shape this call expects (never a KeyError)."""

    def __init__(self, http_status: int | None, message: str) -> None:
        super().__init__(
            http_status,
            GraphErrorBody(message=message, malformed=True),
            kind="unexpected_response",
            retryable=False,
            meaning="WhatsApp sent an answer this app does not understand.",
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (UnexpectedResponseError, (self.http_status, self.body.message))


def path_id(value: object, what: str) -> str:
    """An id that goes into a URL path: never lets a caller's value change the path (``/``, ``?``, ``..``)."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not _SAFE_ID.fullmatch(value) or value in (".", ".."):
        raise ValueError(f"{what} must be a Graph id (letters, digits, '_', '-', '.'); got {value!r:.60}")
    return value


def _excerpt(response: httpx.Response) -> str:
    try:
        text = response.text
    except Exception:  # undecodable bytes
        text = repr(response.content[:_BODY_EXCERPT])
    text = " ".join(text.split())
    return text[:_BODY_EXCERPT] + ("…" if len(text) > _BODY_EXCERPT else "")


def _decode(response: httpx.Response) -> Any:
    """The JSON body, or raise the mapped error. 2xx with a non-JSON body → UnexpectedResponseError."""
    status = response.status_code
    try:
        payload: Any = response.json()
        decoded = True
    except ValueError:  # json.JSONDecodeError and UnicodeDecodeError are ValueErrors
        payload, decoded = None, False
    if not 200 <= status < 300:
        if not decoded or not isinstance(payload, dict) or "error" not in payload:
            # Not a Graph error body (proxy page, HTML 502, …): keep what it said for the logs.
            error = error_from_response(status, payload)
            error.body = GraphErrorBody(
                message=f"HTTP {status} without a Graph error body: {_excerpt(response) or '<empty>'}",
                malformed=True,
            )
            error.args = (f"{error.kind} (HTTP {status}): {error.body.message}",)
            raise error
        error = error_from_response(status, payload)
        if error.body.details and error.body.details not in str(error):
            error.args = (f"{error} [{error.body.details[:_BODY_EXCERPT]}]",)  # Meta's message alone is often vague
        raise error
    if not decoded:
        raise UnexpectedResponseError(status, f"expected JSON, got: {_excerpt(response) or '<empty body>'}")
    return payload


def expect_object(payload: Any, status: int | None = 200) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise UnexpectedResponseError(status, f"expected a JSON object, got {type(payload).__name__}")
    return payload


def expect_success(payload: Any) -> None:
    """``{"success": true}`` answers (§3.12, §4, §9, §10)."""
    body = expect_object(payload)
    if body.get("success") is not True:
        raise UnexpectedResponseError(200, f"expected {{'success': true}}, got {str(body)[:_BODY_EXCERPT]}")


def expect_str(body: Mapping[str, Any], key: str) -> str:
    value = body.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value:
        raise UnexpectedResponseError(200, f"expected a non-empty string {key!r} in {str(body)[:_BODY_EXCERPT]}")
    return value


@functools.cache
def ssl_context() -> ssl.SSLContext:
    """One TLS context per process: building one (loading the CA bundle) costs ~30 ms of CPU, and a client is made
    per send job and per broadcast lane."""
    return httpx.create_ssl_context()


class GraphBase:
    """One instance per access token (one WhatsApp account or phone number). Use ``async with`` or ``aclose()``.

    ``base_url`` is the Graph root without version (``settings.graph_url``), ``version`` is e.g. ``"v24.0"``.
    Pass ``http`` to share a connection pool; the client then does not close it.
    """

    def __init__(
        self,
        *,
        base_url: str,
        version: str,
        access_token: str | None,
        http: httpx.AsyncClient | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
    ) -> None:
        if not isinstance(base_url, str) or not re.match(r"^https?://", base_url):
            raise ValueError(f"base_url must be an http(s) URL, got {base_url!r:.80}")
        if not isinstance(version, str) or not _VERSION.fullmatch(version):
            raise ValueError(f"version must look like 'v24.0', got {version!r:.20}")
        self.base_url = base_url.rstrip("/")
        self.version = version
        self._token = access_token
        self._owns_http = http is None
        self._http = http if http is not None else httpx.AsyncClient(timeout=timeout, verify=ssl_context())
        self._timeout = timeout

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    def url(self, path: str) -> str:
        return f"{self.base_url}/{self.version}/{path.lstrip('/')}"

    def _headers(self, *, auth: bool = True) -> dict[str, str]:
        if auth and self._token:
            return {"Authorization": f"Bearer {self._token}"}
        return {}

    async def _send(self, method: str, url: str, *, auth: bool = True, headers: Mapping[str, str] | None = None,
                    **kwargs: Any) -> httpx.Response:
        """``headers`` are added to (or replace) the Bearer header: the upload API wants ``Authorization: OAuth``."""
        try:
            return await self._http.request(
                method, url, headers={**self._headers(auth=auth), **(headers or {})}, timeout=self._timeout, **kwargs
            )
        except httpx.TimeoutException as exc:
            raise GraphTransportError(f"{method} {_redact(url)} timed out: {type(exc).__name__}", timeout=True) from exc
        except httpx.HTTPError as exc:  # connect errors, protocol errors, bad URLs
            raise GraphTransportError(f"{method} {_redact(url)} failed: {type(exc).__name__}: {exc}"[:300]) from exc

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        files: Mapping[str, Any] | None = None,
        auth: bool = True,
    ) -> Any:
        """Call ``{base}/{version}/{path}``; return the decoded JSON body or raise a GraphError."""
        kwargs: dict[str, Any] = {}
        if params:
            kwargs["params"] = {k: _param(v) for k, v in params.items() if v is not None}
        if json is not None:
            kwargs["json"] = json
        if data is not None:
            kwargs["data"] = dict(data)
        if files is not None:
            kwargs["files"] = dict(files)
        response = await self._send(method, self.url(path), auth=auth, **kwargs)
        return _decode(response)


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def _redact(url: str) -> str:
    """URLs in error messages never carry query strings (codes, secrets)."""
    return url.split("?", 1)[0]
